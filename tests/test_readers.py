"""Parsing each export format, with the quirks of real exports."""

import gzip
import io
import json

import openpyxl
import pytest

from insyn.errors import InputError
from insyn.readers import read_access_log, read_csv, read_json_events, read_xlsx

from helpers import CONTACT_HEADER, contact_row, sf_csv


def test_csv_all_quoted_with_crlf_and_line_breaks_inside_quotes():
    rows = [contact_row("0035g00000AbCdEAAV", Description="first\r\nsecond\nthird"),
            contact_row("0035g00000AbCdFAAV", Description='said "hej"')]
    recs = read_csv(sf_csv(CONTACT_HEADER, rows), "Contact.csv")
    assert len(recs.rows) == 2
    assert recs.rows[0][CONTACT_HEADER.index("Description")] == "first\r\nsecond\nthird"
    assert recs.rows[1][CONTACT_HEADER.index("Description")] == 'said "hej"'
    assert recs.line_nos == [2, 5]  # the second record starts after the 3-line first one


@pytest.mark.parametrize("encoding, bom, expected", [
    ("utf-8", False, "utf-8"), ("utf-8", True, "utf-8-sig"), ("cp1252", False, "cp1252"),
])
def test_csv_encodings(encoding, bom, expected):
    data = sf_csv(CONTACT_HEADER, [contact_row("0035g00000AbCdEAAV", FirstName="Åsa Öberg-Élise")],
                  encoding=encoding, bom=bom)
    recs = read_csv(data, "Contact.csv")
    assert recs.encoding == expected
    assert recs.keys[0] == "id"
    assert recs.rows[0][3] == "Åsa Öberg-Élise"


def test_csv_semicolon_and_bare_lf_inside_quotes_as_swedish_excel_saves():
    data = "Ärende-ID;Inkom datum;Anteckningar\r\nA-1;2026-01-31;\"rad ett\nrad två\"\r\nA-2;2026-02-01;\r\n"
    recs = read_csv(data.encode("cp1252"), "register.csv")
    assert recs.header == ["Ärende-ID", "Inkom datum", "Anteckningar"]
    assert recs.rows == [["A-1", "2026-01-31", "rad ett\nrad två"], ["A-2", "2026-02-01", ""]]
    assert recs.line_nos == [2, 4]


def test_csv_header_only_has_no_rows():
    assert read_csv(sf_csv(CONTACT_HEADER, []), "Contact.csv").rows == []


def test_csv_ragged_row_names_its_line():
    data = sf_csv(CONTACT_HEADER, [contact_row("0035g00000AbCdEAAV")]) + b'"0035g00000AbCdF","false"\r\n'
    with pytest.raises(InputError) as exc:
        read_csv(data, "Contact.csv")
    assert exc.value.line == 3
    assert "2 fields, the header has 12" in exc.value.problem


def test_csv_unterminated_quote_is_refused_with_a_line():
    data = sf_csv(CONTACT_HEADER, [contact_row("0035g00000AbCdEAAV")]) + b'"0035g00000AbCdF,"false\r\n'
    with pytest.raises(InputError) as exc:
        read_csv(data, "Contact.csv")
    assert exc.value.line is not None and exc.value.line >= 3
    assert "malformed CSV" in exc.value.problem


def test_csv_error_message_never_quotes_a_cell():
    secret = "hemlig.person@example.se"
    data = sf_csv(CONTACT_HEADER, [contact_row("0035g00000AbCdEAAV", email=secret)]) + f'"{secret}"\r\n'.encode()
    with pytest.raises(InputError) as exc:
        read_csv(data, "Contact.csv")
    assert secret not in str(exc.value)


@pytest.mark.parametrize("data, problem", [
    (b"", "empty file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary content"),
    (b"\x81\x8d\x8f\x90\x9d\n", "neither UTF-8 nor cp1252"),
])
def test_csv_without_text_or_header_is_refused(data, problem):
    with pytest.raises(InputError) as exc:
        read_csv(data, "x.csv")
    assert problem in exc.value.problem


def _event(i, **kw):
    return {"email": f"p{i}@example.se", "timestamp": 1767225600 + i, "event": "delivered",
            "sg_event_id": f"ev{i}", "category": "newsletter", **kw}


def test_json_lines_and_arrays_give_the_same_records_with_lines():
    events = [_event(1), _event(2, category=["campaign", "newsletter"])]
    lines = "\n".join(json.dumps(e) for e in events).encode()
    array = json.dumps(events, indent=2).encode()
    from_lines = read_json_events(lines, "e.jsonl", ("email", "timestamp", "event"))
    from_array = read_json_events(array, "e.json", ("email", "timestamp", "event"))
    assert [o for _, o in from_lines] == [o for _, o in from_array] == events
    assert [n for n, _ in from_lines] == [1, 2]
    assert from_array[0][0] == 2 and from_array[1][0] > from_array[0][0]


