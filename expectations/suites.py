"""Insyn's Great Expectations suites, as code (GX Core 1.x).

`insyn check` runs them inside DuckDB (src/insyn/gx_runner.py): each suite is
validated against one query asset; `{batch}` in an UnexpectedRowsExpectation is
that asset. Quality suites look at the exports a rule judges (the latest on or
before the as-of date); the compliance suite has one named expectation per rule
id, with the rule id, severity and legal reference in its meta, taken from
pipelines/rules/_models.yml (one place per rule; ids from insyn.findings), and
its English title (locale/en/LC_MESSAGES/rules.po) as the description. A rule
not evaluated (its sources never loaded) has its expectation set aside.
"""

from __future__ import annotations

import re

import great_expectations.expectations as gxe

# A practical e-mail syntax: one @, no spaces, a dot in the domain.
EMAIL_SYNTAX = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

# The columns whose unexpected values the Data Docs show in full: ids, codes and dates, never a person's
# e-mail, name, phone or IP address. The values of any other column are abbreviated there ("a…@example.se",
# "81.224.x.x", an initial): the Data Docs go out in every audit pack (src/insyn/gx_runner.py).
SHOWN_IN_FULL = frozenset({
    "record_id", "activity_id", "opportunity_contact_role_id", "request_id", "event_id", "subprocessor_name",
    "contact_origin", "request_type", "has_unreadable_date", "transfer_mechanism", "country_iso2",
    "created_at", "occurred_at",
})


def _latest(table: str, source: str) -> str:
    """A snapshot table restricted to the export its rules judge (names from
    this file only: GX queries take no parameters, and no value is ever formatted in)."""
    return (f"select t.* from staging.{table} t join marts.int_latest_exports l "
            f"on l.source = '{source}' and t.exported_at = l.exported_at")


def _quality(check: str, expectation, severity: str = "medium"):
    expectation.meta = {**(expectation.meta or {}), "check": check, "severity": severity}
    return expectation


# A suite's `needs`: the source kinds it looks at (an item that is a list: any one of them). A suite
# whose needs were never loaded is not run and is reported as not evaluated (src/insyn/gx_runner.py),
# never as passed; the rejected lines of whatever was loaded need nothing.
CRM = ["salesforce.contact", "salesforce.lead"]


