"""Every model is in the portable subset (the same answers on DuckDB and Spark), and the lint refuses each
construct that transpiles to Spark but answers differently there (../shared/design/portability.md)."""

from __future__ import annotations

import pytest

from insyn.portability import lint_models, lint_sql, model_files

from helpers import REPO


def test_every_model_and_rule_file_is_in_the_portable_subset():
    files = model_files(REPO / "pipelines")
    assert len(files) >= 40 and any("rules" in str(f) for f in files)
    assert [str(p) for p in lint_models(REPO / "pipelines")] == []


FORBIDDEN = [
    ("select\n  date_diff('month', a, b) from t", "date arithmetic in months"),
    ("select\n  datediff('year', a, b) from t", "date arithmetic in years"),
    ("select\n  dayofweek(received_on) from t", "a day-of-week number"),
    ("select\n  extract(dow from received_on) from t", "a day-of-week number"),
    ("select\n  date_part('isodow', received_on) from t", "a day-of-week number"),
    ("select\n  regexp_replace(name, '\\s+', ' ') from t", "regexp_replace without the 'g' flag"),
    ("select\n  count_if(is_open) from t", "count_if"),
    ("select\n  strptime(created, '%Y-%m-%dT%H:%M:%SZ') from t", "strptime"),
    ("select\n  try_strptime(created, '%d/%m/%Y') from t", "strptime"),
    ("select\n  len(categories) from t", "len()"),
    ("select * from\n  generate_series(1, 10)", "generate_series"),
    ("select * from a\n  asof join b on a.at >= b.at", "an ASOF join"),
    ("select\n  * exclude (email) from t", "select * exclude/replace"),
    ("select\n  received_on + interval 1 month from t", "date ± interval in months"),
    ("select * from t\n  where as_of = $as_of", "a $parameter"),
    ("\nselect * from t qualify row_number() over (partition by x) = 1",
     "QUALIFY beside select *"),
    ("select k,\n  string_agg(distinct v, ', ' order by v), count(distinct w) from t group by k",
     "an ordered string_agg(distinct …) beside another distinct aggregate"),
]


@pytest.mark.parametrize("sql, construct", FORBIDDEN, ids=[c for _, c in FORBIDDEN])
def test_each_construct_outside_the_subset_is_refused_with_its_line(sql, construct):
    problems = lint_sql(sql, "rules/example.sql")
    assert [p.construct for p in problems] == [construct]
    assert problems[0].line == 2
    assert str(problems[0]).startswith("rules/example.sql:2: " + construct)


def test_the_portable_ways_pass():
    sql = """
        -- comments may name date_diff('month', …) or len(x) freely
        select
            date_diff('day', received_on, closed_on) as days,
            add_months(received_on, 1) as legal_due_unrolled_on,
            regexp_replace(name, '\\s+', ' ', 'g') as name,
            sum(case when is_open then 1 else 0 end) as open_count,
            count(*) filter (where is_open) as open_too,
            received_on + interval 30 day as target_on,
            length(name) as name_length
        from requests
        where request_id not in (select request_id from repeated)
        qualify row_number() over (partition by request_id order by file_id) = 1
    """
    assert lint_sql(sql) == []
