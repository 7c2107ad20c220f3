"""The audit notebooks' content (insyn.report) and the two scheduled notebooks.

The numbers are checked on the demo warehouse (a copy, opened read-only)
against independent SQL and against the sample's expected findings; the
notebooks run in a real kernel under Papermill.
"""

from __future__ import annotations

import ast
import collections
import datetime as dt
import json
import random
import re
import shutil

import duckdb
import nbformat
import pandas as pd
import pytest

from insyn import masking, report
from insyn.queries import query

from helpers import EXPECTED, REPO

QUERIES = REPO / "pipelines" / "queries"
NOTEBOOKS = REPO / "notebooks" / "audit"
AS_OF = EXPECTED["as_of"]                        # 2026-11-24, the demo's own date
EXPECTED_PER_RULE = collections.Counter(f["rule"] for f in EXPECTED["findings"])


@pytest.fixture(scope="module")
def warehouse(request, tmp_path_factory):
    """A private copy of the warehouse `insyn demo` built for this test session (never the repository's own)."""
    wb, _ = request.getfixturevalue("demo")
    demo_db = wb / "data" / "demo" / "insyn.duckdb"
    copy = tmp_path_factory.mktemp("report") / "insyn.duckdb"
    shutil.copy(demo_db, copy)
    return copy


@pytest.fixture(scope="module")
def sql(warehouse):
    con = duckdb.connect(str(warehouse), read_only=True)

    def run(statement: str, params=None) -> list[tuple]:
        return con.execute(statement, params or {}).fetchall()

    yield run
    con.close()


@pytest.fixture(scope="module")
def yearly(warehouse):
    return {lang: report.YearlyReport.load(str(warehouse), str(QUERIES), 2026, AS_OF, lang) for lang in ("sv", "en")}


@pytest.fixture(scope="module")
def monthly(warehouse):
    return {lang: report.RetentionReview.load(str(warehouse), str(QUERIES), "2026-11", AS_OF, lang)
            for lang in ("sv", "en")}


def plain(markdown: str) -> str:
    """Markdown as a reader sees it: no inline HTML, no escapes."""
    return re.sub(r"\\(.)", r"\1", re.sub(r"<[^>]+>", "", markdown))


# ---------------------------------------------------------------- percentiles and small pieces

def test_percentile_is_the_nearest_rank():
    assert report.percentile([15, 20, 35, 40, 50], 90) == 50       # rank ceil(4.5) = 5
    assert report.percentile([15, 20, 35, 40, 50], 40) == 20       # rank ceil(2.0) = 2
    assert report.percentile([50, 15, 40, 20, 35], 50) == 35       # order does not matter
    assert report.percentile(range(1, 11), 90) == 9                # 90 % of ten values are at or below 9
    assert report.percentile(range(1, 11), 91) == 10
    assert report.percentile([7], 90) == 7
    assert report.percentile([3, None, float("nan"), 1], 100) == 3
    assert report.percentile([], 90) is None
    with pytest.raises(ValueError):
        report.percentile([1, 2], 0)


def test_median_averages_the_two_middle_values():
    assert report.median([1, 2, 3, 4]) == 2.5
    assert report.median([3, 1, 2]) == 2
    assert report.median([]) is None


def test_percentiles_agree_with_duckdb_on_random_samples():
    rng = random.Random(20261124)
    con = duckdb.connect()
    for _ in range(30):
        values = [rng.randint(0, 120) for _ in range(rng.randint(1, 40))]
        con.execute("create or replace temp table t as select unnest($v) as x", {"v": values})
        disc90, med = con.execute("select quantile_disc(x, 0.9), median(x) from t").fetchone()
        assert report.percentile(values, 90) == disc90
        assert report.median(values) == pytest.approx(float(med))


