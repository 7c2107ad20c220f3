"""The policy file and workbench config are validated with errors naming file and key."""

import datetime as dt
import re

import pytest

from insyn.config import Policy, Settings
from insyn.errors import ConfigError

from helpers import REPO

POLICY = (REPO / "policy.toml").read_text(encoding="utf-8")


def test_the_shipped_policy_holds_every_parameter_of_the_rules():
    policy = Policy.load(REPO / "policy.toml")
    assert policy.retention_inactive_months == 12
    assert policy.first_mailing_days == 30
    assert (policy.dsar_policy_target_days, policy.dsar_legal_deadline_months,
            policy.dsar_extended_deadline_months, policy.dsar_free_access_interval_months) == (30, 1, 3, 12)
    assert policy.weblog_retention_months == 13
    assert "web research" in policy.lead_source_classes["company_initiated"]
    assert policy.email_categories["first_notice"] == ["art14_information"]
    assert policy.request_types["access"][:2] == ["tillgång", "registerutdrag"]
    assert policy.register_columns["received"][0] == "Inkom datum"
    assert policy.transfer["privacy_shield_invalid_from"] == dt.date(2020, 7, 16)
    assert [r.pattern for r in policy.outdated_references] == ["Privacy Shield", "Datainspektionen", "30 dagar", "30 days"]
    assert "SE" in policy.transfer["eea_countries"] and "US" not in policy.transfer["adequacy_countries"]


@pytest.mark.parametrize("old, new, key", [
    ("company_initiated_inactive_months = 12", "company_initiated_inactive_months = 0",
     "retention.company_initiated_inactive_months"),
    ("first_mailing_days = 30", "", "notice.first_mailing_days"),
    ("last_reviewed_on = 2024-10-01", 'last_reviewed_on = "last autumn"', "policy.last_reviewed_on"),
    ('horizon_timezone = "Europe/Stockholm"', 'horizon_timezone = "Europe/Atlantis"', "weblog.horizon_timezone"),
    ('marketing_categories = ["newsletter", "campaign"]', "marketing_categories = []", "email.marketing_categories"),
    ('done = ["utförd", "done"]', "", "dsar.outcomes.done"),
    ('eea_countries = ["AT",', 'eea_countries = ["Austria",', "transfer.eea_countries"),
])
def test_an_invalid_policy_value_names_the_file_and_key(tmp_path, old, new, key):
    assert old in POLICY
    path = tmp_path / "policy.toml"
    path.write_text(POLICY.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        Policy.load(path)
    assert exc.value.key == key
    assert str(path) in exc.value.message


def test_a_toml_syntax_error_is_reported_not_raised(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(POLICY + "\n[broken\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="syntax"):
        Policy.load(path)


def test_no_number_of_the_law_is_written_in_the_models():
    """Months and days come from params.run, never literals in the models (the
    named read queries may do calendar arithmetic, such as 12 months a year)."""
    for sql in [p for layer in ("staging", "marts", "rules") for p in (REPO / "pipelines" / layer).glob("*.sql")]:
        text = re.sub(r"--[^\n]*", "", sql.read_text(encoding="utf-8"))
        for number in ("12", "13", "30"):
            assert not re.search(rf"(?<![\w.]){number}(?![\w.])", text), f"{sql.name} has a literal {number}"


def test_workbench_paths_resolve_relative_to_its_folder(monkeypatch):
    monkeypatch.delenv("INSYN_DB", raising=False)
    wb = Settings.load(REPO)
    assert wb.warehouse == REPO / "data" / "warehouse" / "insyn.duckdb"
    assert wb.database("/tmp/x.duckdb") == __import__("pathlib").Path("/tmp/x.duckdb")
    monkeypatch.setenv("INSYN_DB", "/tmp/y.duckdb")
    assert wb.database() == __import__("pathlib").Path("/tmp/y.duckdb")


@pytest.mark.parametrize("table", ['[dashboard]\ntrusted_proxy = ["10.0.0.1"]\n',   # misspelt: every client one address
                                   '[dashboard]\nallowed_hosts = "insyn.example.se"\n'])
def test_a_dashboard_setting_that_would_be_ignored_is_refused(tmp_path, table):
    from helpers import REPO as repo

    text = (repo / "insyn.toml").read_text(encoding="utf-8")
    text = re.sub(r"\[dashboard\]\n(?:[a-z_]+ = .*\n)*", "", text) + "\n" + table
    (tmp_path / "insyn.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"insyn\.toml: dashboard"):
        Settings.load(tmp_path)
