"""Deleted ids found from the runs of ids that still exist: single deletions (listed and hashed),
a mass delete of more than 64k consecutive ids (matched as a range), ids above the last run and
below the first, and a table emptied (no runs at all: every fact is gone)."""

import duckdb
import pytest

from rapport.insights.warehouse import _gone, _gone_facts


def _gone_ids(existing: list[int], facts: range) -> set[int]:
    con = duckdb.connect()
    con.execute("CREATE TABLE fact_thing AS SELECT range AS thing_id FROM range(?, ?)", [facts.start, facts.stop])
    con.execute("CREATE TABLE ids (id BIGINT)")
    if existing:
        con.execute("INSERT INTO ids SELECT unnest(?)", [existing])
    # The runs as extract.py sends them: (lo, hi) of consecutive ids.
    con.execute(
        "CREATE TABLE stg_thing_ids AS SELECT min(id) AS lo, max(id) AS hi FROM "
        "(SELECT id, id - row_number() OVER (ORDER BY id) AS run FROM ids) GROUP BY run"
    )
    con.execute(_gone("thing"))
    return {r[0] for r in con.execute(_gone_facts("thing", "fact_thing", "thing_id")).fetchall()}


@pytest.mark.parametrize(
    "deleted",
    [
        set(),
        {5, 6, 90},  # single rows
        set(range(100, 100 + 70_000)),  # a mass delete: one gap wider than 64k ids
        {1, 2, *range(149_990, 150_000)},  # the first ids and the newest ones
        {7, *range(1_000, 80_000), 120_001},  # both kinds at once
    ],
)
def test_every_deleted_id_is_found_and_no_other(deleted):
    facts = range(1, 150_000)
    existing = [i for i in facts if i not in deleted]
    assert _gone_ids(existing, facts) == deleted & set(facts)


def test_with_no_ids_left_every_fact_is_gone():
    assert _gone_ids([], range(1, 1000)) == set(range(1, 1000))