def test_request_year_stats_on_a_hand_made_year():
    frame = pd.DataFrame({
        "is_open": [False, False, False, False, True, True],
        "days_to_close": [10, 20, 31, 45, None, None],
        "deadline_status": ["met", "met", "met", "missed", "missed", "pending"],
        "policy_status": ["met", "met", "missed", "missed", "missed", "pending"],
        "has_extension_notice": [False, False, True, True, False, False],
        "has_valid_extension": [False, False, True, False, False, False],
    })
    s = report.request_year_stats(frame)
    assert (s["received"], s["closed"], s["open"]) == (6, 4, 2)
    assert (s["deadline_met"], s["deadline_missed"], s["deadline_pending"]) == (3, 2, 1)
    assert (s["policy_met"], s["policy_missed"]) == (2, 3)
    assert s["median_days"] == 25.5 and s["p90_days"] == 45
    assert (s["extensions"], s["valid_extensions"]) == (2, 1)
    empty = report.request_year_stats(frame.iloc[0:0])
    assert empty["received"] == 0 and empty["median_days"] is None


def test_formats_follow_the_language():
    assert report.fmt_num(15.5, "sv") == "15,5" and report.fmt_num(15.5, "en") == "15.5"
    assert report.fmt_int(1250, "sv") == "1\u00a0250" and report.fmt_int(1250, "en") == "1,250"
    assert report.fmt_pct(13, 15, "sv") == "13 av 15 (87\u00a0%)" and report.fmt_pct(13, 15, "en") == "13 of 15 (87%)"
    assert report.fmt_pct(0, 0, "en") == "–"


def test_addresses_are_shortened_and_tables_escaped():
    assert masking.mask_email(" Anna.Ek@example.se ") == "A…@example.se"
    assert masking.mask_email(None) == "–"
    table = report.md_table([["a|b", "x_y", "2026-01-02"]], ["h1", "h2", "h3"], "en")
    row = table.splitlines()[2]
    assert row.count(" | ") == 2 and r"a\|b" in row and r"x\_y" in row and "2026-01-02" in row
    many = report.md_table([[str(i)] for i in range(70)], ["n"], "sv", limit=60)
    assert "… och 10 rader till." in many and "| 60 |" not in many


