"""A new source kind by content alone (issue 16): in a workbench made by `insyn init`, a
HubSpot-style contacts export under a random kind name, declared in sources.toml with its
staging model, its descriptions and its words, is detected and loaded, in the people register
(insyn.people, and the served /people page) by its name and category, shown with labelled fields
in the access report in both languages, purged by `dsar erase` and listed in its deletion tasks;
the program never names it. A kind that names people without saying what the access report
shows of it is refused."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import secrets
import threading

import duckdb
import pytest
import requests

from insyn import texts
from insyn.cli import main

from helpers import REPO, callback_body, write

AS_OF = "2026-11-24"
PERSON = "karin.lindqvist@example.org"
HEADER = ["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Create Date", "Last Activity Date",
          "Lifecycle Stage"]
CONTACTS = [
    ["5101", "Karin", "Lindqvist", PERSON, "+46 70 123 45 67", "2025-03-04T09:15:00Z", "2026-10-01T14:00:00Z",
     "customer"],
    ["5102", "Olof", "Berg", "olof.berg@example.org", "+46 70 765 43 21", "2025-05-06T10:00:00Z", "", "lead"],
    ["5103", "Mira", "Holm", "mira.holm@example.org", "", "2025-06-07T11:30:00Z", "", "subscriber"],
]
# field (as stored) -> (English label, Swedish label): the test's own words
LABELS = {
    "record_id": ("Contact number", "Kontaktnummer"),
    "first_name": ("Given name", "Tilltalsnamn"),
    "last_name": ("Family name", "Släktnamn"),
    "email": ("Mail address", "Mejladress"),
    "phone_number": ("Telephone", "Telefonnummer"),
    "create_date": ("Added to the CRM", "Tillagd i CRM"),
    "last_activity_date": ("Latest contact", "Senaste kontakt"),
    "lifecycle_stage": ("Stage", "Skede"),
}
STAGES = {"customer": ("Customer", "Kund"), "lead": ("Prospect", "Prospekt"), "subscriber": ("Subscriber", "Prenumerant")}


def _run(root, db, *args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--workbench", str(root), "--db", str(db), *map(str, args)])
    return code, out.getvalue(), err.getvalue()


def _po(lang: str, messages: dict[str, str]) -> str:
    head = f'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Language: {lang}\\n"\n\n'
    return head + "".join(f'msgid "{k}"\nmsgstr "{v}"\n\n' for k, v in messages.items())


def add_kind(root, system: str) -> str:
    """The new kind's content: sources.toml entry, staging model and its description, words."""
    kind = f"{system}.contact"
    fields = "\n".join(f'{f} = "{system}.field.{f}"' for f in LABELS)
    stages = "\n".join(f'{v} = "{system}.stage.{v}"' for v in STAGES)
    with (root / "pipelines" / "sources.toml").open("a", encoding="utf-8") as fh:
        fh.write(f'''
# A HubSpot-style CRM's contacts export
[{kind}]
table = "{system}__contact"
format = "csv"
required = ["Record ID", "Email", "Create Date"]
signature = ["First Name", "Last Name", "Phone Number", "Last Activity Date", "Lifecycle Stage"]
columns = ["First Name", "Last Name", "Phone Number", "Last Activity Date", "Lifecycle Stage"]
timestamps = ["Create Date", "Last Activity Date"]
hints = ["hubspot", "contacts"]
person_email = ["Email"]

[{kind}.access_report]
category = "crm"
name = "{system}.source"
person_name = ["First Name", "Last Name"]

[{kind}.access_report.fields]
{fields}

[{kind}.access_report.values.lifecycle_stage]
{stages}

[{kind}.deletion]
system = "HubSpot"
object = "Contact"
action = "delete the contact (GDPR delete)"
record_id = ["Record ID"]
''')
    write(root / "pipelines" / "staging" / f"stg_{system}__contacts.sql", f"""-- The HubSpot-style CRM's contacts, every export.
with source as (
    select * from raw.{system}__contact
),

final as (
    select
        trim_ws(record_id) as record_id,
        blank_to_null(email) as email,
        email_key(email) as email_key,
        blank_to_null(first_name) as first_name,
        blank_to_null(last_name) as last_name,
        blank_to_null(lifecycle_stage) as lifecycle_stage,
        create_date__utc as created_at,
        last_activity_date__utc as last_activity_at,
        _exported_at as exported_at,
        _file_id as file_id,
        _record_no as record_no
    from source
)

select * from final
""")
    with (root / "pipelines" / "staging" / "_models.yml").open("a", encoding="utf-8") as fh:
        fh.write(f"""
  - name: stg_{system}__contacts
    description: The HubSpot-style CRM's contacts, one row per contact per export.
    columns:
      - name: record_id
        description: The CRM's Record ID, trimmed.
      - name: email
        description: Email as exported, trimmed; NULL when blank.
      - name: email_key
        description: The contact's e-mail identity (email_key). Join on this.
      - name: first_name
        description: First Name, trimmed; NULL when blank.
      - name: last_name
        description: Last Name, trimmed; NULL when blank.
      - name: lifecycle_stage
        description: Lifecycle Stage as exported (subscriber, lead, customer, ...).
      - name: created_at
        description: Create Date, UTC.
      - name: last_activity_at
        description: Last Activity Date, UTC; NULL when blank.
      - name: exported_at
        description: When the export was taken, UTC.
      - name: file_id
        description: The loaded file (audit.files).
      - name: record_no
        description: The record's number in its file.
""")
    for i, lang in enumerate(("en", "sv")):
        words = {f"{system}.source": ("HubSpot: contact", "HubSpot: kontakt")[i]}
        words |= {f"{system}.field.{f}": v[i] for f, v in LABELS.items()}
        words |= {f"{system}.stage.{v}": w[i] for v, w in STAGES.items()}
        write(root / "locale" / lang / "LC_MESSAGES" / f"{system}.po", _po(lang, words))
    return kind