def quality_suites(policy) -> list[dict]:
    """Data quality over the staging tables (not compliance findings, reported beside them)."""
    return [
        {
            "name": "quality.crm_records",
            "needs": [CRM],
            "query": "select * from marts.dim_crm_records",
            "expectations": [
                _quality("unique_ids", gxe.ExpectColumnValuesToBeUnique(column="record_id"), "high"),
                _quality("blank_email", gxe.ExpectColumnValuesToNotBeNull(column="email_key")),
                _quality("invalid_email_syntax", gxe.ExpectColumnValuesToMatchRegex(column="email_key", regex=EMAIL_SYNTAX)),
                _quality("unparseable_date", gxe.ExpectColumnValuesToNotBeNull(column="created_at")),
                _quality("unclassified_lead_source",
                         gxe.ExpectColumnValuesToNotBeInSet(column="contact_origin", value_set=["unclassified"])),
                _quality("duplicate_email", gxe.UnexpectedRowsExpectation(
                    description="No e-mail address on more than one CRM record (case-insensitive)",
                    unexpected_rows_query="select * from {batch} where email_key in "
                                          "(select email_key from {batch} where email_key is not null "
                                          "group by email_key having count(*) > 1)")),
            ],
        },
        {
            "name": "quality.activities",
            "needs": [["salesforce.task", "salesforce.event"]],
            "query": (
                "select 'salesforce.task' as source, task_id as activity_id, who_key from ("
                + _latest("stg_salesforce__tasks", "salesforce.task") + ") "
                "union all select 'salesforce.event', event_id, who_key from ("
                + _latest("stg_salesforce__events", "salesforce.event") + ")"),
            "expectations": [
                _quality("unique_ids", gxe.ExpectColumnValuesToBeUnique(column="activity_id"), "high"),
                _quality("referential_integrity", gxe.UnexpectedRowsExpectation(
                    description="Every Task and Event WhoId points at a Contact or Lead in the same export",
                    unexpected_rows_query=(
                        "select * from {batch} where who_key is not null and who_key not in ("
                        "select contact_key from (" + _latest("stg_salesforce__contacts", "salesforce.contact") + ") c "
                        "union all select lead_key from (" + _latest("stg_salesforce__leads", "salesforce.lead") + ") l)"))),
            ],
        },
        {
            "name": "quality.opportunity_contact_roles",
            "needs": ["salesforce.opportunitycontactrole"],
            "query": _latest("stg_salesforce__opportunity_contact_roles", "salesforce.opportunitycontactrole"),
            "expectations": [
                _quality("unique_ids", gxe.ExpectColumnValuesToBeUnique(column="opportunity_contact_role_id"), "high"),
                _quality("referential_integrity", gxe.UnexpectedRowsExpectation(
                    description="Every OpportunityContactRole points at a Contact and an Opportunity in the same export",
                    unexpected_rows_query=(
                        "select * from {batch} where contact_key not in (select contact_key from ("
                        + _latest("stg_salesforce__contacts", "salesforce.contact") + ") c) "
                        "or opportunity_key not in (select opportunity_key from ("
                        + _latest("stg_salesforce__opportunities", "salesforce.opportunity") + ") o)"))),
            ],
        },
        {
            "name": "quality.register_requests",
            "needs": ["register.requests"],
            "query": _latest("stg_register__requests", "register.requests"),
            "expectations": [
                _quality("required_fields", gxe.ExpectColumnValuesToNotBeNull(column="request_id"), "high"),
                _quality("unique_ids", gxe.ExpectColumnValuesToBeUnique(column="request_id"), "high"),
                _quality("unparseable_date", gxe.ExpectColumnValuesToBeInSet(column="has_unreadable_date", value_set=[False])),
                _quality("unknown_request_type",
                         gxe.ExpectColumnValuesToNotBeInSet(column="request_type", value_set=["unknown"])),
                _quality("blank_email", gxe.ExpectColumnValuesToNotBeNull(column="email_key")),
                _quality("invalid_email_syntax", gxe.ExpectColumnValuesToMatchRegex(column="email_key", regex=EMAIL_SYNTAX)),
            ],
        },
        {
            "name": "quality.subprocessors",
            "needs": ["register.subprocessors"],
            "query": _latest("stg_register__subprocessors", "register.subprocessors"),
            "expectations": [
                _quality("unique_ids", gxe.ExpectColumnValuesToBeUnique(column="subprocessor_name"), "high"),
                _quality("known_transfer_mechanism", gxe.ExpectColumnValuesToBeInSet(
                    column="transfer_mechanism", value_set=list(policy.transfer["mechanisms"]))),
                _quality("country_code", gxe.ExpectColumnValuesToMatchRegex(column="country_iso2", regex=r"^[A-Z]{2}$")),
                _quality("unparseable_date",
                         gxe.ExpectColumnValuesToBeInSet(column="has_unreadable_date", value_set=[False])),
            ],
        },
        {
            "name": "quality.email_events",
            "needs": ["esp.events"],
            "query": "select * from staging.stg_esp__events",
            "expectations": [
                _quality("required_fields", gxe.ExpectColumnValuesToNotBeNull(column="event_id")),
                _quality("blank_email", gxe.ExpectColumnValuesToNotBeNull(column="email_key")),
                _quality("unparseable_date", gxe.ExpectColumnValuesToNotBeNull(column="occurred_at")),
            ],
        },
        {
            "name": "quality.rejected_lines",
            "query": "select r.file_id, f.file, r.line_no, r.reason from audit.rejected_lines r "
                     "join audit.files f using (file_id)",
            "expectations": [
                _quality("rows_failed_to_parse", gxe.UnexpectedRowsExpectation(
                    description="Every line of every loaded file parsed (junk log lines are quarantined)",
                    unexpected_rows_query="select * from {batch}"), "low"),
            ],
        },
    ]


def _class_name(rule: str) -> str:
    words = re.split(r"[._]", rule)
    return "ExpectNo" + "".join(w.capitalize() for w in words) + "Findings"


def compliance_suite(rules: list[dict]) -> dict:
    """One named expectation per rule id: its rule model must return no rows at
    the as-of date the warehouse was built for (the batch is params.run)."""
    expectations = []
    for rule in rules:
        named = type(_class_name(rule["rule"]), (gxe.UnexpectedRowsExpectation,),
                     {"__doc__": rule.get("title_en") or rule["rule"]})
        expectations.append(named(
            # a rule's own "could not judge" rows (e.g. a field not exported) are not findings
            unexpected_rows_query=(f"select findings.* from rules.{rule['table']} findings cross join {{batch}} "
                                   "where findings.detail_id not like '%.not_evaluated'"),
            description=rule.get("title_en") or rule["rule"],
            meta={"rule": rule["rule"], "severity": rule.get("severity"),
                  "legal_reference": rule.get("legal_reference")},
        ))
    return {"name": "compliance", "query": "select as_of from params.run", "expectations": expectations}
