"""transfer.invalid_mechanism, lawful_basis.consent_recorded and the policy-text rules
(policy.outdated_reference, policy.review_overdue)."""

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from insyn.findings import not_evaluated

AS_OF = dt.date(2026, 11, 24)
TRANSFER = "transfer__invalid_mechanism"
CONSENT = "lawful_basis__consent_recorded"
OUTDATED = "policy__outdated_reference"
REVIEW = "policy__review_overdue"
SEED_POLICY = Path(__file__).resolve().parents[3] / "shared" / "seed" / "privacy-policy-marketing.sv.txt"


def processor(name, country, mechanism, dpf_until=None, tia_on=None):
    return {"subprocessor_name": name, "country_iso2": country, "transfer_mechanism": mechanism,
            "dpf_certified_until": dt.date.fromisoformat(dpf_until) if dpf_until else None,
            "tia_on": dt.date.fromisoformat(tia_on) if tia_on else None}


# ---------------------------------------------------------------- transfer.invalid_mechanism


def test_each_transfer_mechanism_is_judged_at_the_as_of_date(wh):
    wh.seed("stg_register__subprocessors",
            processor("PrivacyShieldCo", "US", "privacy_shield"),
            processor("OldSccCo", "US", "scc_2010"),
            processor("DpfLapsed", "US", "dpf", dpf_until="2026-11-23"),
            processor("DpfOnAsOf", "US", "dpf", dpf_until="2026-11-24"),
            processor("DpfCertified", "US", "dpf", dpf_until="2027-06-30"),
            processor("DpfNoDate", "US", "dpf"),
            processor("DpfOutsideUs", "IN", "dpf", dpf_until="2027-06-30"),
            processor("Scc2021NoTia", "US", "scc_2021"),
            processor("Scc2021Tia", "US", "scc_2021", tia_on="2024-02-01"),
            processor("BcrCo", "IN", "bcr"),
            processor("AdequacyJp", "JP", "adequacy"),
            processor("AdequacyUs", "US", "adequacy"),
            processor("NothingCo", "US", "none"),
            processor("EeaNothing", "SE", "none"),
            processor("EeaShield", "IE", "privacy_shield"),
            processor("EeaNorway", "NO", "scc_2010"))
    assert wh.findings(TRANSFER, AS_OF) == [
        (name, None, "register.subprocessors", 1)
        for name in sorted(["PrivacyShieldCo", "OldSccCo", "DpfLapsed", "DpfNoDate", "DpfOutsideUs",
                            "Scc2021NoTia", "AdequacyUs", "NothingCo"])]
    details = wh.details(TRANSFER)
    assert details["PrivacyShieldCo"] == "US, privacy_shield: Privacy Shield was invalidated (C-311/18)"
    assert details["DpfLapsed"] == "US, dpf: DPF certification had lapsed"
    assert details["DpfOutsideUs"] == "IN, dpf: the DPF covers only its own country"
    assert details["AdequacyUs"] == "US, adequacy: no adequacy decision for the country"


def test_the_dates_of_the_mechanisms_move_with_the_as_of_date(wh):
    wh.seed("stg_register__subprocessors",
            processor("PrivacyShieldCo", "US", "privacy_shield"),
            processor("OldSccCo", "US", "scc_2010"),
            processor("DpfCertified", "US", "dpf", dpf_until="2027-06-30"),
            exported_at=dt.datetime(2020, 1, 1))
    # the day before Schrems II: Privacy Shield and the old SCCs still held; the DPF did not exist yet
    assert [r[0] for r in wh.findings(TRANSFER, dt.date(2020, 7, 15))] == ["DpfCertified"]
    assert [r[0] for r in wh.findings(TRANSFER, dt.date(2020, 7, 16))] == ["DpfCertified", "PrivacyShieldCo"]


# ---------------------------------------------------------------- lawful_basis.consent_recorded


def test_consent_recorded_as_the_lawful_basis_is_flagged_in_any_letter_case(wh):
    def record(key, basis):
        return {"contact_id": key + "AAA", "contact_key": key, "email_key": f"{key.lower()}@example.se",
                "contact_origin": "company_initiated", "lawful_basis": basis, "has_lawful_basis_field": True}

    wh.seed("stg_salesforce__contacts", record("003SAMTYCKE001", "Samtycke"), record("003CONSENT0001", "consent"),
            record("003LEGIT000001", "legitimate interest"), record("003BLANK000001", None),
            record("003CONSENTDEL1", "consent") | {"is_deleted": True})
    wh.seed("stg_salesforce__leads",
            {"lead_id": "00QCONSENT001AAA", "lead_key": "00QCONSENT001", "email_key": "lead@example.se",
             "lawful_basis": "CONSENT", "has_lawful_basis_field": True, "is_converted": False})
    assert wh.findings(CONSENT, AS_OF) == [
        ("003CONSENT0001AAA", "003consent0001@example.se", "salesforce.contact", 1),
        ("003SAMTYCKE001AAA", "003samtycke001@example.se", "salesforce.contact", 1),
        ("00QCONSENT001AAA", "lead@example.se", "salesforce.lead", 1),
    ]
    assert wh.details(CONSENT)["003SAMTYCKE001AAA"] == 'lawful basis recorded as "Samtycke"'


