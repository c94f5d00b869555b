"""Identity resolution: find the records of one table that describe the same person, and cluster them.

    from rapport.analytics.resolve import ColumnMap, resolve, evaluate
    result = resolve(frame, id_column="id", columns=ColumnMap(given_name="first_name", ...))
    result.clusters      # id, cluster_id, confidence — one row per input record
    result.pairs         # id_l, id_r, probability, match_weight, swapped, one level column per field
    result.model         # the fitted Fellegi–Sunter parameters (fellegi_sunter.Model)
    result.warnings      # e.g. blocks skipped for being over the cap
    Matcher.from_resolution(result).score(new_record, candidates)   # one record at a time, same model
    link(existing, new, matcher=matcher)                           # many new records at once, same model

The pipeline, one module per step: :mod:`.normalize` (and :mod:`.prepare`) turn raw text into
comparable strings; records identical on every normalised field and informative enough (three
of given name, surname, email, phone, street, date of birth) are collapsed first; :mod:`.blocking`
finds candidate pairs through several keys with a block-size cap; :mod:`.compare` gives each
pair a level per field; :mod:`.fellegi_sunter` measures ``u`` on random pairs, fits ``m`` and
``λ`` by EM on the candidates (optionally refined with labelled pairs) and scores every pair;
:mod:`.cluster` links pairs above ``threshold`` and cuts weak chains. Labelled pairs are also
honoured as hard decisions for those pairs (probability 1 or 0).

Nothing here imports Django or another part of Rapport. DuckDB does the set work in memory
(``memory_limit``), on ``threads`` cores.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from . import fellegi_sunter as fs
from . import labels as labelled
from .blocking import DEFAULT_CAP, BlockingReport, candidate_pairs
from .cluster import Clustering, cluster
from .compare import FIELD_NAMES, FIELDS, TF_FIELDS, compare_sql, fetch_frequencies, value_frequencies
from .evaluate import Accuracy, Counts, evaluate
from .link import Linkage, link
from .matcher import Matcher, PairScore, default_matcher, fit_matcher, matcher_of_run
from .prepare import INFORMATIVE, ColumnMap, infer_dayfirst, prepare

__all__ = [
    "Accuracy",
    "BlockingReport",
    "ColumnMap",
    "Counts",
    "FIELDS",
    "Linkage",
    "Matcher",
    "PairScore",
    "Resolution",
    "default_matcher",
    "evaluate",
    "fit_matcher",
    "link",
    "matcher_of_run",
    "resolve",
]

# Exact-equality fields whose top level's u comes from value counts: field -> (column, level).
_EXACT_U = {"given_name": ("given_canon", 4), "surname": ("surname", 3), "email": ("email", 2),
            "phone": ("phone", 2), "date_of_birth": ("dob", 3)}

# The related-people classes (see fellegi_sunter): what a household shares, what namesakes share.
RELATED = (
    fs.Related("household", free=tuple(f in {"surname", "email", "phone", "location"} for f in FIELD_NAMES)),
    fs.Related("namesake", free=tuple(f in {"given_name", "surname", "email"} for f in FIELD_NAMES)),
)

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class Resolution:
    """The outcome of :func:`resolve`.

    ``clusters``: one row per input record, in input order: ``id``, ``cluster_id`` (the id of the
    cluster's first record in input order; a singleton's is its own id), ``confidence`` (see
    :mod:`.cluster`). ``pairs``: every scored pair with probability >= ``min_pair_probability``,
    plus collapsed exact copies (probability 1), strongest first.
    """

    clusters: pd.DataFrame
    pairs: pd.DataFrame
    model: fs.Model | None
    blocking: BlockingReport | None
    warnings: tuple[str, ...]
    seconds: dict[str, float] = field(default_factory=dict)
    collapsed: int = 0  # records folded into an identical earlier record before blocking
    # What scoring one more pair the same way needs (see matcher.Matcher.from_resolution): the
    # date order read from the frame, and per TF field the share of each value among the distinct
    # records' non-missing values, most frequent first.
    dayfirst: bool = True
    frequencies: dict[str, pd.Series] = field(default_factory=dict)

    @property
    def cluster_count(self) -> int:
        return int(self.clusters["cluster_id"].nunique()) if len(self.clusters) else 0


def _quiet(stage: str, fraction: float) -> None:
    return None


def resolve(
    frame: pd.DataFrame,
    *,
    id_column: str = "id",
    columns: ColumnMap | None = None,
    exact_columns: Sequence[str] = (),
    threshold: float = 0.9,
    cohesion: float = 0.5,
    block_cap: int = DEFAULT_CAP,
    labels: pd.DataFrame | None = None,
    min_pair_probability: float = 0.05,
    random_pairs: int = 300_000,
    seed: int = 0,
    memory_limit: str = "3GB",
    threads: int | None = None,
    progress: Progress | None = None,
) -> Resolution:
    """Cluster the records of ``frame`` into people (see the module docstring).

    ``labels`` (optional): reviewed pairs as columns ``id_l``, ``id_r``, ``match`` (bool); they refine
    ``m`` and ``λ`` and fix those pairs' probabilities. ``exact_columns``: columns two records must
    agree on to be linked at all (e.g. a tenant). Raises ``KeyError`` for a missing id column and
    ``ValueError`` for duplicate ids or a threshold outside (0, 1).
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError("threshold must be between 0 and 1")
    if id_column not in frame.columns:
        raise KeyError(f"no id column {id_column!r}")
    ids = frame[id_column].astype(str).to_numpy(dtype=object)
    if len(pd.unique(ids)) != len(ids):
        raise ValueError(f"the id column {id_column!r} has duplicate values")
    columns = columns or ColumnMap()
    report = progress or _quiet
    seconds: dict[str, float] = {}
    warnings: list[str] = []
    started = time.perf_counter()

    def lap(stage: str, fraction: float) -> None:
        nonlocal started
        now = time.perf_counter()
        seconds[stage] = seconds.get(stage, 0.0) + now - started
        started = now
        report(stage, fraction)

    n = len(frame)
    dayfirst = infer_dayfirst(frame, columns)
    records = prepare(frame, columns, exact_columns, dayfirst=dayfirst)
    lap("normalise", 0.15)
    con = duckdb.connect(config={"memory_limit": memory_limit, **({"threads": threads} if threads else {})})
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("recs_input", records)
        # Exact copies: same normalised values everywhere and informative enough to be one person.
        present = " + ".join(f"({c} IS NOT NULL)::INT" for c in INFORMATIVE)
        everything = ", ".join(name for name in records.column_names if name != "rid")
        con.execute(f"""
            CREATE TEMP TABLE rep AS
            SELECT rid, CASE WHEN {present} >= 3 THEN min(rid) OVER (PARTITION BY {everything}) ELSE rid END AS rep
            FROM recs_input
        """)
        con.execute("CREATE TEMP TABLE recs AS SELECT r.* FROM recs_input r JOIN rep USING (rid) WHERE rep.rep = rid")
        rep = con.execute("SELECT rid, rep FROM rep ORDER BY rid").fetchnumpy()["rep"].astype(np.int64)
        collapsed = int((rep != np.arange(n)).sum())
        distinct = n - collapsed
        total_pairs = distinct * (distinct - 1) // 2
        lap("collapse", 0.2)
        blocking = candidate_pairs(con, records="recs", out="cand", cap=block_cap)
        warnings.extend(blocking.warnings)
        label_pairs = labelled.label_pairs(labels, ids, rep)
        if len(label_pairs):
            con.register("label_input", label_pairs[["l", "r"]])
            con.execute("CREATE TEMP TABLE scored AS SELECT l, r FROM cand UNION SELECT l, r FROM label_input")
        else:
            con.execute("CREATE TEMP VIEW scored AS SELECT l, r FROM cand")
        lap("block", 0.35)
        value_frequencies(con, records="recs")
        frequencies = fetch_frequencies(con)
        con.execute(f"CREATE TEMP TABLE cmp AS {compare_sql(pairs='scored')}")
        lap("compare", 0.6)
        model = None
        level_cols = ", ".join(FIELD_NAMES)
        tf_cols = ", ".join(TF_FIELDS.values())
        if total_pairs > 0:
            u = _estimate_u(con, distinct=distinct, sample=random_pairs, seed=seed)
            grouped = con.execute(f"SELECT {level_cols}, count(*) AS c FROM cand JOIN cmp USING (l, r) "
                                  f"GROUP BY ALL").fetchnumpy()
            pattern_levels = np.column_stack([grouped[f] for f in FIELD_NAMES]) if len(grouped["c"]) else \
                np.zeros((0, len(FIELDS)), dtype=np.int8)
            model = fs.fit(pattern_levels, grouped["c"], u=u, total_pairs=total_pairs, fields=FIELD_NAMES,
                           related=RELATED)
            if not model.converged:
                warnings.append(f"EM stopped after {model.iterations} iterations without converging")
            if len(label_pairs):
                label_levels = labelled.label_levels(con, label_pairs, FIELD_NAMES)
                model = fs.refine(model, pattern_levels, grouped["c"], label_levels=label_levels,
                                  label_match=label_pairs["match"].to_numpy(dtype=float), total_pairs=total_pairs)
        lap("fit", 0.7)
        wanted = f"l, r, swapped, {level_cols}, {tf_cols}" if model else "l, r"
        scored = con.execute(f"SELECT {wanted} FROM cmp").fetchnumpy()
        left = scored["l"].astype(np.int64)
        right = scored["r"].astype(np.int64)
        if model is not None and len(left):
            probability, weight = _score(model, scored)
        else:
            probability, weight = np.zeros(len(left)), np.zeros(len(left))
        if len(label_pairs):
            probability, weight = _apply_labels(left, right, probability, weight, label_pairs)
        lap("score", 0.8)

        def scorer(extra_l: np.ndarray, extra_r: np.ndarray) -> np.ndarray:
            if model is None:
                return np.zeros(len(extra_l))
            con.register("extra_pairs", pd.DataFrame({"l": extra_l, "r": extra_r}))
            query = compare_sql(pairs="extra_pairs")
            got = con.execute(f"SELECT l, r, {level_cols}, {tf_cols} FROM ({query})").fetchdf()
            con.unregister("extra_pairs")
            lookup = dict(zip(zip(got["l"], got["r"], strict=True), _score(model, got)[0], strict=True))
            return np.array([lookup.get((a, b), 0.0) for a, b in zip(extra_l, extra_r, strict=True)])

        # Cluster the distinct records (indices into the full table; collapsed ones are absent).
        result = cluster(n, left, right, probability, threshold=threshold, cohesion=cohesion, scorer=scorer)
        lap("cluster", 0.95)
    finally:
        con.close()
    resolution = _assemble(ids, rep, result, left, right, probability, weight, scored, model, min_pair_probability)
    lap("output", 1.0)
    return Resolution(clusters=resolution[0], pairs=resolution[1], model=model, blocking=blocking,
                      warnings=tuple(warnings), seconds=seconds, collapsed=collapsed, dayfirst=dayfirst,
                      frequencies=frequencies)