def test_the_followup_query_tells_gone_from_present_and_from_not_yet_exported():
    """report_retention_followup on a few seeded rows: next export after the first flag, present means not deleted."""
    con = duckdb.connect()
    for schema in ("params", "audit", "staging"):
        con.execute(f"create schema {schema}")
    con.execute("create macro sfid15(x) as left(x, 15)")
    con.execute("create table params.run as select date '2026-03-31' as as_of")
    con.execute("create table audit.check_runs as select * from (values (1, date '2026-01-10'), (2, date '2026-02-10')) "
                "t(check_run_id, as_of)")
    con.execute("""create table audit.findings_history as select * from (values
        (1, date '2026-01-10', 'retention.inactive_company_initiated', '003000000000001AAA', 'salesforce.contact'),
        (1, date '2026-01-10', 'retention.inactive_company_initiated', '003000000000002AAA', 'salesforce.contact'),
        (2, date '2026-02-10', 'retention.inactive_company_initiated', '003000000000002AAA', 'salesforce.contact'),
        (2, date '2026-02-10', 'retention.inactive_company_initiated', '00Q000000000003AAA', 'salesforce.lead'),
        (2, date '2026-02-10', 'notice.first_mailing_missing', '003000000000009AAA', 'salesforce.contact')
        ) t(check_run_id, as_of, rule, record_id, source)""")
    con.execute("""create table audit.files as select * from (values
        ('salesforce.contact', timestamp '2026-01-10 06:00'), ('salesforce.contact', timestamp '2026-01-20 06:00'),
        ('salesforce.contact', timestamp '2026-02-20 06:00'), ('salesforce.contact', timestamp '2026-04-20 06:00'),
        ('salesforce.lead', timestamp '2026-01-10 06:00')) t(source, exported_at)""")
    con.execute("""create table staging.stg_salesforce__contacts as select * from (values
        ('003000000000001', false, timestamp '2026-01-10 06:00'),
        ('003000000000002', false, timestamp '2026-01-10 06:00'),
        ('003000000000002', false, timestamp '2026-01-20 06:00'),
        ('003000000000001', true, timestamp '2026-01-20 06:00'),
        ('003000000000002', false, timestamp '2026-02-20 06:00'),
        ('003000000000002', false, timestamp '2026-04-20 06:00')) t(contact_key, is_deleted, exported_at)""")
    con.execute("create table staging.stg_salesforce__leads as select * from (values "
                "('00Q000000000003', false, timestamp '2026-01-10 06:00')) t(lead_key, is_deleted, exported_at)")
    rows = {r["record_id"]: r for r in query(con, QUERIES, "report_retention_followup",
                                             from_on=None, to_on=None).to_dict("records")}
    assert set(rows) == {"003000000000001AAA", "003000000000002AAA", "00Q000000000003AAA"}
    gone = rows["003000000000001AAA"]            # flagged 01-10; the 01-20 export holds it deleted
    assert gone["is_gone_by_next_export"] is True and gone["is_gone_now"] is True
    assert gone["next_export_at"] == pd.Timestamp("2026-01-20 06:00")
    kept = rows["003000000000002AAA"]            # still there in 01-20 and in the latest (02-20; 04-20 is after as-of)
    assert kept["is_gone_by_next_export"] is False and kept["is_gone_now"] is False
    assert (kept["first_flagged_on"], kept["times_flagged"]) == (pd.Timestamp("2026-01-10"), 2)
    assert kept["latest_export_at"] == pd.Timestamp("2026-02-20 06:00")
    lead = rows["00Q000000000003AAA"]            # no lead export after it was flagged
    assert pd.isna(lead["next_export_at"]) and pd.isna(lead["is_gone_by_next_export"])
    only_january = query(con, QUERIES, "report_retention_followup", from_on=dt.date(2026, 1, 1),
                         to_on=dt.date(2026, 1, 31))
    assert sorted(only_january["record_id"]) == ["003000000000001AAA", "003000000000002AAA"]


# ---------------------------------------------------------------- the yearly report on the demo warehouse

def test_findings_per_rule_are_the_sample_s_expected_findings(yearly):
    r = yearly["en"]
    assert r.ok, r.problems
    assert dict(zip(r.data.rules["rule"], r.data.rules["findings"])) == {
        rule: EXPECTED_PER_RULE.get(rule, 0) for rule in r.data.rules["rule"]}
    assert set(EXPECTED_PER_RULE) <= set(r.data.rules["rule"])
    table = r.findings_table()
    assert table["Findings"].sum() == len(EXPECTED["findings"])
    assert list(table.columns) == ["Rule id", "Rule", "Severity", "Legal reference", "Findings", "Items"]


def test_requests_of_each_year_are_counted_from_the_register(yearly, sql):
    """Requests received in 2026 and 2025 in the latest register export, counted with SQL of its own."""
    counts = dict(sql("""
        select year(received_on), count(distinct request_id) from staging.stg_register__requests
        where exported_at = (select max(exported_at) from audit.files
                             where source = 'register.requests' and cast(exported_at as date) <= $as_of)
          and received_on <= $as_of
        group by 1""", {"as_of": dt.date.fromisoformat(AS_OF)}))
    r = yearly["en"]
    assert r.stats()["received"] == counts[2026] == 25
    assert r.previous_stats()["received"] == counts[2025] == 15
    table = r.requests_by_type_and_month()
    assert list(table.index) == list(range(1, 13)) and table["total"].sum() == 25
    by_type = dict(sql("select request_type, count(*) from marts.fct_dsar_requests where year(received_on) = 2026 "
                       "group by 1"))
    assert {t: int(table[t].sum()) for t in table.columns if t != "total"} == by_type