def test_without_the_lawful_basis_field_the_rule_says_it_was_not_evaluated(wh):
    wh.seed("stg_salesforce__contacts",
            {"contact_id": "003NOFIELD0001AAA", "contact_key": "003NOFIELD0001", "email_key": "a@example.se",
             "has_lawful_basis_field": False},
            {"contact_id": "003NOFIELD0002AAA", "contact_key": "003NOFIELD0002", "email_key": "b@example.se",
             "has_lawful_basis_field": False})
    wh.seed("stg_salesforce__leads",
            {"lead_id": "00QFIELD00001AAA", "lead_key": "00QFIELD00001", "email_key": "c@example.se",
             "lawful_basis": "legitimate interest", "has_lawful_basis_field": True, "is_converted": False})
    assert wh.findings(CONSENT, AS_OF) == [("salesforce.contact", None, "salesforce.contact", 1)]
    # not a finding: reported with the rules not evaluated (insyn.findings.not_evaluated)
    assert "salesforce.contact" not in wh.details(CONSENT)
    [entry] = not_evaluated(wh.con, "lawful_basis.consent_recorded")
    assert (entry["source"], entry["missing_sources"]) == ("salesforce.contact", [])
    assert entry["detail"] == "not evaluated: the export has no Lawful_Basis__c field"


# ---------------------------------------------------------------- policy.*

POLICY_TEXT = """Integritetspolicy
Senast uppdaterad: 2023-05-02

Vi överför data till USA enligt Privacy Shield.
Klagomål skickas till DATAINSPEKTIONEN.
Målet är att svara inom 30 Dagar.
Alla underleverantörer följer privacy shield.
"""


def use_text(wh, text_path, text=POLICY_TEXT, policy_path=None):
    text_path.parent.mkdir(parents=True, exist_ok=True)
    text_path.write_text(text, encoding="utf-8")
    changes = {"text_path": text_path} | ({"path": policy_path} if policy_path else {})
    wh.policy = dataclasses.replace(wh.policy, **changes)


def test_outdated_references_one_finding_per_pattern_case_insensitive(wh, tmp_path):
    path = tmp_path / "p.txt"  # outside the policy file's folder: named by its absolute path
    use_text(wh, path)
    assert wh.findings(OUTDATED, AS_OF) == [(f"{path}:4", None, "policy.text", 2),
                                            (f"{path}:5", None, "policy.text", 1),
                                            (f"{path}:6", None, "policy.text", 1)]
    details = wh.details(OUTDATED)
    assert details[f"{path}:4"] == '"Privacy Shield": invalidated by the CJEU on 16 July 2020 (C-311/18)'
    assert details[f"{path}:5"].startswith('"Datainspektionen": renamed Integritetsskyddsmyndigheten')
    assert details[f"{path}:6"].startswith('"30 dagar": ')


def test_a_policy_text_inside_the_policy_folder_is_named_relative_to_it(wh, tmp_path):
    use_text(wh, tmp_path / "texts" / "p.txt", "Vi följer Privacy Shield. Ja, Privacy Shield.\n",
             policy_path=tmp_path / "policy.toml")
    assert wh.findings(OUTDATED, AS_OF) == [("texts/p.txt:1", None, "policy.text", 2)]


def test_review_overdue_counts_from_the_later_of_the_text_date_and_the_last_review(wh, tmp_path):
    # text dated 2023-05-02, last review configured 2024-10-01: due by 2025-10-01
    path = tmp_path / "p.txt"
    use_text(wh, path)
    assert wh.policy.last_reviewed_on == dt.date(2024, 10, 1)
    assert wh.findings(REVIEW, dt.date(2025, 10, 1)) == []  # exactly 12 months is not more than 12 months
    assert wh.findings(REVIEW, dt.date(2025, 10, 2)) == [(f"{path}:2", None, "policy.text", 1)]
    assert wh.findings(REVIEW, AS_OF) == [(f"{path}:2", None, "policy.text", 1)]
    assert wh.details(REVIEW)[f"{path}:2"] == (
        "last reviewed 2024-10-01 (text dated 2023-05-02), more than 12 months before 2026-11-24")


def test_a_text_dated_after_the_configured_review_counts_from_its_own_date(wh, tmp_path):
    use_text(wh, tmp_path / "p.txt", "Policy\nLast updated 2025-06-15\n")
    assert wh.findings(REVIEW, dt.date(2026, 6, 15)) == []
    assert len(wh.findings(REVIEW, dt.date(2026, 6, 16))) == 1


def test_the_seed_privacy_policy_is_outdated_and_overdue(wh):
    if not SEED_POLICY.exists():
        pytest.skip(f"seed policy text not found: {SEED_POLICY}")
    wh.policy = dataclasses.replace(wh.policy, text_path=SEED_POLICY)
    counts = {record_id: count for record_id, _, _, count in wh.findings(OUTDATED, AS_OF)}
    pattern_at = {detail.split('"')[1]: record_id for record_id, detail in wh.details(OUTDATED).items()}
    assert set(pattern_at) == {"Privacy Shield", "Datainspektionen", "30 dagar"}
    assert all(record_id.startswith(f"{SEED_POLICY}:") for record_id in counts)
    assert counts[pattern_at["Privacy Shield"]] == 3  # three paragraphs name it

    review = wh.findings(REVIEW, AS_OF)
    assert review == [(f"{SEED_POLICY}:7", None, "policy.text", 1)]
    assert "(text dated 2018-03-27)" in wh.details(REVIEW)[f"{SEED_POLICY}:7"]
