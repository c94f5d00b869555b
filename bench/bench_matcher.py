"""One new record against 1, 10 and 50 candidates: ``Matcher.score`` against the same work in DuckDB.

    .venv/bin/python bench/bench_matcher.py                    # 300 calls per size
    .venv/bin/python bench/bench_matcher.py --runs 1000 --records 50000

The records are ``simulate.people(--records, seed=1)``. Each call scores a fresh record (drawn at
random) against candidates like those the CRM fetches through its indexes: the record's own
duplicates, then records with the same surname, then random records, up to the size. Three ways:

* ``warm``: ``Matcher.score`` as a web process runs it, after earlier calls filled its small
  caches (remembered normalisations and similarities; a different record every call);
* ``cold``: the same with those caches cleared before every call (the worst case);
* ``duckdb``: the baseline, the batch's own path for the same pairs on one long-lived DuckDB
  connection: ``prepare()`` the 1 + k records, register them, run the comparison SQL, score.

The target is 5 ms p95 for 50 candidates (of the 50 ms a contact create may spend on "possible
duplicate of"). Wall-clock milliseconds, plus the thread's CPU time (on a machine shared with
other work the wall-clock p95 measures the scheduler as much as the code; the load average is
printed). Prints only, asserts nothing. No Django, no database.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from common import print_table

TARGET_MS = 5.0


def percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[min(len(samples) - 1, max(0, round(0.95 * len(samples)) - 1))]


def timed(
    calls: Sequence[tuple[dict, list[dict]]],
    fn: Callable[[dict, list[dict]], Any],
    before: Callable[[], None] | None = None,
) -> tuple[float, float, float, float]:
    """Wall-clock p50, p95, then the calling thread's CPU-time p50, p95, in milliseconds."""
    wall, cpu = [], []
    for record, candidates in calls:
        if before is not None:
            before()
        started, started_cpu = time.perf_counter(), time.thread_time()
        fn(record, candidates)
        wall.append((time.perf_counter() - started) * 1000.0)
        cpu.append((time.thread_time() - started_cpu) * 1000.0)
    return (*percentiles(wall), *percentiles(cpu))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()

    import duckdb
    import numpy as np
    import pandas as pd

    from rapport.analytics.resolve import ColumnMap, _score, default_matcher
    from rapport.analytics.resolve.compare import FIELD_NAMES, TF_FIELDS, compare_sql
    from rapport.analytics.resolve.matcher import clear_caches
    from rapport.analytics.resolve.prepare import prepare
    from rapport.analytics.resolve.simulate import people

    frame = people(args.records, seed=1)
    rows = frame.drop(columns=["entity_id", "corruptions"]).to_dict("records")
    by_entity = frame.groupby("entity_id").indices
    by_surname = frame.groupby(frame["surname"].str.lower()).indices
    rng = random.Random(7)
    matcher = default_matcher()
    columns = ColumnMap()

    def calls(k: int) -> list[tuple[dict, list[dict]]]:
        out = []
        for _ in range(args.runs):
            i = rng.randrange(len(rows))
            picked = [j for j in by_entity[frame.at[i, "entity_id"]] if j != i]
            picked += [j for j in by_surname[frame.at[i, "surname"].lower()][:k] if j != i and j not in picked]
            while len(picked) < k:
                picked.append(rng.randrange(len(rows)))
            out.append((rows[i], [rows[j] for j in picked[:k]]))
        return out

    con = duckdb.connect(config={"threads": 1})
    con.execute("SET enable_progress_bar = false")
    for name, table in (("given_name", "given"), ("surname", "surname")):
        shares = matcher.frequencies[name].shares
        con.register(f"freq_{table}", pd.DataFrame({"v": list(shares), "share": list(shares.values())}))
    level_cols = ", ".join(FIELD_NAMES)
    tf_cols = ", ".join(TF_FIELDS.values())
    query = f"SELECT l, r, {level_cols}, {tf_cols} FROM ({compare_sql(pairs='pairs', records='recs')})"

    def through_duckdb(record: dict, candidates: list[dict]) -> np.ndarray:
        # The record is the right-hand (later) one, as in Matcher.score.
        con.register("recs", prepare(pd.DataFrame([*candidates, record]), columns, dayfirst=matcher.dayfirst))
        k = len(candidates)
        con.register("pairs", pd.DataFrame({"l": np.arange(k, dtype=np.int64), "r": np.full(k, k, dtype=np.int64)}))
        got = con.execute(query).fetchnumpy()
        return _score(matcher.model, got)[0]

    def score(record: dict, candidates: list[dict]) -> None:
        matcher.score(record, candidates, columns=columns)

    for k in (1, 10, 50):  # warm-up: fills the caches and the interpreter's inline caches
        for record, candidates in calls(k)[:50]:
            score(record, candidates)
            through_duckdb(record, candidates)

    table = []
    for k in (1, 10, 50):
        work = calls(k)
        warm = timed(work, score)
        cold = timed(work, score, before=clear_caches)
        base = timed(work[: max(args.runs // 3, 20)], through_duckdb)
        table.append(
            [
                f"1 x {k}",
                warm[0],
                warm[1],
                warm[3],
                cold[0],
                cold[1],
                cold[3],
                base[0],
                base[1],
                base[1] / warm[1],
                base[1] / cold[1],
            ]
        )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"Matcher.score, {args.runs} calls per size, {args.records:,} simulated records, "
        f"{os.cpu_count()} cores, load average {load:.1f} (target p95 <= {TARGET_MS} ms at 1 x 50)"
    )
    print_table(
        [
            "pairs",
            "warm p50",
            "warm p95",
            "warm cpu p95",
            "cold p50",
            "cold p95",
            "cold cpu p95",
            "duckdb p50",
            "duckdb p95",
            "duckdb/warm p95",
            "duckdb/cold p95",
        ],
        table,
    )
    print("ms; 'cpu' is the thread's CPU time, which other processes on a busy machine do not inflate as much")


if __name__ == "__main__":
    main()