def test_deadlines_missed_per_year_are_the_rule_findings_of_that_year(yearly, sql):
    for year, stats in ((2026, yearly["en"].stats()), (2025, yearly["en"].previous_stats())):
        [(legal, policy)] = sql("""
            select count(distinct f.record_id) filter (where f.rule in ('dsar.legal_deadline_missed',
                                                                        'dsar.extended_deadline_missed')),
                   count(distinct f.record_id) filter (where f.rule = 'dsar.policy_target_missed')
            from audit.current_findings f
            join marts.fct_dsar_requests q on q.request_id = f.record_id
            where year(q.received_on) = $year""", {"year": year})
        assert stats["deadline_missed"] == legal
        assert stats["policy_missed"] == policy
        assert stats["deadline_met"] + stats["deadline_missed"] + stats["deadline_pending"] == stats["received"]
    assert yearly["en"].stats()["deadline_missed"] == 3 and yearly["en"].previous_stats()["deadline_missed"] == 2


def test_days_to_close_percentiles_match_duckdb(yearly, sql):
    for year, stats in ((2026, yearly["en"].stats()), (2025, yearly["en"].previous_stats())):
        [(med, p90, n)] = sql("""select median(closed_on - received_on), quantile_disc(closed_on - received_on, 0.9),
                                        count(*)
                                 from marts.fct_dsar_requests where closed_on is not null and year(received_on) = $y""",
                              {"y": year})
        assert stats["closed"] == n
        assert stats["median_days"] == pytest.approx(float(med)) and stats["p90_days"] == p90


def test_the_summary_shows_both_years_in_the_language(yearly):
    en, sv = yearly["en"].summary_markdown(), yearly["sv"].summary_markdown()
    assert "| Requests received | 25 | 15 |" in en
    assert "| Inkomna begäranden | 25 | 15 |" in sv
    assert "18 of 21 (86%)" in en and "18 av 21 (86\u00a0%)" in sv      # 4 still open and not yet due
    assert "DSAR-2026-024" in en                                         # its answered date cannot be read
    p = yearly["en"].params
    assert f"{p['dsar_policy_target_days']} days" in en
    assert "1 month from receipt" in en and "3 månader" in sv           # from params.run


def test_deadline_table_unrolls_and_rolls(yearly):
    table = yearly["en"].deadline_table().set_index("Request id")
    row = table.loc["DSAR-2026-002"]                     # one month = Saturday 2026-02-28, rolled to Monday
    assert (row["Legal deadline before moving"], row["Legal deadline"]) == ("2026-02-28", "2026-03-02")
    assert row["Against the deadline"] == "in time"
    assert table.loc["DSAR-2026-010", "Extension told"] == "2026-05-12 (too late)"
    assert table.loc["DSAR-2026-019", "Against the deadline"] == "late (open)"
    assert table.loc["DSAR-2026-015", "Extended deadline"] == "2026-11-03"
    section = plain(yearly["en"].deadline_section())
    assert "DSAR-2026-002: the deadline fell on 2026-02-28, not a working day, and moved to 2026-03-02." in section
    assert "DSAR-2026-006, DSAR-2026-010, DSAR-2026-015, DSAR-2026-019" in section


def test_sections_carry_the_demo_s_findings(yearly, sql):
    en = {name: plain(getattr(yearly["en"], name)()) for name in (
        "retention_section", "optout_section", "weblog_section", "transfers_section", "policy_text_section")}
    flagged = [f["record_id"] for f in EXPECTED["findings"] if f["rule"] == report.RETENTION_RULE]
    assert "**10** contacts and leads are due for deletion" in en["retention_section"]
    assert all(record in en["retention_section"] for record in flagged)
    assert "no later export yet" in en["retention_section"]        # the demo has no export after its check
    assert "**5** address(es)" in en["optout_section"] and "@tallkonsult.se" in en["optout_section"]
    assert "bengt.bergstrom@" not in en["optout_section"]           # addresses are shortened
    [(past,)] = sql("select sum(count) from audit.current_findings where rule = 'weblog.retention_exceeded'")
    assert f"**{past}** line(s)" in en["weblog_section"]
    assert "**4** without a valid transfer basis" in en["transfers_section"]
    assert "Salesforce, Inc." in en["transfers_section"] and "Privacy Shield was invalidated" in en["transfers_section"]
    assert "Privacy Shield" in en["policy_text_section"] and "overdue" in en["policy_text_section"]
    # the hash printed beside the policy text is the text's own, not policy.toml's
    text_sha = yearly["en"].params["policy_text_sha256"]
    assert text_sha in en["policy_text_section"] and yearly["en"].params["policy_sha256"] not in en["policy_text_section"]


