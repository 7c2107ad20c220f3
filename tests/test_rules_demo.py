"""On the demo data, the rules find exactly what the generator planted, and the
checks report it: every planted violation, none of its boundary cases."""

from collections import Counter

import pytest

from helpers import EXPECTED, layout

import duckdb

PREFIX = "data/sample/"


def _con(wb):
    return duckdb.connect(str(wb / "data" / "demo" / "insyn.duckdb"), read_only=True)


@pytest.fixture(scope="module")
def found(demo):  # noqa: F811
    from insyn import findings

    wb, _ = demo
    con = _con(wb)
    try:
        return findings.read(con)
    finally:
        con.close()


def _key(f):
    return (f["rule"], f["record_id"].removeprefix(PREFIX), f["email"], f["source"], f.get("count", 1))


def test_every_rule_finds_exactly_what_was_planted(found):
    expected = sorted(_key(f) for f in EXPECTED["findings"])
    got = sorted(_key(f) for f in found)
    by_rule = sorted({k[0] for k in expected + got})
    for rule in by_rule:
        assert [k for k in got if k[0] == rule] == [k for k in expected if k[0] == rule], rule


def test_no_boundary_case_is_flagged(found):
    flagged = {(f["rule"], f["record_id"].removeprefix(PREFIX)) for f in found}
    wrongly = [n for n in EXPECTED["not_findings"] if (n["rule"], n["record_id"]) in flagged]
    assert wrongly == []


def test_every_rule_of_the_policy_is_implemented_and_planted(found):
    assert {f["rule"] for f in found} == {f["rule"] for f in EXPECTED["findings"]}
    assert len({f["rule"] for f in found}) == 17


def test_the_check_failed_the_compliance_suite_with_counts_per_rule(demo):  # noqa: F811
    wb, out = demo
    con = _con(wb)
    try:
        rows = con.execute("select rule, unexpected_count, success from audit.check_results "
                           "where suite = 'compliance' and check_run_id = "
                           "(select max(check_run_id) from audit.check_runs)").fetchall()
    finally:
        con.close()
    expected = Counter(f["rule"] for f in EXPECTED["findings"])
    assert {r: (n, ok) for r, n, ok in rows} == {r: (n, False) for r, n in expected.items()}
    assert "expectation(s) failed" in out


def test_the_quality_suites_count_the_planted_data_quality_problems(demo):  # noqa: F811
    wb, _ = demo
    con = _con(wb)
    try:
        rows = con.execute("select check_name, sum(unexpected_count) from audit.check_results "
                           "where suite in ('quality.crm_records', 'quality.register_requests') "
                           "and not success and check_run_id = (select max(check_run_id) from audit.check_runs) "
                           "group by 1").fetchall()
    finally:
        con.close()
    assert dict(rows) == dict(Counter(q["check"] for q in EXPECTED["quality"]))


def test_findings_history_keeps_the_checked_findings(demo, found):  # noqa: F811
    wb, _ = demo
    con = _con(wb)
    try:
        n = con.execute("select count(*) from audit.findings_history where as_of = ? and check_run_id = "
                        "(select max(check_run_id) from audit.check_runs)", [EXPECTED["as_of"]]).fetchone()[0]
    finally:
        con.close()
    assert n == len(found)


def test_gx_wrote_data_docs(demo):  # noqa: F811
    wb, _ = demo
    index = layout(wb / "data" / "demo" / "insyn.duckdb").data_docs / "index.html"
    assert index.exists()
    assert "compliance" in index.read_text(encoding="utf-8")


def test_the_demo_ends_with_an_intact_audit_pack(demo):  # noqa: F811
    from insyn.audit import verify_pack

    wb, out = demo
    [pack] = list((wb / "data" / "demo" / "audit-packs").iterdir())
    assert verify_pack(pack) == []
    assert f"Audit pack for {EXPECTED['as_of'][:4]}" in out