def _estimate_u(con: duckdb.DuckDBPyConnection, *, distinct: int, sample: int, seed: int) -> tuple[np.ndarray, ...]:
    """u per field: level shares over random distinct pairs, exact levels from value counts."""
    rids = con.execute("SELECT rid FROM recs ORDER BY rid").fetchnumpy()["rid"].astype(np.int64)
    all_pairs = distinct * (distinct - 1) // 2
    if all_pairs <= sample:
        i, j = np.triu_indices(distinct, 1)
    else:
        rng = np.random.default_rng(seed)
        i = rng.integers(0, distinct, size=sample)
        j = rng.integers(0, distinct - 1, size=sample)
        j = j + (j >= i)  # a random other record
        i, j = np.minimum(i, j), np.maximum(i, j)
    con.register("random_input", pd.DataFrame({"l": rids[i], "r": rids[j]}))
    levels = con.execute(f"SELECT {', '.join(FIELD_NAMES)} FROM ({compare_sql(pairs='random_input')})").fetchnumpy()
    con.unregister("random_input")
    u = []
    for spec in FIELDS:
        k = len(spec.levels)
        column = levels[spec.name]
        counts = np.bincount(column[column >= 0].astype(np.int64), minlength=k)[:k].astype(float) + 0.5
        share = counts / counts.sum()
        if spec.name in _EXACT_U:
            source, top = _EXACT_U[spec.name]
            agree = con.execute(f"""
                SELECT coalesce(sum(c * (c - 1)), 0) / greatest(sum(sum(c)) OVER () * (sum(sum(c)) OVER () - 1), 1)
                FROM (SELECT count(*) AS c FROM recs WHERE {source} IS NOT NULL GROUP BY {source})
            """).fetchall()[0]
            exact = float(agree[0]) if agree and agree[0] is not None else 0.0
            # Floor: "once in the table" is the least agreement a random pair can show.
            exact = min(max(exact, 1.0 / max(all_pairs, 1)), 0.999)
            rest = np.delete(share, top)
            share = np.insert(rest / rest.sum() * (1.0 - exact), top, exact)
        u.append(share)
    return tuple(u)