def test_every_demo_detail_has_a_swedish_reading(yearly):
    """The rules' detail texts shown in the report and the transfer judgements all read in Swedish."""
    from insyn import findings

    shown = yearly["sv"].data.findings
    for row in shown.to_dict("records"):   # every rule now: each detail is a template of rules.po
        assert report.finding_detail(row, "sv") != row["detail"], row["detail"]
        assert report.finding_detail(row, "en") == row["detail"]
    for reason in yearly["sv"].data.subprocessors["invalid_reason"].dropna():
        assert findings.reason(reason, report.words("sv")) != reason, reason
        assert findings.reason(reason, report.words("en")) == reason


SECTIONS = ("title_markdown", "summary_markdown", "requests_section", "deadline_section", "retention_section",
            "optout_section", "weblog_section", "transfers_section", "policy_text_section", "findings_section",
            "provenance_markdown")


def test_swedish_and_english_headings_differ(yearly, monthly):
    for reports, names in ((yearly, SECTIONS), (monthly, ("title_markdown", "due_now_section", "coming_due_section",
                                                          "flagged_earlier_section", "first_notice_section",
                                                          "provenance_markdown"))):
        for name in names:
            sv, en = getattr(reports["sv"], name)(), getattr(reports["en"], name)()
            head_sv = [line for line in sv.splitlines() if line.startswith("#")]
            head_en = [line for line in en.splitlines() if line.startswith("#")]
            assert head_sv and head_en and head_sv != head_en, name
    assert yearly["sv"].title_markdown().startswith("# Årlig dataskyddsgranskning 2026")
    assert yearly["en"].title_markdown().startswith("# Yearly data protection audit 2026")
    assert yearly["sv"].figure_requests_by_month().layout.title.text == "Inkomna begäranden per månad, 2026"
    assert yearly["en"].figure_requests_by_month().layout.title.text == "Requests received per month, 2026"
    assert "Tillgång" in [t.name for t in yearly["sv"].figure_requests_by_month().data]


def test_figures_are_graph_objects_with_the_year_s_data(yearly):
    fig = yearly["en"].figure_requests_by_month()
    assert sum(sum(trace.y) for trace in fig.data) == 25
    rules = yearly["en"].figure_findings_by_rule()
    assert sum(sum(trace.x) for trace in rules.data) == len(EXPECTED["findings"])


def test_a_report_for_another_date_than_the_warehouse_s_is_not_ok(warehouse):
    r = report.YearlyReport.load(str(warehouse), str(QUERIES), 2025, "2025-12-31", "en")
    assert not r.ok
    assert "built for 2026-11-24, not for 2025-12-31" in r.problems[0]
    assert "cannot be relied on" in r.title_markdown()
    with pytest.raises(ValueError):
        report.YearlyReport.load(str(warehouse), str(QUERIES), 2026, AS_OF, "de")
    with pytest.raises(ValueError):
        report.RetentionReview.load(str(warehouse), str(QUERIES), "2026-13", AS_OF, "sv")
    assert not report.RetentionReview.load(str(warehouse), str(QUERIES), "2026-12", AS_OF, "sv").ok