def test_json_line_that_is_not_json_is_refused_with_its_line():
    data = (json.dumps(_event(1)) + "\n{\"email\": \"x\", \n").encode()
    with pytest.raises(InputError) as exc:
        read_json_events(data, "e.jsonl", ("email",))
    assert exc.value.line == 2


def test_json_record_without_a_required_key_is_refused():
    data = json.dumps([_event(1), {"email": "a@b.se", "event": "open"}]).encode()
    with pytest.raises(InputError) as exc:
        read_json_events(data, "e.json", ("email", "timestamp", "event"))
    assert "'timestamp'" in exc.value.problem


LOG = [
    '192.0.2.10 - - [03/Mar/2026:10:15:00 +0100] "GET /whitepaper?email=anna%40example.se HTTP/1.1" 200 512 "-" "Mozilla/5.0"',
    '2001:db8::1 - - [29/Mar/2026:03:30:00 +0200] "POST /contact HTTP/2.0" 302 - "https://nordlys.se/" "curl/8.0"',
    '198.51.100.7 - - [03/Mar/2026:10:16:00 +0100] "\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03\\x03" 400 157 "-" "-"',
    '',
    '192.0.2.11 - - [03/Mar/2026:10:17:00 +0100] "GET /pricing HTT',
]


def test_access_log_parses_offsets_ipv6_and_quarantines_junk():
    recs = read_access_log("\n".join(LOG).encode() + b"\n", "access.log")
    assert [r[1] for r in recs.rows] == ["192.0.2.10", "2001:db8::1"]
    assert recs.line_nos == [1, 2]
    assert [(n, reason) for n, reason, _ in recs.rejected] == [
        (3, "request is not an HTTP request line"), (4, "blank line"), (5, "not a combined-format log line")]
    assert len(recs.rows) + len(recs.rejected) == len(LOG)


def test_access_log_gz_is_the_same_as_plain():
    data = "\n".join(LOG).encode()
    assert read_access_log(gzip.compress(data), "a.gz").rows == read_access_log(data, "a").rows


def test_corrupt_gzip_is_refused():
    with pytest.raises(InputError, match="not a valid gzip"):
        read_access_log(b"\x1f\x8b\x08\x00garbage", "access.log.1.gz")


def test_empty_log_has_no_rows():
    recs = read_access_log(b"", "access.log")
    assert recs.rows == [] and recs.rejected == []


def _xlsx(rows) -> bytes:

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_xlsx_dates_numbers_and_text_cells():
    import datetime as dt

    data = _xlsx([["Ärende-ID", "Inkom datum", "Avgift (kr)", "Anteckningar"],
                  ["A-1", dt.datetime(2026, 1, 31), 1250.5, "rad ett\nrad två"],
                  ["A-2", "snart", 0, None]])
    recs = read_xlsx(data, "register.xlsx")
    assert recs.rows == [["A-1", "2026-01-31", "1250.5", "rad ett\nrad två"], ["A-2", "snart", "0", None]]
    assert recs.line_nos == [2, 3]


def test_xlsx_that_is_not_a_workbook_is_refused():
    with pytest.raises(InputError, match="not a valid .xlsx"):
        read_xlsx(b"PK\x03\x04 not really", "register.xlsx")


def test_repeated_header_names_are_kept_apart():
    from insyn.readers import unique_keys

    assert unique_keys(["Email Address", "UNSUB_REASON", "UNSUB_REASON", "", "unsub reason"]) == [
        "email_address", "unsub_reason", "unsub_reason_2", "column_4", "unsub_reason_3"]


def test_formula_guard_apostrophe_is_kept_as_delivered():
    recs = read_csv(sf_csv(CONTACT_HEADER, [contact_row("0035g00000AbCdEAAV", Description="'=SUM(A1)")]),
                    "Contact.csv")
    assert recs.rows[0][CONTACT_HEADER.index("Description")] == "'=SUM(A1)"


def test_xlsx_register_on_a_later_sheet_is_found():
    import datetime as dt

    book = openpyxl.Workbook()
    book.active.title = "Instruktioner"
    book.active.append(["Så här fyller du i registret"])
    reg = book.create_sheet("Register")
    reg.append(["Ärende-ID", "Inkom datum"])
    reg.append(["A-1", dt.date(2026, 1, 31)])
    buf = io.BytesIO()
    book.save(buf)
    recs = read_xlsx(buf.getvalue(), "r.xlsx", accept=lambda h: "Ärende-ID" in h)
    assert recs.rows == [["A-1", "2026-01-31"]]


def test_utf16_text_as_excel_saves_unicode_text():
    data = "Ärende-ID\tInkom datum\r\nA-1\t2026-01-31\r\n".encode("utf-16")
    recs = read_csv(data, "register.txt")
    assert (recs.encoding, recs.header, recs.rows) == ("utf-16", ["Ärende-ID", "Inkom datum"], [["A-1", "2026-01-31"]])
