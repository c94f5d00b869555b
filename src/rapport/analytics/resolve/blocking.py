"""Candidate pairs: records that share at least one blocking key, never all pairs.

Each key is a SQL expression over the normalised record table that is null when a part of it
is missing (so a missing email blocks nothing). Several keys, each built from different fields,
mean a typo or a gap in one field does not hide a pair: a pair is a candidate if *any* key agrees.

Invariants:

* every candidate pair ``(l, r)`` has ``l < r`` and appears once, whatever number of keys found it;
* a block (the records sharing one key value) of more than ``cap`` records yields no pairs at all;
  it is reported in :class:`BlockingReport.warnings` instead. A million records with one phone
  number cost a group-by, not 5·10¹¹ pairs;
* when ``exact`` is set on the records (the caller's exact-match columns), every key includes it,
  so no candidate pair disagrees on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

DEFAULT_CAP = 1_000

# name -> key expression over the record table ``recs``. Names are what warnings and stats show.
KEYS: dict[str, str] = {
    "email": "email",
    "phone": "phone",
    # Sorted name words, so a record with given name and surname swapped still shares it.
    "names+dob": "least(given_canon, surname) || '|' || greatest(given_canon, surname) || '|' || dob",
    "surname soundex+dob": "surname_sdx || '|' || dob",
    "given name+dob": "given_canon || '|' || dob",
    "initial+surname soundex+postcode": "left(given, 1) || surname_sdx || '|' || postcode",
    "dob+postcode": "dob || '|' || postcode",
    "street+postcode": "street || '|' || postcode",
}


@dataclass(frozen=True)
class KeyStats:
    """What one blocking key produced."""

    key: str
    blocks: int  # blocks of two or more records within the cap
    pairs: int  # pairs those blocks yield (before de-duplication across keys)
    skipped_blocks: int  # blocks over the cap
    skipped_records: int  # records in them
    largest_block: int


@dataclass(frozen=True)
class BlockingReport:
    """Per-key statistics, the number of distinct candidate pairs, and warnings for skipped blocks."""

    keys: tuple[KeyStats, ...]
    candidate_pairs: int
    warnings: tuple[str, ...]


def candidate_pairs(
    con: duckdb.DuckDBPyConnection, *, records: str = "recs", out: str = "cand", cap: int = DEFAULT_CAP,
    keys: dict[str, str] | None = None,
) -> BlockingReport:
    """Create table ``out(l BIGINT, r BIGINT)`` of distinct candidate pairs of table ``records``.

    ``records`` must have ``rid`` and the columns the keys name, plus ``exact`` (null = no
    exact-match columns).
    """
    if cap < 2:
        raise ValueError("cap must be at least 2")
    keys = KEYS if keys is None else keys
    stats = []
    warnings = []
    con.execute(f"CREATE OR REPLACE TEMP TABLE {out}_all (l BIGINT, r BIGINT)")
    for name, expression in keys.items():
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE block_keys AS
            SELECT rid, k, count(*) OVER (PARTITION BY k) AS n FROM (
                SELECT rid, ({expression}) || coalesce('|' || exact, '') AS k FROM {records}
            ) WHERE k IS NOT NULL
        """)
        blocks, pairs, skipped, skipped_records, largest = con.execute(f"""
            SELECT count(*) FILTER (WHERE n >= 2 AND n <= {cap}),
                   coalesce(sum(n * (n - 1) // 2) FILTER (WHERE n <= {cap}), 0),
                   count(*) FILTER (WHERE n > {cap}),
                   coalesce(sum(n) FILTER (WHERE n > {cap}), 0),
                   coalesce(max(n), 0)
            FROM (SELECT k, any_value(n) AS n FROM block_keys GROUP BY k)
        """).fetchall()[0]
        if pairs:
            con.execute(f"""
                INSERT INTO {out}_all
                SELECT a.rid, b.rid FROM block_keys a JOIN block_keys b ON a.k = b.k AND a.rid < b.rid
                WHERE a.n >= 2 AND a.n <= {cap}
            """)
        if skipped:
            warnings.append(
                f"blocking key {name!r}: {int(skipped):,} block(s) holding {int(skipped_records):,} records "
                f"skipped (largest {int(largest):,} records, cap {cap:,}); their pairs come only from other keys"
            )
        stats.append(KeyStats(key=name, blocks=int(blocks), pairs=int(pairs), skipped_blocks=int(skipped),
                              skipped_records=int(skipped_records), largest_block=int(largest)))
    con.execute("DROP TABLE IF EXISTS block_keys")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT DISTINCT l, r FROM {out}_all")
    con.execute(f"DROP TABLE {out}_all")
    total = con.execute(f"SELECT count(*) FROM {out}").fetchall()[0][0]
    return BlockingReport(keys=tuple(stats), candidate_pairs=int(total), warnings=tuple(warnings))