def _score(model: fs.Model, scored: dict | pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Probability and natural-log match weight per pair, with term-frequency adjustment of name agreement."""
    levels = np.column_stack([np.asarray(scored[f]) for f in FIELD_NAMES])
    shares = {name: np.asarray(pd.to_numeric(pd.Series(scored[tf_column]), errors="coerce"), dtype=float)
              for name, tf_column in TF_FIELDS.items()}
    weight = fs.tf_weight(model, levels, shares)
    return fs.sigmoid(weight), weight


def _apply_labels(left: np.ndarray, right: np.ndarray, probability: np.ndarray, weight: np.ndarray,
                  label_pairs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    key = pd.MultiIndex.from_arrays([left, right])
    decided = pd.Series(label_pairs["match"].to_numpy(), index=pd.MultiIndex.from_frame(label_pairs[["l", "r"]]))
    found = decided.reindex(key).to_numpy()
    has = pd.notna(found)
    probability = probability.copy()
    weight = weight.copy()
    probability[has] = np.where(found[has].astype(bool), 1.0, 0.0)
    weight[has] = np.where(found[has].astype(bool), 50.0, -50.0)
    return probability, weight


def _assemble(ids: np.ndarray, rep: np.ndarray, result: Clustering, left: np.ndarray, right: np.ndarray,
              probability: np.ndarray, weight: np.ndarray, scored: dict, model: fs.Model | None,
              min_pair_probability: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = len(ids)
    labels = result.labels[rep] if n else np.zeros(0, dtype=np.int64)
    confidence = np.where(rep != np.arange(n), 1.0, result.confidence[rep]) if n else np.zeros(0)
    # A collapsed record is as sure as it gets; its representative keeps its own confidence.
    clusters = pd.DataFrame({"id": ids, "cluster_id": ids[labels] if n else ids, "confidence": confidence})
    keep = probability >= min_pair_probability
    pairs = {"id_l": ids[left[keep]], "id_r": ids[right[keep]], "probability": probability[keep],
             "match_weight": weight[keep] / np.log(2.0)}
    if model is not None:
        pairs["swapped"] = np.asarray(scored["swapped"])[keep]
        for f in FIELD_NAMES:
            pairs[f] = np.asarray(scored[f])[keep]
    copies = np.flatnonzero(rep != np.arange(n))
    copy_pairs = pd.DataFrame({"id_l": ids[rep[copies]], "id_r": ids[copies], "probability": 1.0,
                               "match_weight": np.inf})
    out = pd.concat([pd.DataFrame(pairs), copy_pairs], ignore_index=True) if len(copies) else pd.DataFrame(pairs)
    out = out.sort_values("probability", ascending=False, kind="stable").reset_index(drop=True)
    return clusters, out
