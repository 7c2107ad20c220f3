"""Rule findings as facts: one shape for every rule, details and titles from the catalogs
(locale/*/LC_MESSAGES/rules.po), one function that fills a template, one rule id."""

import datetime as dt
import re

import pytest

from insyn import findings
from insyn.build import discover
from insyn.errors import InsynError
from insyn.texts import Catalog, locale_dir

from helpers import REPO

RULES = [m for m in discover(REPO / "pipelines") if m.layer == "rules"]


@pytest.fixture(scope="module")
def words():
    return {lang: Catalog.load(locale_dir(REPO), lang) for lang in ("en", "sv", "qps")}


def _detail_ids(model) -> set[str]:
    """The message ids a rule model can return, read from its SQL ('rule.<id>.<kind>' literals,
    and the legal deadline's kinds built from parts)."""
    found = set(re.findall(r"'(rule\.[a-z_.]+)'", model.sql))
    return {f for f in found if not f.endswith(".")}


def test_every_rule_returns_the_one_shape_of_facts(tmp_path):
    import duckdb

    from insyn.build import build
    from insyn.config import Policy
    from insyn.sources import Sources

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    build(con, pipelines=REPO / "pipelines", sources=Sources.load(REPO / "pipelines" / "sources.toml"),
          policy=Policy.load(REPO / "policy.toml"), as_of=dt.date(2026, 11, 24))
    for model in RULES:
        shape = con.execute("select column_name, data_type from duckdb_columns() where schema_name = 'rules' "
                            "and table_name = $t order by column_index", {"t": model.name}).fetchall()
        assert [c for c, _ in shape] == list(findings.RULE_COLUMNS), model.name
        types = dict(shape)
        assert {c: types[c] for c in findings.FACT_COLUMNS} == {
            c: findings.FACT_TYPES[c].upper() for c in findings.FACT_COLUMNS}, model.name
    # the titles come from the catalogs, by the id derived from the rule id
    titles = con.execute("select rule, title_id, title_en, title_sv from params.rules order by rule").fetchall()
    assert len(titles) == 17
    assert ("erasure.not_executed", "rule.erasure.not_executed.title",
            "Erased person still present in a later export", "Raderad person finns kvar i en senare export") in titles


def test_every_detail_id_and_title_has_words_in_both_languages(words):
    for model in RULES:
        rule = findings.rule_id(model.name)
        ids = _detail_ids(model) | {findings.title_id(rule)}
        if rule == "dsar.legal_deadline_missed":   # its kind is put together from parts in the SQL
            ids |= {f"rule.{rule}.{state}{rolled}{late}" for state in ("open", "closed")
                    for rolled in ("", "_rolled") for late in ("", "_late_extension")}
        for msgid in ids:
            assert msgid in words["en"] and msgid in words["sv"], msgid
            assert msgid.startswith(f"rule.{rule}."), msgid


def test_the_english_detail_is_the_template_filled_with_the_facts(words):
    row = {"detail_id": "rule.dsar.legal_deadline_missed.closed_rolled_late_extension",
           "first_date": dt.date(2026, 3, 3), "second_date": dt.date(2026, 3, 2), "third_date": dt.date(2026, 2, 28),
           "fourth_date": dt.date(2026, 3, 5)}
    assert findings.detail(row, words["en"]) == (
        "closed 2026-03-03 after the deadline 2026-03-02 (2026-02-28 rolled to a working day); "
        "extension told 2026-03-05, too late")
    assert findings.detail(row, words["sv"]) == (
        "avslutad 2026-03-03 efter tidsfristen 2026-03-02 (2026-02-28 flyttad till en arbetsdag); "
        "förlängning meddelad 2026-03-05, för sent")
    marked = findings.detail(row, words["qps"])
    assert marked.startswith("⟦") and marked.endswith("⟧") and "2026-03-03" in marked


def test_pandas_values_render_as_the_warehouse_writes_them(words):
    """A frame from a named query turns dates into timestamps and numbers into floats beside NaN."""
    import pandas as pd

    row = {"detail_id": "rule.weblog.retention_exceeded.kept", "first_number": 13.0,
           "first_time": pd.Timestamp("2025-10-23 22:00:00"), "first_date": pd.NaT}
    assert findings.detail(row, words["en"]) == "log lines kept past the 13-month horizon (2025-10-23 22:00:00 UTC)"
    row = {"detail_id": "rule.retention.inactive_company_initiated.never", "first_date": pd.NaT,
           "second_date": pd.Timestamp("2024-06-18")}
    assert findings.detail(row, words["sv"]) == "ingen dialog registrerad; skapad 2024-06-18"


@pytest.mark.parametrize("row, english, swedish", [
    ({"detail_id": "rule.optout.marketing_after_optout.delivered", "first_number": 1,
      "first_text": "FFoxbtGQpH4uqTNv1fmkap"},
     "1 marketing mailing(s) after opt-out: FFoxbtGQpH4uqTNv1fmkap",
     "1 marknadsföringsutskick efter avregistrering: FFoxbtGQpH4uqTNv1fmkap"),
    ({"detail_id": "rule.notice.first_mailing_late.late", "first_date": dt.date(2026, 5, 15), "first_number": 31,
      "second_date": dt.date(2026, 4, 14)},
     "first mailing 2026-05-15, 31 days after creation on 2026-04-14",
     "första utskicket 2026-05-15, 31 dagar efter att posten skapades 2026-04-14"),
    ({"detail_id": "rule.erasure.not_executed.still_present", "first_date": dt.date(2026, 7, 3),
      "first_text": "mailchimp.cleaned b811b0ffc1"},
     "erased 2026-07-03, still in: mailchimp.cleaned b811b0ffc1",
     "raderad 2026-07-03, finns kvar i: mailchimp.cleaned b811b0ffc1"),
])
def test_the_swedish_reads_as_the_report_wrote_it_before(words, row, english, swedish):
    """The sentences the audit report translated with patterns read the same from the catalog."""
    assert findings.detail(row, words["en"]) == english
    assert findings.detail(row, words["sv"]) == swedish


def test_a_reason_is_translated_by_its_words_or_shown_as_written(words):
    why = "renamed Integritetsskyddsmyndigheten (IMY) on 1 January 2021"
    row = {"detail_id": "rule.policy.outdated_reference.found", "first_text": "Datainspektionen", "reason": why}
    assert findings.detail(row, words["en"]) == f'"Datainspektionen": {why}'
    assert findings.detail(row, words["sv"]) == \
        '"Datainspektionen": bytte namn till Integritetsskyddsmyndigheten (IMY) den 1 januari 2021'
    # a company's own reason, with no words in the catalog, is shown as the policy file writes it
    row["reason"] = "our own words"
    assert findings.detail(row, words["sv"]) == '"Datainspektionen": our own words'


def test_history_kept_before_the_facts_shows_its_detail_as_recorded(words):
    assert findings.detail({"detail_id": None, "detail": "answered 2025-11-20"}, words["sv"]) == "answered 2025-11-20"


def test_the_rule_id_has_one_derivation_and_the_meta_must_agree(tmp_path):
    assert findings.rule_id("dsar__legal_deadline_missed") == "dsar.legal_deadline_missed"
    assert findings.rule_table("dsar.legal_deadline_missed") == "dsar__legal_deadline_missed"
    specs = findings.rule_specs(RULES)
    assert {s["rule"] for s in specs} == {findings.rule_id(m.name) for m in RULES}
    wrong = RULES[0]
    wrong.meta = {**wrong.meta, "rule": "dsar.something_else"}
    with pytest.raises(InsynError, match="does not match the model name"):
        findings.rule_specs([wrong])