def test_the_monthly_review_counts(monthly, sql):
    r = monthly["en"]
    assert r.ok, r.problems
    assert len(r.due_now()) == EXPECTED_PER_RULE[report.RETENTION_RULE]
    counts = r.coming_due_counts()
    for days in (30, 60, 90):
        [(n,)] = sql("select count(*) from (" + (QUERIES / "coming_due.sql").read_text() + ")", {"days": days})
        assert counts[days] == n
    assert counts[30] <= counts[60] <= counts[90]
    assert f"{counts[30]} within 30 days" in r.coming_due_section()
    assert "No check run before 2026-11-24 flagged a record" in r.flagged_earlier_section()
    notices = plain(r.first_notice_section())
    assert "late for **2** record(s)" in notices and "never sent to **4**" in notices


# ---------------------------------------------------------------- the notebooks

def _parameters(name: str) -> list[ast.stmt]:
    nb = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    [cell] = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert nb["metadata"]["kernelspec"]["name"] == "python3" and nb["nbformat"] == 4
    return ast.parse("".join(cell["source"])).body


@pytest.mark.parametrize("name, names", [
    ("10_yearly_audit.ipynb", ["audit_year", "as_of", "warehouse", "queries", "locale", "language", "run_id"]),
    ("20_monthly_retention_review.ipynb", ["review_month", "as_of", "warehouse", "queries", "locale", "language", "run_id"]),
])
def test_the_parameters_cell_holds_typed_literals_only(name, names):
    body = _parameters(name)
    assert [node.target.id for node in body] == names
    for node in body:
        assert isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Constant)
        assert isinstance(node.value.value, {"int": int, "str": str}[node.annotation.id])


@pytest.mark.parametrize("name", ["10_yearly_audit.ipynb", "20_monthly_retention_review.ipynb"])
def test_no_def_or_class_in_a_scheduled_notebook(name):
    nb = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            tree = ast.parse("".join(cell["source"]))
            assert not [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Lambda))]
            assert "select " not in "".join(cell["source"]).lower()


def _run(name: str, tmp_path, warehouse, **parameters) -> tuple[nbformat.NotebookNode, str, list[str]]:
    import papermill

    db = tmp_path / "insyn.duckdb"
    shutil.copy(warehouse, db)
    out = tmp_path / name
    papermill.execute_notebook(str(NOTEBOOKS / name), str(out), cwd=str(tmp_path), progress_bar=False,
                               parameters=dict(warehouse=str(db), queries=str(QUERIES), **parameters))
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    markdown = plain("\n".join(o.get("data", {}).get("text/markdown", "") for o in outputs))
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any("plotly" in h for h in html)                                  # plotly.js embedded ...
    assert not any('<script src="https://cdn.plot.ly' in h for h in html)    # ... not fetched from a CDN
    return nb, markdown, html


@pytest.mark.notebook
def test_the_yearly_notebook_runs_under_papermill(tmp_path, warehouse):
    nb, markdown, html = _run("10_yearly_audit.ipynb", tmp_path, warehouse, audit_year=2026, as_of=AS_OF,
                              language="en", run_id="pack-2026-test")
    assert "# Yearly data protection audit 2026" in markdown
    assert "| Requests received | 25 | 15 |" in markdown
    assert "DSAR-2026-019" in markdown and "retention.inactive_company_initiated" in markdown
    assert "pack-2026-test" in markdown
    assert any("Requests received per month, 2026" in h for h in html)
    assert any("Findings per rule at 2026-11-24" in h for h in html)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "audit_year = 2026" in injected[0].source


@pytest.mark.notebook
def test_the_monthly_notebook_runs_under_papermill(tmp_path, warehouse):
    _, markdown, html = _run("20_monthly_retention_review.ipynb", tmp_path, warehouse, review_month="2026-11",
                             as_of=AS_OF, language="sv")
    assert "# Månatlig genomgång av lagringstider, november 2026" in markdown
    flagged = [f["record_id"] for f in EXPECTED["findings"] if f["rule"] == report.RETENTION_RULE]
    assert all(record in markdown for record in flagged)
    assert "**10** ska raderas" in markdown
    title = "Företagsinitierade kontakter efter månader sedan senaste dialog"
    assert any(title in h or json.dumps(title)[1:-1] in h for h in html)      # the figure's JSON may escape å, ö
