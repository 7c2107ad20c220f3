"""`insyn --engine spark load`: the raw layer as Parquet in the lake, all or nothing.

No Spark here: loading to the lake is Insyn's readers and DuckDB in memory;
the files are read back with pyarrow, as Spark reads them.
"""

from __future__ import annotations

import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from insyn.lake import Lake

from helpers import CONTACT_HEADER, contact_row, sf_csv, write


@pytest.fixture
def lake(tmp_path):
    return tmp_path / "lake"


@pytest.fixture
def on_lake(insyn, lake):
    def run(*args):
        return insyn("--engine", "spark", "--lake", str(lake), *args)
    return run


def _contacts(tmp_path, day: str, *ids: str):
    return write(tmp_path / "exports" / day / "Contact.csv",
                 sf_csv(CONTACT_HEADER, [contact_row(i, email=f"p{n}@example.se") for n, i in enumerate(ids)]))


def test_load_writes_the_raw_layer_partitioned_by_source_and_export_date_with_provenance(tmp_path, on_lake, lake):
    _contacts(tmp_path, "2026-11-17", "0035g00000AbCdEAAV", "0035g00000AbCdF")
    assert on_lake("-q", "load", tmp_path / "exports").code == 0
    parts = sorted(p.relative_to(lake).as_posix() for p in lake.rglob("*.parquet"))
    assert "raw/salesforce__contact/source=salesforce.contact/exported_on=2026-11-17/load-1-file-1.parquet" in parts
    assert {"audit/files/load-1.parquet", "audit/rejected_lines/load-1.parquet",
            "audit/loads/load-1.parquet"} <= set(parts)
    rows = pq.read_table(lake / "raw/salesforce__contact/source=salesforce.contact/exported_on=2026-11-17"
                                "/load-1-file-1.parquet").to_pylist()
    assert [(r["_load_id"], r["_file_id"], r["_record_no"], r["_line_no"], r["id"]) for r in rows] == [
        (1, 1, 1, 2, "0035g00000AbCdEAAV"), (1, 1, 2, 3, "0035g00000AbCdF")]
    assert str(rows[0]["_exported_at"]) == "2026-11-17 00:00:00"


def test_the_lake_keeps_loading_where_it_stopped_and_skips_what_it_holds(tmp_path, on_lake, lake):
    _contacts(tmp_path, "2026-11-17", "0035g00000AbCdEAAV")
    assert on_lake("-q", "load", tmp_path / "exports").code == 0
    _contacts(tmp_path, "2026-11-24", "0035g00000AbCdEAAV", "0035g00000XyZaBAAV")
    again = on_lake("load", tmp_path / "exports")
    assert again.code == 0 and "1 file(s) loaded, 1 already loaded" in again.out
    listing = on_lake("loads", "--format", "json").json()
    assert [(e["file_id"], e["load_id"], e["rows"], e["exported_at"]) for e in listing] == [
        (1, 1, 1, "2026-11-17T00:00:00Z"), (2, 2, 2, "2026-11-24T00:00:00Z")]


def test_a_bad_file_keeps_nothing_in_the_lake(tmp_path, on_lake, lake):
    _contacts(tmp_path, "2026-11-17", "0035g00000AbCdEAAV")
    assert on_lake("-q", "load", tmp_path / "exports").code == 0
    before = sorted(lake.rglob("*"))
    good = _contacts(tmp_path / "b", "2026-11-24", "0035g00000XyZaBAAV")
    bad = write(tmp_path / "b" / "exports" / "2026-11-24" / "events.jsonl", b'{"email": "a@b.se", "timestamp": 1, "event": "open"}\n{oops}\n')
    result = on_lake("load", good, bad)
    assert result.code == 2 and f"{bad}:2" in result.err and "Traceback" not in result.err
    assert sorted(lake.rglob("*")) == before


def test_a_load_that_dies_before_its_commit_leaves_nothing_read_and_a_rerun_completes(tmp_path, on_lake, lake,
                                                                                      monkeypatch):
    _contacts(tmp_path, "2026-11-17", "0035g00000AbCdEAAV")
    _contacts(tmp_path, "2026-11-18", "0035g00000XyZaBAAV")   # a second partition
    real_write, written = Lake.write, []

    def dies_at_the_commit(self, table, *parts):
        if parts[:2] == ("audit", "loads"):
            raise KeyboardInterrupt   # stands for a kill between the data and the commit
        written.append(parts)
        return real_write(self, table, *parts)

    monkeypatch.setattr(Lake, "write", dies_at_the_commit)
    assert on_lake("-q", "load", tmp_path / "exports").code == 130   # interrupted
    assert any(p[0] == "raw" for p in written)            # data files were written...
    assert Lake(str(lake)).committed_loads() == set()     # ...but no load is committed
    assert on_lake("loads", "--format", "json").json() == []
    monkeypatch.setattr(Lake, "write", real_write)
    assert on_lake("-q", "load", tmp_path / "exports").code == 0
    listing = on_lake("loads", "--format", "json").json()
    assert [(e["load_id"], e["file_id"]) for e in listing] == [(1, 1), (1, 2)]
    raw = pads.dataset(lake / "raw" / "salesforce__contact", format="parquet").to_table()
    assert raw.num_rows == 2   # the dead load's files were replaced, not kept beside the new ones


def test_clearing_a_load_number_removes_its_files_in_every_partition_and_nothing_else(lake):
    import pyarrow as pa

    the_lake = Lake(str(lake))
    part = ("raw", "salesforce__contact", "source=salesforce.contact")
    dead = [(*part, "exported_on=2026-01-01", "load-1-file-7.parquet"), ("audit", "files", "load-1.parquet")]
    kept = [(*part, "exported_on=2026-01-01", "load-11-file-8.parquet"), ("audit", "files", "load-11.parquet")]
    for parts in dead + kept:
        the_lake.write(pa.table({"_load_id": [1]}), *parts)
    the_lake.clear_uncommitted(1)
    assert [(lake / "/".join(p)).exists() for p in dead + kept] == [False, False, True, True]
