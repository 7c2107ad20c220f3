"""`insyn sql` reads the warehouse and nothing else (issue 15, item 3).

Every attack goes through the installed command line, in a private copy of the built
demo workbench, and is shown refused (exit 2, no traceback) and harmless (no file
appears or changes, no secret is printed); ordinary analyst queries still work."""

import hashlib
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from helpers import copy_workbench, layout, published

pytestmark = pytest.mark.cli

EXE = Path(sys.executable).with_name("insyn")
SECRET = "hash-of-the-dpo-7f3a9c"          # stands in for a password hash in users.json
ENV_MARKER = "env-marker-5e1d77"           # a value only this process's environment holds


class Bench:
    """A private workbench: the demo's warehouse, a published snapshot, a ledger, secrets."""

    def __init__(self, root: Path, db: Path):
        self.root, self.db = root, db
        self.ledger = layout(db).ledger
        self.users = root / "data" / "secrets" / "users.json"
        self.salt = root / "data" / "secrets" / "suppression.salt"
        self.snapshot = next(published(db).glob("insyn-*.duckdb"))
        self.outside = root.parent / "outside"   # where an attack would like to write

    def sql(self, *args: str, stdin: str = "", root: Path | None = None):
        return subprocess.run(
            [str(EXE), "--workbench", str(root or self.root), "--db", str(self.db), "sql", *args],
            input=stdin, capture_output=True, text=True, cwd=self.root, timeout=120,
            env={**os.environ, "INSYN_TEST_MARKER": ENV_MARKER})

    def state(self) -> dict:
        """Every file of the workbench and the folder outside it, with its sha256."""
        return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
                for top in (self.root, self.outside) for p in sorted(top.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def bench(demo, tmp_path_factory):
    demo_wb, _ = demo
    base = tmp_path_factory.mktemp("sql-readonly")
    root, db = copy_workbench(base / "wb", folders=(), warehouse=demo_wb / "data" / "demo" / "insyn.duckdb")
    layout(db).state.mkdir(mode=0o700)
    shutil.copy(layout(demo_wb / "data" / "demo" / "insyn.duckdb").ledger, layout(db).ledger)
    secrets = root / "data" / "secrets"
    secrets.mkdir(mode=0o700, parents=True)
    shutil.copy(demo_wb / "data" / "secrets" / "suppression.salt", secrets / "suppression.salt")
    (secrets / "users.json").write_text(f'{{"dpo": {{"hash": "{SECRET}"}}}}\n', encoding="utf-8")
    from insyn import snapshot

    snapshot.publish(db, published(db))
    outside = base / "outside"
    outside.mkdir()
    con = duckdb.connect()
    con.execute(f"copy (select 'anna.ek@example.se' as email) to '{outside / 'people.parquet'}' (format parquet)")
    con.close()
    return Bench(root, db)


def refused(result, *, said: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert said in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert SECRET not in result.stderr and ENV_MARKER not in result.stderr


# ------------------------------------------------ statements that do more than read

CONTACTS = "staging.stg_salesforce__contacts"
WRITES = [
    ("copy (select email, firstname, lastname from {contacts}) to '{outside}/x.csv'", "statement 1 is COPY"),
    ("copy (select email from {contacts}) to '{ledger}' (format json)", "statement 1 is COPY"),
    ("copy {contacts} from '{outside}/people.parquet'", "statement 1 is COPY"),
    ("export database '{outside}/export'", "statement 1 is EXPORT"),
    ("attach '{snapshot}' as snap (read_write)", "statement 1 is ATTACH"),
    ("attach '{snapshot}' as snap (read_write); delete from snap.{contacts}", "statement 1 is ATTACH"),
    ("attach '{snapshot}' as snap (read_write); update snap.{contacts} set email = 'x@y.se'", "statement 1 is ATTACH"),
    ("detach insyn", "statement 1 is DETACH"),
    ("set threads = 1", "statement 1 is SET"),
    ("set enable_external_access = true", "statement 1 is SET"),
    ("reset lock_configuration", "statement 1 is SET"),
    ("pragma database_list", "statement 1 is PRAGMA"),
    ("pragma enable_profiling", "statement 1 is PRAGMA"),
    ("call pragma_version()", "statement 1 is CALL"),
    ("checkpoint", "statement 1 is CALL"),
    ("load httpfs", "statement 1 is LOAD"),
    ("install httpfs", "statement 1 is LOAD"),
    ("update extensions", "statement 1 is of an unknown type"),
    ("create table staging.x as select 1 as one", "statement 1 is CREATE"),
    ("create temp table x as select * from {contacts}", "statement 1 is CREATE"),
    ("create secret (type s3, key_id 'k', secret 's')", "statement 1 is CREATE"),
    ("insert into {contacts} select * from {contacts}", "statement 1 is INSERT"),
    ("delete from {contacts}", "statement 1 is DELETE"),
    ("truncate {contacts}", "statement 1 is DELETE"),
    ("update {contacts} set email = null", "statement 1 is UPDATE"),
    ("drop table rules.optout__not_synced", "statement 1 is DROP"),
    ("alter table {contacts} rename to c", "statement 1 is ALTER"),
    ("begin transaction", "statement 1 is TRANSACTION"),
    ("vacuum", "statement 1 is VACUUM"),
    ("explain analyze delete from {contacts}", "statement 1 is EXPLAIN of DELETE"),
    ("explain /* plan */ (format json) copy (select 1) to '{outside}/x.csv'", "statement 1 is EXPLAIN of COPY"),
    ("pivot rules.optout__not_synced on rule using count(*)", "statement 1 is MULTI"),
    ("select 1; drop table rules.optout__not_synced", "statement 2 is DROP"),
    ("select email from {contacts}; -- it's fine;\ncopy (select 1) to '{outside}/y.csv'", "statement 2 is COPY"),
]


def _fill(bench, text: str) -> str:
    return text.format(contacts=CONTACTS, outside=bench.outside, ledger=bench.ledger, snapshot=bench.snapshot)


@pytest.mark.parametrize("text, said", WRITES)
def test_a_statement_that_does_more_than_read_is_refused_before_anything_runs(bench, text, said):
    before = bench.state()
    result = bench.sql(_fill(bench, text))
    refused(result, said=said)
    assert "read-only" in result.stderr and "nothing was run" in result.stderr
    assert bench.state() == before     # warehouse, snapshot, ledger: same bytes; no file appeared


@pytest.mark.parametrize("text, said", [w for w in WRITES if "statement 1" in w[1]][::3])
def test_the_same_statements_on_standard_input_are_refused_with_their_number(bench, text, said):
    before = bench.state()
    result = bench.sql("--format", "csv", stdin="select 1 as first_statement;\n" + _fill(bench, text) + ";\n")
    refused(result, said=said.replace("statement 1", "statement 2"))
    assert bench.state() == before


# ------------------------------------------------ reads that would leave the warehouse

FILE_READS = [
    "select * from read_text('data/secrets/users.json')",
    "select * from read_blob('data/secrets/suppression.salt')",
    "select * from read_text('/proc/self/environ')",
    "select * from glob('/root/*')",
    "select * from glob('data/secrets/*')",
    "select * from 'data/secrets/users.json'",
    "from 'data/secrets/users.json'",
    "select * from read_csv('/etc/passwd')",
    "select * from read_csv('{ledger}')",
    "select * from read_json('{ledger}')",
    "select * from read_parquet('{outside}/people.parquet')",
    "select * from parquet_metadata('{outside}/people.parquet')",
    "select * from sniff_csv('/etc/passwd')",
    "select * from read_duckdb('{snapshot}')",
    "select * from query_table('data/secrets/users.json')",
    "select * from query('select * from read_text(''data/secrets/users.json'')')",
    "with s as (select content from read_text('data/secrets/users.json')) select * from s",
]


@pytest.mark.parametrize("text", FILE_READS)
def test_a_select_reading_a_file_is_refused(bench, text):
    before = bench.state()
    result = bench.sql(_fill(bench, text))
    refused(result, said="reads the warehouse and no other file")
    assert "anna.ek@example.se" not in result.stderr
    assert bench.state() == before


@pytest.mark.parametrize("text", [
    "select * from enable_logging(storage = 'file', storage_path = '{outside}/log')",
    "select * from enable_profiling()",
    "select * from add_grammar_extension('httpfs')",
])
def test_a_select_changing_a_setting_is_refused(bench, text):
    before = bench.state()
    refused(bench.sql(_fill(bench, text)), said="the configuration has been locked")
    assert bench.state() == before


# ------------------------------------------------ what an analyst does still works


def _csv(result) -> list[str]:
    assert result.returncode == 0 and result.stderr == "", result.stderr
    return result.stdout.splitlines()


def test_analyst_queries_still_work(bench):
    before = bench.state()
    con = duckdb.connect(str(bench.db), read_only=True)
    contacts = con.execute(f"select count(*) from {CONTACTS}").fetchone()[0]
    rules = con.execute("select count(*) from duckdb_tables() where schema_name = 'rules'").fetchone()[0]
    con.close()
    assert contacts > 0 and rules > 0
    assert _csv(bench.sql(f"select count(*) as n from {CONTACTS}", "--format", "csv")) == ["n", str(contacts)]
    script = f"""
        select count(*) as rule_tables from duckdb_tables() where schema_name = 'rules';
        select string_agg(distinct table_schema, '|' order by table_schema) as schemas from information_schema.tables;
        with per_source as (select source, count(*) as n from marts.dim_crm_records group by source)
        select count(*) > 0 as sources, sum(n) > 0 as records from per_source;
        select rule, count(*) as findings from rules.optout__not_synced group by rule;
        pivot rules.optout__not_synced on rule in ('optout.not_synced') using count(*);
        describe {CONTACTS}; summarize {CONTACTS}; show all tables; from {CONTACTS} limit 1;
        explain select * from {CONTACTS}; explain analyze select count(*) from {CONTACTS};
        select current_setting('enable_external_access') as external_access;
    """
    out = _csv(bench.sql("--format", "csv", stdin=script))
    assert out[:2] == ["rule_tables", str(rules)]
    assert {"staging", "marts", "rules"} <= set(out[3].split("|"))
    assert out[4:6] == ["sources,records", "true,true"] and out[7].startswith("optout.not_synced,")
    assert "physical_plan" in "\n".join(out) and "analyzed_plan" in "\n".join(out)
    assert out[-2:] == ["external_access", "false"]
    assert bench.state() == before


def test_a_script_on_standard_input_is_split_by_duckdbs_own_parser(bench):
    script = ("select 1 as a -- it's a comment; with an apostrophe and a ;\n;"
              "select 'x;y' as b; /* don't; stop */ select 'it''s' as c;\n"
              "select $$d;'e$$ as d; select \"a\"\"b\" from (select 2 as \"a\"\"b\");")
    assert _csv(bench.sql("--format", "csv", stdin=script)) == [
        "a", "1", "b", "x;y", "c", "it's", "d", "d;'e", '"a""b"', "2"]


def test_a_script_with_a_syntax_error_runs_nothing(bench):
    result = bench.sql("--format", "csv", stdin="select 1 as a; select 'unterminated;\n")
    refused(result, said="nothing was run")


def test_the_prompt_reads_statements_past_comments_and_survives_a_refusal(bench):
    """On a terminal: a `;` in a comment or a string does not end the statement; a refused
    statement is reported and the session goes on."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(EXE), "--workbench", str(bench.root), "--db", str(bench.db), "sql", "--format", "csv"],
                            stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=bench.root)
    os.close(slave)
    before = bench.state()
    lines = ["select 'it''s; done' as s -- don't; stop here",
             ";",
             f"copy (select email from {CONTACTS}) to '{bench.outside}/z.csv';",
             "select 42 as answer;",
             ".quit"]
    try:
        os.write(master, ("\n".join(lines) + "\n").encode())
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "s\nit's; done\n" in out and "answer\n42\n" in out
    assert "statement 1 is COPY" in err and "Traceback" not in err
    assert bench.state() == before


def test_a_temp_directory_still_takes_what_does_not_fit_in_memory(bench, tmp_path):
    """The lock leaves the installation's temp_directory usable: a sort larger than the
    memory limit spills there and finishes."""
    root, _ = copy_workbench(tmp_path / "wb", folders=())
    spill = tmp_path / "spill"
    with open(root / "insyn.toml", "a", encoding="utf-8") as toml:
        toml.write(f'\n[duckdb]\nmemory_limit = "32MB"\nthreads = 1\ntemp_directory = "{spill}"\n')
    big = ("select count(*) as n from (select range::varchar || repeat('x', 100) as v from range(1000000) "
           "order by v desc limit 999000 offset 1)")     # some 110 MB of text
    assert _csv(bench.sql(big, "--format", "csv", root=root)) == ["n", "999000"]


def test_an_empty_query_is_an_error(bench):
    refused(bench.sql("  -- nothing here\n"), said="QUERY holds no statement")
