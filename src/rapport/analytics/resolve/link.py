"""New records against known ones, many at a time, scored with a fixed matcher: an import's duplicate check.

    pairs = link(existing, new, matcher=matcher, columns=ColumnMap(...)).pairs
    pairs   # id_l (the known or earlier record), id_r (the new one), probability, match_weight, ...

:func:`resolve` fits its model on the table it is given; an import must not: its new rows and the
few existing records a database index found for them are a biased sample (nearly every pair in it
*is* a duplicate, which would teach EM that agreement is cheap). :func:`link` therefore takes the
model, date order and term frequencies from a :class:`~.matcher.Matcher` (the one the last full
scan fitted, or the default prior) and only blocks, compares and scores, in DuckDB, vectorised:
the same comparison SQL as the batch, so a thousand new rows cost one query, not a thousand calls
of :meth:`Matcher.score`.

Invariants:

* **pairs** are new–existing (``id_l`` existing) and new–new (``id_l`` the earlier new record,
  in ``new``'s order); never existing–existing. Each pair appears once, with ``l`` before ``r``
  as in the batch, so a pair's probability equals ``matcher.score(new_record, [left_record])``
  (tested): same normalisation (:func:`.prepare.prepare` with the matcher's ``dayfirst``), same
  comparison (:func:`.compare.compare_sql`), the matcher's term frequencies (its ``default``
  share for a value it does not hold) and :func:`.fellegi_sunter.tf_weight`; exact copies are
  probability 1, weight ``inf``.
* **candidates** come from blocking keys (:data:`LINK_KEYS`: the batch's eight, plus the two
  names in either order, since an import's rows often have no date of birth), with the batch's
  block cap: a value shared by more than ``cap`` records yields no pairs and a warning.
  The caller chooses which existing records to pass (e.g. those sharing an email, a phone or a
  name with a new row, through its own indexes); only pairs the keys find are scored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from . import fellegi_sunter as fs
from .blocking import DEFAULT_CAP, KEYS, BlockingReport, candidate_pairs
from .compare import FIELD_NAMES, FIELDS, TF_FIELDS, TF_SOURCES, compare_sql
from .matcher import Matcher
from .prepare import INFORMATIVE, ColumnMap, prepare

LINK_KEYS: dict[str, str] = {
    **KEYS,
    "names": "least(given_canon, surname) || '|' || greatest(given_canon, surname)",
}
# Every normalised column: two records equal on all of them (and informative enough) are exact copies.
_NORMALISED = ("given", "given_canon", "given_as_surname", "surname_as_given", "surname", "surname_sdx", "email",
               "phone", "street", "city", "postcode", "state", "dob", "dob_swapped", "org", "work_domain")
PAIR_COLUMNS = ("id_l", "id_r", "probability", "match_weight", "swapped", "exact_copy", *FIELD_NAMES)


@dataclass(frozen=True)
class Linkage:
    """What :func:`link` found: ``pairs`` (columns :data:`PAIR_COLUMNS`, strongest first) and blocking."""

    pairs: pd.DataFrame
    blocking: BlockingReport | None
    warnings: tuple[str, ...]


def _empty_pairs() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series([], dtype=object if name in ("id_l", "id_r") else float)
                         for name in PAIR_COLUMNS})


def _frequency_frame(shares: Mapping[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"v": pd.Series(list(shares.keys()), dtype=object),
                         "share": pd.Series(list(shares.values()), dtype=float)})


def link(existing: pd.DataFrame, new: pd.DataFrame, *, matcher: Matcher, id_column: str = "id",
         columns: ColumnMap | None = None, keys: Mapping[str, str] | None = None, cap: int = DEFAULT_CAP,
         min_probability: float | None = None, threads: int | None = None,
         memory_limit: str = "1GB") -> Linkage:
    """Score each record of ``new`` against ``existing`` and against the earlier records of ``new``.

    ``min_probability`` (default: the matcher's) drops weaker pairs. Raises ``KeyError`` for a
    missing id column and ``ValueError`` when an id repeats across the two frames.
    """
    for frame in (existing, new):
        if id_column not in frame.columns:
            raise KeyError(f"no id column {id_column!r}")
    columns = columns or ColumnMap()
    floor = matcher.min_probability if min_probability is None else float(min_probability)
    if len(new) == 0:
        return Linkage(_empty_pairs(), None, ())
    frame = pd.concat([existing, new], ignore_index=True)
    ids = frame[id_column].to_numpy(dtype=object)
    if len(pd.unique(frame[id_column].astype(str))) != len(ids):
        raise ValueError(f"the id column {id_column!r} has duplicate values across the two frames")
    known = len(existing)
    records = prepare(frame, columns, dayfirst=matcher.dayfirst)
    con = duckdb.connect(config={"memory_limit": memory_limit, **({"threads": threads} if threads else {})})
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("link_input", records)
        con.execute("CREATE TEMP TABLE recs AS SELECT * FROM link_input")
        blocking = candidate_pairs(con, records="recs", out="link_all", cap=cap,
                                   keys=dict(LINK_KEYS if keys is None else keys))
        # l < r and the new records come last: a pair holds a new record exactly when r does.
        con.execute(f"CREATE TEMP TABLE link_cand AS SELECT l, r FROM link_all WHERE r >= {known}")
        for name, (table, _column) in TF_SOURCES.items():
            con.register(f"mfreq_{table}_input", _frequency_frame(matcher.frequencies[name].shares))
            con.execute(f"CREATE TEMP TABLE mfreq_{table} AS SELECT v::VARCHAR AS v, share::DOUBLE AS share "
                        f"FROM mfreq_{table}_input")
        tf_cols = ", ".join(TF_FIELDS.values())
        scored = con.execute(f"SELECT l, r, swapped, {', '.join(FIELD_NAMES)}, {tf_cols} "
                             f"FROM ({compare_sql(pairs='link_cand', records='recs', freq='mfreq')}) "
                             f"ORDER BY l, r").fetchdf()
        same = " AND ".join(f"a.{c} IS NOT DISTINCT FROM b.{c}" for c in _NORMALISED)
        informative = " + ".join(f"(b.{c} IS NOT NULL)::INT" for c in INFORMATIVE)
        copies = con.execute(f"""
            SELECT p.l, p.r FROM link_cand p JOIN recs a ON a.rid = p.l JOIN recs b ON b.rid = p.r
            WHERE {same} AND {informative} >= 3
        """).fetchall()
    finally:
        con.close()
    if len(scored) == 0:
        return Linkage(_empty_pairs(), blocking, blocking.warnings)
    levels = np.column_stack([scored[f].to_numpy(dtype=np.int8) for f in FIELD_NAMES])
    shares = {}
    for name, tf_column in TF_FIELDS.items():
        f = FIELD_NAMES.index(name)
        top = len(FIELDS[f].levels) - 1
        share = pd.to_numeric(scored[tf_column], errors="coerce").to_numpy(dtype=float, copy=True)
        default = matcher.frequencies[name].default
        # A value the matcher does not hold gets its default share, as Matcher.score gives it.
        fill = (levels[:, f] == top) & np.isnan(share)
        share[fill] = np.nan if default is None else default
        shares[name] = share
    weight = fs.tf_weight(matcher.model, levels, shares)
    probability = fs.sigmoid(weight)
    bits = weight / np.log(2.0)
    left = scored["l"].to_numpy(dtype=np.int64)
    right = scored["r"].to_numpy(dtype=np.int64)
    exact = np.zeros(len(scored), dtype=bool)
    if copies:
        copy_set = set(copies)
        exact = np.fromiter(((a, b) in copy_set for a, b in zip(left.tolist(), right.tolist(), strict=True)),
                            dtype=bool, count=len(scored))
        probability = np.where(exact, 1.0, probability)
        bits = np.where(exact, np.inf, bits)
    out = pd.DataFrame({"id_l": ids[left], "id_r": ids[right], "probability": probability, "match_weight": bits,
                        "swapped": scored["swapped"].to_numpy(dtype=bool), "exact_copy": exact,
                        **{f: levels[:, i] for i, f in enumerate(FIELD_NAMES)}})
    out = out[out["probability"] >= floor]
    out = out.sort_values("probability", ascending=False, kind="stable").reset_index(drop=True)
    return Linkage(out, blocking, blocking.warnings)
