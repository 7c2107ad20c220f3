"""The shared normalisation: one definition, the same in Python and SQL."""

import sys

import duckdb
import pytest

from insyn.build import create_macros
from insyn.text import WHITESPACE, column_key, email_key, sfid15, squish, trim

from helpers import REPO


@pytest.fixture(scope="module")
def sql():
    con = duckdb.connect()
    create_macros(con, REPO / "pipelines")
    yield lambda q, *p: con.execute(q, list(p)).fetchone()[0]
    con.close()


def test_whitespace_is_exactly_what_python_calls_space():
    assert set(WHITESPACE) == {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}


def test_trim_removes_non_breaking_spaces_but_keeps_inner_ones():
    assert trim("\u00a0 Anna Ek\u3000\t") == "Anna Ek"
    assert trim("\u200bAnna") == "\u200bAnna"  # zero-width space is not white space


@pytest.mark.parametrize("ch", list(WHITESPACE))
def test_sql_trim_agrees_with_python_for_every_space_character(sql, ch):
    value = f"{ch}{ch}a{ch}b{ch}"
    assert sql("select trim_ws(?)", value) == trim(value)


def test_sql_trim_keeps_non_space_characters(sql):
    for value in ["\u200bx\u200b", "\ufeffx", "åäö", "x\u00ady"]:
        assert sql("select trim_ws(?)", value) == trim(value) == value


@pytest.mark.parametrize("value, expected", [
    (" Anna.Ek@Example.SE\u00a0", "anna.ek@example.se"),
    ("ÅSA.ÖBERG@EXEMPEL.SE", "åsa.öberg@exempel.se"),
    ("", None),
    ("\u00a0 \t", None),
    (None, None),
])
def test_email_key_is_trimmed_lower_case_and_blank_is_none(sql, value, expected):
    assert email_key(value) == expected
    assert sql("select email_key(?)", value) == expected


@pytest.mark.parametrize("value, expected", [
    ("0035g00000AbCdEAAV", "0035g00000AbCdE"),
    ("0035g00000AbCdE", "0035g00000AbCdE"),
    (" 0035g00000AbCdE ", "0035g00000AbCdE"),
    ("", None),
])
def test_sfid15_matches_18_to_15_characters(sql, value, expected):
    assert sfid15(value) == expected
    assert sql("select sfid15(?)", value) == expected


def test_sfid15_is_case_sensitive(sql):
    assert sql("select sfid15(?) = sfid15(?)", "0035g00000abcdeAAA", "0035g00000ABCDEAAA") is False


@pytest.mark.parametrize("value", ["Web Research", "web  research", " WEB\u00a0RESEARCH ", "Web\tResearch"])
def test_lead_source_variants_squish_to_one_key(sql, value):
    assert squish(value) == "web research"
    assert sql("select squish_ws(?)", value) == "web research"


@pytest.mark.parametrize("value, expected", [
    ("1 250,00", "1250.00"), ("1\u00a0250,50", "1250.50"), ("250", "250.00"), ("1250.5", "1250.50"),
    ("1.250,00", "1250.00"), ("", None), ("gratis", None),
])
def test_amounts_with_decimal_comma_and_nbsp_thousands(sql, value, expected):
    result = sql("select to_amount(?)", value)
    assert (str(result) if result is not None else None) == expected


def test_add_months_clamps_to_month_end(sql):
    import datetime as dt

    assert sql("select add_months(date '2026-01-31', 1)") == dt.date(2026, 2, 28)
    assert sql("select add_months(date '2024-02-29', -12)") == dt.date(2023, 2, 28)
    assert sql("select add_months(date '2025-11-24', 12)") == dt.date(2026, 11, 24)


@pytest.mark.parametrize("header, key", [
    ("Email Address", "email_address"), ("HASOPTEDOUTOFEMAIL", "hasoptedoutofemail"),
    ("Lawful_Basis__c", "lawful_basis__c"), ("\ufeffId", "id"), ("smtp-id", "smtp_id"), (" Avgift (kr) ", "avgift_kr"),
])
def test_column_key(header, key):
    assert column_key(header) == key


@pytest.mark.parametrize("day, months", [
    ("2026-01-31", 1), ("2024-02-29", -12), ("2024-02-29", 12), ("2025-03-31", -1), ("2025-12-15", 1),
    ("2026-11-24", -13), ("2023-08-31", 6),
])
def test_python_add_months_agrees_with_sql(sql, day, months):
    import datetime as dt

    from insyn.dates import add_months

    assert add_months(dt.date.fromisoformat(day), months) == sql("select add_months(cast(? as date), ?)", day, months)
