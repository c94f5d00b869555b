"""Deleted ids found from the id blocks that changed: single deletions, a mass delete, the newest
and the oldest ids, a block emptied, a block that lost one id and gained another (the same count),
and the cap on the number of ranges (ranges merged, never a changed block left out)."""

import duckdb
import numpy as np
import pytest

from rapport.insights.extract import ID_BLOCK, MAX_ID_RANGES, capped_ranges, changed_ranges
from rapport.insights.warehouse import _gone_facts


def _summary(ids) -> dict[int, tuple[int, int]]:
    """What extract.id_blocks computes in the database, in Python."""
    out: dict[int, tuple[int, int]] = {}
    for i in ids:
        n, total = out.get(i // ID_BLOCK, (0, 0))
        out[i // ID_BLOCK] = (n + 1, total + i)
    return out


def _within(ids: list[int], ranges: list[tuple[int, int]]) -> list[int]:
    """The ``ids`` inside one of the sorted, disjoint inclusive ``ranges`` (a binary search per id)."""
    values = np.asarray(ids, dtype=np.int64)
    lo = np.asarray([r[0] for r in ranges], dtype=np.int64)
    hi = np.asarray([r[1] for r in ranges], dtype=np.int64)
    at = np.searchsorted(lo, values, side="right") - 1
    inside = (at >= 0) & (values <= hi[np.maximum(at, 0)]) if len(ranges) else np.zeros(len(values), bool)
    return values[inside].tolist()


def _gone_ids(before: list[int], now: list[int], facts: list[int]) -> set[int]:
    ranges = changed_ranges(_summary(before), _summary(now))
    read = capped_ranges(ranges)  # what the id extract reads on SQLite (PostgreSQL: the ranges)
    assert read == sorted(read) and all(a[1] < b[0] for a, b in zip(read, read[1:], strict=False))
    wanted = _within(now, read)
    con = duckdb.connect()
    con.execute("CREATE TABLE fact_thing AS SELECT unnest(?::BIGINT[]) AS thing_id", [facts])
    con.execute("CREATE TABLE stg_thing_ids AS SELECT unnest(?::BIGINT[]) AS id", [wanted])
    con.execute(
        "CREATE TABLE stg_thing_id_ranges AS SELECT unnest(?::BIGINT[]) AS lo, unnest(?::BIGINT[]) AS hi",
        [[lo for lo, _ in ranges], [hi for _, hi in ranges]],
    )
    return {r[0] for r in con.execute(_gone_facts("thing", "fact_thing", "thing_id")).fetchall()}


@pytest.mark.parametrize(
    "deleted",
    [
        set(),
        {5, 6, 90},  # single rows
        set(range(100, 100 + 70_000)),  # a mass delete
        {1, 2, *range(149_990, 150_000)},  # the first ids and the newest ones
        {7, *range(1_000, 80_000), 120_001},  # both kinds at once
        set(range(ID_BLOCK * 3, ID_BLOCK * 4)),  # one block emptied: it is missing from the new summary
    ],
)
def test_every_deleted_id_is_found_and_no_other(deleted):
    before = list(range(1, 150_000))
    now = [i for i in before if i not in deleted]
    assert _gone_ids(before, now, before) == deleted


def test_a_block_with_as_many_ids_as_before_but_one_replaced_is_changed():
    # Id 260 deleted, 300 added, both in block 1 (ids are serial: a newcomer is above every old id).
    before = [*range(1, 200), *range(256, 290)]
    now = [i for i in before if i != 260] + [300]
    assert _summary(now)[1][0] == _summary(before)[1][0]
    assert changed_ranges(_summary(before), _summary(now)) == [(ID_BLOCK, 2 * ID_BLOCK - 1)]
    assert _gone_ids(before, now, before) == {260}


def test_unchanged_blocks_read_no_ids_and_new_blocks_do():
    before = list(range(1, 5000))
    assert changed_ranges(_summary(before), _summary(before)) == []
    grown = [*before, *range(5000, 5100)]
    assert changed_ranges(_summary(before), _summary(grown)) == [(19 * ID_BLOCK, 20 * ID_BLOCK - 1)]


def test_with_no_ids_left_every_fact_is_gone():
    assert _gone_ids(list(range(1, 1000)), [], list(range(1, 1000))) == set(range(1, 1000))


def test_too_many_ranges_are_merged_never_dropped():
    before = list(range(ID_BLOCK * 4 * (MAX_ID_RANGES + 50)))
    deleted = set(range(5, len(before), ID_BLOCK * 4))  # one id in every fourth block
    now = [i for i in before if i not in deleted]
    ranges = changed_ranges(_summary(before), _summary(now))
    assert len(ranges) == MAX_ID_RANGES + 50
    capped = capped_ranges(ranges)
    assert len(capped) == MAX_ID_RANGES
    assert _within(sorted(deleted), capped) == sorted(deleted)
    # The changed blocks plus the 50 three-block gaps closed, no more.
    assert sum(hi - lo + 1 for lo, hi in capped) == (MAX_ID_RANGES + 50 + 50 * 3) * ID_BLOCK
    assert _gone_ids(before, now, before) == deleted