@pytest.fixture
def workbench(tmp_path):
    """A new company's workbench, made by `insyn init` (not a copy of this repository)."""
    root = tmp_path / "wb"
    code = main(["init", str(root)])
    assert code == 0 and (root / "pipelines" / "sources.toml").is_file()
    return root, root / "data" / "warehouse" / "test.duckdb"


def _export(tmp_path):
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([HEADER, *CONTACTS])
    return write(tmp_path / "in" / "hubspot-contacts-export.csv", out.getvalue())


def test_a_new_source_kind_by_content_alone(workbench, tmp_path):
    root, db = workbench
    system = "crm" + secrets.token_hex(4)
    kind = add_kind(root, system)

    # detected and loaded
    code, out, err = _run(root, db, "load", _export(tmp_path), "--exported-at", "2026-11-20T08:00:00Z")
    assert code == 0, err
    assert kind in out
    code, out, err = _run(root, db, "loads", "--format", "json")
    assert code == 0, err
    [entry] = [e for e in json.loads(out) if e["source"] == kind]
    assert entry["rows"] == 3 and entry["status"] == "loaded"
    code, out, err = _run(root, db, "build", "--as-of", AS_OF)
    assert code == 0, err

    # in the people register (what the /people page shows) by its name and category, and its
    # staging model documented
    from insyn.people import held
    from insyn.sources import Sources

    sources = Sources.load(root / "pipelines" / "sources.toml")
    con = duckdb.connect(str(db), read_only=True)
    try:
        for i, lang in enumerate(("en", "sv")):
            words = texts.cached(texts.workbench_locale(root), lang)
            found = held(con, sources, f"  {PERSON.upper()} ", words)
            [row] = [r for r in found.sources if r["kind"] == kind]
            assert row["source"] == ("HubSpot: contact", "HubSpot: kontakt")[i]
            assert row["category"] == words("letter.categories.crm.title")
            assert row["records"] == 1
            assert (str(row["first_on"]), str(row["last_on"])) == ("2025-03-04", "2026-10-01")
        assert not [r for r in held(con, sources, "nobody@example.org", words).sources if r["kind"] == kind]
        described = con.execute("select comment from duckdb_tables() where schema_name = 'staging' "
                                "and table_name = $t", {"t": f"stg_{system}__contacts"}).fetchone()
        assert described and "HubSpot-style" in described[0]
    finally:
        con.close()
    shown = _served_look_up(root, db, PERSON)
    # shown by its name from the catalog, never by the kind's id
    assert "HubSpot: contact" in shown["en"] and "HubSpot: kontakt" in shown["sv"]
    assert kind not in shown["en"] and kind not in shown["sv"]

    # the access report, in both languages, with the test's own labels and value words
    for i, lang in enumerate(("en", "sv")):
        page = tmp_path / f"report-{lang}.html"
        code, out, err = _run(root, db, "dsar", "report", PERSON, "--as-of", AS_OF, "--lang", lang, "--format",
                              "html", "--identity-verified-by", "Test Operator", "--out", page)
        assert code == 0, err
        html = page.read_text(encoding="utf-8")
        block = html[html.index(f'data-source="{kind}"'):]
        block = block[:block.index("</table>")]
        assert ("HubSpot: contact", "HubSpot: kontakt")[i] in block
        shown = re.findall(r'<td class="k">([^<]*)</td>', block)
        assert shown == [v[i] for v in LABELS.values()], shown   # every field, labelled, in declared order
        assert not set(shown) & set(LABELS), "a raw column name is shown as a label"
        values = re.findall(r'<td(?: [^>]*)?>([^<]*)</td>', block)
        assert STAGES["customer"][i] in values and "customer" not in values
        assert "Karin Lindqvist" in html   # the greeting takes the name from the new kind
        copy = tmp_path / f"report-{lang}.json"
        code, out, err = _run(root, db, "dsar", "report", PERSON, "--as-of", AS_OF, "--lang", lang, "--format",
                              "json", "--identity-verified-by", "Test Operator", "--out", copy)
        assert code == 0, err
        report = json.loads(copy.read_text(encoding="utf-8"))
        [crm] = [c for c in report["categories"] if kind in c["sources"]]
        assert crm["category"] == "crm"
        assert [r["record_id"] for r in crm["sources"][kind]] == ["5101"]
        assert crm["labels"][kind]["fields"] == {f: v[i] for f, v in LABELS.items()}
        assert crm["labels"][kind]["values"]["lifecycle_stage"]["customer"] == STAGES["customer"][i]

    # purged by dsar erase, and in the deletion tasks for the source system
    code, out, err = _run(root, db, "dsar", "erase", PERSON, "--on", AS_OF)
    assert code == 0, err
    con = duckdb.connect(str(db), read_only=True)
    try:
        left = con.execute(f'select record_id from raw."{system}__contact" order by 1').fetchall()
        assert left == [("5102",), ("5103",)]
        assert con.execute(f'select count(*) from staging."stg_{system}__contacts" '
                           "where email_key = $e", {"e": PERSON}).fetchone()[0] == 0
    finally:
        con.close()
    written = re.search(r"deletion tasks for the source systems \(\d+\): (.+)", out).group(1).strip()
    with open(written, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {"system": "HubSpot", "object": "Contact", "record_id": "5101",
            "action": "delete the contact (GDPR delete)", "found_in_export": "2026-11-20", "detail": ""} in rows

    # the program never names the kind
    for path in [*(REPO / "src").rglob("*"), *(REPO / "dashboards").rglob("*")]:
        if path.is_file() and path.suffix in (".py", ".toml", ".sql", ".j2", ".po", ".txt", ".md"):
            assert system not in path.read_text(encoding="utf-8", errors="replace"), path


def _served_look_up(root, db, email: str) -> dict[str, str]:
    """The /people page's look-up of `email` as the served dashboard answers it (serve.create on
    waitress at 127.0.0.1, port 0, with the loopback token), per language; it is in the access log."""
    from insyn import serve
    from insyn.workbench import Workbench

    application = Workbench.open(root, db)
    token = secrets.token_urlsafe(32)
    app = serve.create(application, host="127.0.0.1", auth_options={"token": token})
    server = serve.make_server(app, "127.0.0.1", 0)
    threading.Thread(target=server.run, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.effective_port}"
        client = requests.Session()
        client.headers["Authorization"] = f"token {token}"
        look_up = next(d for d in client.get(url + "/_dash-dependencies").json() if "people-result" in d["output"])
        shown = {}
        for lang in ("en", "sv"):
            values = {("people-search", "n_clicks"): 1, ("people-email", "value"): email, ("lang", "value"): lang}
            answer = client.post(url + "/_dash-update-component", json=callback_body(look_up, values))
            assert answer.status_code == 200, answer.text
            shown[lang] = answer.text
    finally:
        server.close()
    entries = application.access_log().entries()
    assert [(e["event"], e["success"]) for e in entries[-2:]] == [("lookup", True), ("lookup", True)]
    return shown


def test_a_kind_naming_people_without_its_access_report_name_is_refused(workbench, tmp_path):
    root, db = workbench
    system = "crm" + secrets.token_hex(4)
    add_kind(root, system)
    toml = root / "pipelines" / "sources.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace(f'name = "{system}.source"\n', ""), encoding="utf-8")
    code, out, err = _run(root, db, "load", _export(tmp_path))
    assert code == 2
    assert "sources.toml" in err and f"{system}.contact" in err and "access_report.name" in err and "missing" in err
    assert "Traceback" not in err


def test_a_kind_naming_people_without_any_access_report_is_refused(workbench, tmp_path):
    root, db = workbench
    toml = root / "pipelines" / "sources.toml"
    text = toml.read_text(encoding="utf-8")
    start = text.index("[esp.events.access_report]")
    end = text.index("[esp.events.deletion]")
    toml.write_text(text[:start] + text[end:], encoding="utf-8")
    code, out, err = _run(root, db, "load", _export(tmp_path))
    assert code == 2
    assert "sources.toml" in err and "[esp.events] access_report" in err and "missing" in err


@pytest.mark.parametrize("template, why", [
    ('detail = "e-mail {email.__class__}"', "not a plain {name} placeholder"),
    ('detail = "e-mail {address}"', "names address; it may name only {email}, {rows}"),
    ('detail = "e-mail {email"', "a lone '{'"),
])
def test_a_deletion_task_template_that_reaches_beyond_its_values_is_refused(workbench, tmp_path, template, why):
    """A deletion task's texts are filled with the task's own values only, never read as Python."""
    root, db = workbench
    toml = root / "pipelines" / "sources.toml"
    text = toml.read_text(encoding="utf-8")
    assert 'detail = "e-mail {email}"' in text
    toml.write_text(text.replace('detail = "e-mail {email}"', template, 1), encoding="utf-8")
    code, out, err = _run(root, db, "load", _export(tmp_path))
    assert code == 2, err
    assert "sources.toml" in err and "deletion.detail" in err and why in err and "Traceback" not in err


@pytest.mark.parametrize("old, new, why", [
    # a misspelt column would match nobody: the erasure would leave the person's rows, silently
    ('person_email = ["Email"]\nperson_ids = ["Id", "MasterRecordId"]',
     'person_email = ["E_mail"]\nperson_ids = ["Id", "MasterRecordId"]', "E_mail: not among the kind's columns"),
    # "false" in quotes is a string, and true to Python: the rows would be kept on erasure
    ('[salesforce.contact]\n', '[salesforce.contact]\nkeep_on_erasure = "false"\n', "expected true or false"),
    ('same_as = "mailchimp.subscribed"\nhints = ["unsubscribed"]',
     'same_as = ["mailchimp.subscribed"]\nhints = ["unsubscribed"]', "expected a non-empty string"),
])
def test_a_kind_that_would_make_an_erasure_quietly_incomplete_is_refused(workbench, tmp_path, old, new, why):
    root, db = workbench
    toml = root / "pipelines" / "sources.toml"
    text = toml.read_text(encoding="utf-8")
    assert old in text
    toml.write_text(text.replace(old, new, 1), encoding="utf-8")
    code, out, err = _run(root, db, "load", _export(tmp_path))
    assert code == 2, err
    assert "sources.toml" in err and why in err and "Traceback" not in err
