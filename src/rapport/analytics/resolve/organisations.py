"""Identity resolution for organisations (companies): which records of a table are the same company.

    from rapport.analytics.resolve.organisations import OrgColumnMap, resolve_organisations, OrgMatcher
    result = resolve_organisations(frame, columns=OrgColumnMap(name="company", website="url", ...))
    result.clusters, result.pairs, result.model, result.warnings      # as resolve() gives for people
    OrgMatcher.from_resolution(result).score(new_company, candidates)  # one record at a time

The people pipeline's steps, with organisation fields: :mod:`.org_normalize` and :func:`prepare_orgs`
make the record table; records identical on every normalised field (and with a name plus one of
domain, phone, street or identifier) are collapsed first, so a million copies of one company cost
a group-by; :func:`.blocking.candidate_pairs` finds candidates through :data:`ORG_KEYS` with the
same per-block cap and warnings; :mod:`.org_compare` gives the levels; ``u`` is measured on random
pairs (exact-equality levels from value counts) and ``m``/``λ`` are fitted by EM
(:func:`.fellegi_sunter.fit`), with two classes of related non-matches — *branches* (same name and
domain, another office) and *namesakes* (same name, another company); :func:`.cluster.cluster`
links pairs above ``threshold`` and cuts weak chains.

Nothing here imports Django or another part of Rapport.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from . import fellegi_sunter as fs
from . import labels as labelled
from . import normalize as nz
from . import org_normalize as onz
from .blocking import DEFAULT_CAP, BlockingReport, candidate_pairs
from .cluster import cluster
from .matcher import PairScore
from .org_compare import ORG_FIELD_NAMES, ORG_FIELDS, ORG_LEVEL_NAMES, compare_org_records, org_compare_sql

FORMAT = 1
KIND = "organisation"

ORG_KEYS: dict[str, str] = {
    "domain": "domain",
    "phone": "phone",
    "identifier": "ident",
    "name": "name_sorted",
    "name letters": "name_compact",
    "name soundex+city": "name_sdx || '|' || city",
    "name soundex+postcode": "name_sdx || '|' || postcode",
    "first word+postcode": "first_word || '|' || postcode",
    "street+postcode": "street || '|' || postcode",
    "initials+city": "acronym || '|' || city",
}
# Which fields a related class may share (see fellegi_sunter.Related).
ORG_RELATED = (
    fs.Related("branch", free=tuple(f in {"name", "domain", "identifier"} for f in ORG_FIELD_NAMES)),
    fs.Related("namesake", free=tuple(f == "name" for f in ORG_FIELD_NAMES)),
)
# Exact-equality levels whose u comes from value counts: field -> (record column, level).
_EXACT_U = {"name": ("name_compact", 4), "domain": ("domain", 1), "phone": ("phone", 2), "identifier": ("ident", 1)}
# Present on a record worth collapsing with its identical copies: the name and one of these.
_COLLAPSE_WITH = ("domain", "phone", "street", "ident")

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class OrgColumnMap:
    """Which column of the caller's frame holds each role; ``None`` (or absent) when there is none.

    The domain is read from ``domain``, else ``website``, else ``email`` (the first that gives one).
    """

    name: str | None = "name"
    domain: str | None = "domain"
    website: str | None = "website"
    email: str | None = "email"
    phone: str | None = "phone"
    street_address: str | None = "street_address"
    city: str | None = "city"
    postcode: str | None = "postcode"
    identifier: str | None = "identifier"

    def roles(self) -> dict[str, str | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# Record-table column -> (role, normaliser). Derived name columns are computed from the raw name too.
_STEPS: tuple[tuple[str, str, Callable[[object], str]], ...] = (
    ("name", "name", onz.company_name),
    ("name_sorted", "name", onz.name_sorted),
    ("name_compact", "name", onz.name_compact),
    ("acronym", "name", onz.acronym),
    ("name_sdx", "name", onz.name_soundex),
    ("first_word", "name", onz.first_word),
    ("phone", "phone", nz.phone),
    ("street", "street_address", nz.street_address),
    ("city", "city", nz.city),
    ("postcode", "postcode", nz.postcode),
    ("ident", "identifier", onz.identifier),
)
COLUMNS = (*(column for column, _role, _fn in _STEPS), "domain")


def _domain_of(values: Mapping[str, Any]) -> str:
    for role in ("domain", "website", "email"):
        got = onz.domain(values.get(role))
        if got:
            return got
    return ""


def prepare_orgs(frame: pd.DataFrame, columns: OrgColumnMap | None = None) -> pa.Table:
    """The normalised record table: ``rid`` (row position), :data:`COLUMNS`, ``exact`` (null); null = missing."""
    roles = (columns or OrgColumnMap()).roles()
    n = len(frame)

    def raw(role: str) -> pd.Series:
        name = roles.get(role)
        if name is None or name not in frame.columns:
            return pd.Series([None] * n, dtype=object)
        return frame[name]

    out: dict[str, pa.Array] = {"rid": pa.array(np.arange(n, dtype=np.int64))}
    for column, role, fn in _STEPS:
        out[column] = _arrow(nz.apply_unique(raw(role), fn))
    domains = np.full(n, "", dtype=object)
    for role in ("email", "website", "domain"):  # later roles win: domain, then website, then email
        got = nz.apply_unique(raw(role), onz.domain)
        domains = np.where(got != "", got, domains)
    out["domain"] = _arrow(domains)
    out["exact"] = pa.nulls(n, type=pa.string())
    return pa.table(out)


def _arrow(values: np.ndarray) -> pa.Array:
    return pa.array([v or None for v in values], type=pa.string())


def normalise_org(record: Mapping[str, Any], columns: OrgColumnMap | None = None) -> dict[str, str | None]:
    """One row of :func:`prepare_orgs`' table for a single record (same normalisers, same result)."""
    roles = (columns or OrgColumnMap()).roles()

    def get(role: str) -> Any:
        name = roles.get(role)
        value = record.get(name) if name is not None else None
        return None if value is None or (isinstance(value, float) and np.isnan(value)) else value

    row = {column: fn(get(role)) or None for column, role, fn in _STEPS}
    row["domain"] = _domain_of({role: get(role) for role in ("domain", "website", "email")}) or None
    return row


@dataclass(frozen=True)
class OrgResolution:
    """The outcome of :func:`resolve_organisations` (columns as :class:`rapport.analytics.resolve.Resolution`).

    ``clusters``: ``id``, ``cluster_id``, ``confidence``, one row per input record in input order.
    ``pairs``: ``id_l``, ``id_r``, ``probability``, ``match_weight`` (natural log; ``inf`` for a
    collapsed exact copy) and one level column per field, strongest first.
    """

    clusters: pd.DataFrame
    pairs: pd.DataFrame
    model: fs.Model | None
    blocking: BlockingReport | None
    warnings: tuple[str, ...]
    seconds: dict[str, float] = field(default_factory=dict)
    collapsed: int = 0

    @property
    def cluster_count(self) -> int:
        return int(self.clusters["cluster_id"].nunique()) if len(self.clusters) else 0


def _quiet(stage: str, fraction: float) -> None:
    return None


def resolve_organisations(
    frame: pd.DataFrame,
    *,
    id_column: str = "id",
    columns: OrgColumnMap | None = None,
    threshold: float = 0.9,
    cohesion: float = 0.5,
    block_cap: int = DEFAULT_CAP,
    labels: pd.DataFrame | None = None,
    min_pair_probability: float = 0.05,
    random_pairs: int = 300_000,
    seed: int = 0,
    memory_limit: str = "2GB",
    threads: int | None = None,
    progress: Progress | None = None,
) -> OrgResolution:
    """Cluster the records of ``frame`` into companies (see the module docstring).

    ``labels`` (optional): reviewed pairs ``id_l``, ``id_r``, ``match``; they refine ``m``/``λ``
    and fix those pairs' probabilities to 1 or 0. Raises ``KeyError`` for a missing id column,
    ``ValueError`` for duplicate ids or a threshold outside (0, 1). Empty and one-record frames
    give singleton clusters and no model.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError("threshold must be between 0 and 1")
    if id_column not in frame.columns:
        raise KeyError(f"no id column {id_column!r}")
    ids = frame[id_column].astype(str).to_numpy(dtype=object)
    if len(pd.unique(ids)) != len(ids):
        raise ValueError(f"the id column {id_column!r} has duplicate values")
    report = progress or _quiet
    seconds: dict[str, float] = {}
    started = time.perf_counter()

    def lap(stage: str, fraction: float) -> None:
        nonlocal started
        now = time.perf_counter()
        seconds[stage] = seconds.get(stage, 0.0) + now - started
        started = now
        report(stage, fraction)

    n = len(frame)
    records = prepare_orgs(frame, columns)
    lap("normalise", 0.15)
    warnings: list[str] = []
    con = duckdb.connect(config={"memory_limit": memory_limit, **({"threads": threads} if threads else {})})
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("recs_input", records)
        informative = " OR ".join(f"{c} IS NOT NULL" for c in _COLLAPSE_WITH)
        everything = ", ".join(COLUMNS)
        con.execute(f"""
            CREATE TEMP TABLE rep AS
            SELECT rid, CASE WHEN name IS NOT NULL AND ({informative})
                             THEN min(rid) OVER (PARTITION BY {everything}) ELSE rid END AS rep
            FROM recs_input
        """)
        con.execute("CREATE TEMP TABLE recs AS SELECT r.* FROM recs_input r JOIN rep USING (rid) WHERE rep.rep = rid")
        rep = con.execute("SELECT rep FROM rep ORDER BY rid").fetchnumpy()["rep"].astype(np.int64) if n else \
            np.zeros(0, dtype=np.int64)
        collapsed = int((rep != np.arange(n)).sum())
        distinct = n - collapsed
        total_pairs = distinct * (distinct - 1) // 2
        lap("collapse", 0.2)
        blocking = candidate_pairs(con, records="recs", out="cand", cap=block_cap, keys=ORG_KEYS)
        warnings.extend(blocking.warnings)
        label_pairs = labelled.label_pairs(labels, ids, rep)
        if len(label_pairs):
            con.register("label_input", label_pairs[["l", "r"]])
            con.execute("CREATE TEMP TABLE scored AS SELECT l, r FROM cand UNION SELECT l, r FROM label_input")
        else:
            con.execute("CREATE TEMP VIEW scored AS SELECT l, r FROM cand")
        con.execute(f"CREATE TEMP TABLE cmp AS {org_compare_sql(pairs='scored')}")
        lap("compare", 0.5)
        model = None
        level_cols = ", ".join(ORG_FIELD_NAMES)
        if total_pairs > 0:
            u = _estimate_u(con, distinct=distinct, sample=random_pairs, seed=seed)
            grouped = con.execute(f"SELECT {level_cols}, count(*) AS c FROM cand JOIN cmp USING (l, r) "
                                  f"GROUP BY ALL").fetchnumpy()
            pattern_levels = np.column_stack([grouped[f] for f in ORG_FIELD_NAMES]) if len(grouped["c"]) else \
                np.zeros((0, len(ORG_FIELDS)), dtype=np.int8)
            model = fs.fit(pattern_levels, grouped["c"], u=u, total_pairs=total_pairs, fields=ORG_FIELD_NAMES,
                           related=ORG_RELATED)
            if not model.converged:
                warnings.append(f"EM stopped after {model.iterations} iterations without converging")
            if len(label_pairs):
                label_levels = labelled.label_levels(con, label_pairs, ORG_FIELD_NAMES)
                model = fs.refine(model, pattern_levels, grouped["c"], label_levels=label_levels,
                                  label_match=label_pairs["match"].to_numpy(dtype=float), total_pairs=total_pairs)
        lap("fit", 0.7)
        scored = con.execute(f"SELECT l, r, {level_cols} FROM cmp").fetchnumpy()
        left, right = scored["l"].astype(np.int64), scored["r"].astype(np.int64)
        levels = np.column_stack([np.asarray(scored[f]) for f in ORG_FIELD_NAMES]) if len(left) else \
            np.zeros((0, len(ORG_FIELDS)), dtype=np.int8)
        weight = model.match_weight(levels) if model is not None and len(left) else np.zeros(len(left))
        probability = fs.sigmoid(weight) if model is not None and len(left) else np.zeros(len(left))
        if len(label_pairs):
            probability, weight = _apply_labels(left, right, probability, weight, label_pairs)
        lap("score", 0.8)

        def scorer(extra_l: np.ndarray, extra_r: np.ndarray) -> np.ndarray:
            if model is None:
                return np.zeros(len(extra_l))
            con.register("extra_pairs", pd.DataFrame({"l": extra_l, "r": extra_r}))
            got = con.execute(f"SELECT l, r, {level_cols} FROM ({org_compare_sql(pairs='extra_pairs')})").fetchdf()
            con.unregister("extra_pairs")
            p = model.probability(got[list(ORG_FIELD_NAMES)].to_numpy())
            lookup = dict(zip(zip(got["l"], got["r"], strict=True), p, strict=True))
            return np.array([lookup.get((a, b), 0.0) for a, b in zip(extra_l, extra_r, strict=True)])

        result = cluster(n, left, right, probability, threshold=threshold, cohesion=cohesion, scorer=scorer)
        lap("cluster", 0.95)
    finally:
        con.close()
    clusters, pairs = _assemble(ids, rep, result.labels, result.confidence, left, right, probability, weight, levels,
                                min_pair_probability)
    lap("output", 1.0)
    return OrgResolution(clusters=clusters, pairs=pairs, model=model, blocking=blocking, warnings=tuple(warnings),
                         seconds=seconds, collapsed=collapsed)


def _estimate_u(con: duckdb.DuckDBPyConnection, *, distinct: int, sample: int, seed: int) -> tuple[np.ndarray, ...]:
    """u per field: level shares over random distinct pairs; exact levels from value counts."""
    rids = con.execute("SELECT rid FROM recs ORDER BY rid").fetchnumpy()["rid"].astype(np.int64)
    all_pairs = distinct * (distinct - 1) // 2
    if all_pairs <= sample:
        i, j = np.triu_indices(distinct, 1)
    else:
        rng = np.random.default_rng(seed)
        i = rng.integers(0, distinct, size=sample)
        j = rng.integers(0, distinct - 1, size=sample)
        j = j + (j >= i)
        i, j = np.minimum(i, j), np.maximum(i, j)
    con.register("random_input", pd.DataFrame({"l": rids[i], "r": rids[j]}))
    levels = con.execute(f"SELECT {', '.join(ORG_FIELD_NAMES)} FROM ({org_compare_sql(pairs='random_input')})"
                         ).fetchnumpy()
    con.unregister("random_input")
    u = []
    for spec in ORG_FIELDS:
        k = len(spec.levels)
        column = levels[spec.name]
        counts = np.bincount(column[column >= 0].astype(np.int64), minlength=k)[:k].astype(float) + 0.5
        share = counts / counts.sum()
        if spec.name in _EXACT_U:
            source, top = _EXACT_U[spec.name]
            agree = con.execute(f"""
                SELECT coalesce(sum(c * (c - 1)), 0) / greatest(sum(sum(c)) OVER () * (sum(sum(c)) OVER () - 1), 1)
                FROM (SELECT count(*) AS c FROM recs WHERE {source} IS NOT NULL GROUP BY {source})
            """).fetchall()
            exact = float(agree[0][0]) if agree and agree[0][0] is not None else 0.0
            exact = min(max(exact, 1.0 / max(all_pairs, 1)), 0.999)
            rest = np.delete(share, top)
            share = np.insert(rest / rest.sum() * (1.0 - exact), top, exact)
        u.append(share)
    return tuple(u)


def _apply_labels(left: np.ndarray, right: np.ndarray, probability: np.ndarray, weight: np.ndarray,
                  label_pairs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    key = pd.MultiIndex.from_arrays([left, right])
    labelled = pd.Series(label_pairs["match"].to_numpy(), index=pd.MultiIndex.from_frame(label_pairs[["l", "r"]]))
    decided = labelled.reindex(key).to_numpy()
    known = pd.notna(decided)
    probability, weight = probability.copy(), weight.copy()
    yes = known & (decided == True)  # noqa: E712 - an object array of True/False/NaN
    probability[yes], weight[yes] = 1.0, np.inf
    probability[known & ~yes], weight[known & ~yes] = 0.0, -np.inf
    return probability, weight


def _assemble(ids: np.ndarray, rep: np.ndarray, labels: np.ndarray, confidence: np.ndarray, left: np.ndarray,
              right: np.ndarray, probability: np.ndarray, weight: np.ndarray, levels: np.ndarray,
              min_pair_probability: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Collapsed copies join their representative's cluster; pairs in id terms, strongest first."""
    n = len(ids)
    final = labels[rep] if n else labels
    conf = np.where(rep != np.arange(n), confidence[rep], confidence) if n else confidence
    # The cluster id is the id of its first record in input order.
    first = np.full(n, n, dtype=np.int64)
    if n:
        np.minimum.at(first, final, np.arange(n))
    clusters = pd.DataFrame({"id": ids, "cluster_id": ids[first[final]] if n else ids, "confidence": conf})
    keep = probability >= min_pair_probability
    pairs = pd.DataFrame({"id_l": ids[left[keep]], "id_r": ids[right[keep]], "probability": probability[keep],
                          "match_weight": weight[keep],
                          **{name: levels[keep, f] for f, name in enumerate(ORG_FIELD_NAMES)}})
    copies = np.flatnonzero(rep != np.arange(n))
    if len(copies):
        extra = pd.DataFrame({"id_l": ids[rep[copies]], "id_r": ids[copies], "probability": 1.0,
                              "match_weight": np.inf,
                              **{name: np.full(len(copies), -1, dtype=np.int8) for name in ORG_FIELD_NAMES}})
        pairs = pd.concat([extra, pairs], ignore_index=True)
    pairs = pairs.sort_values("probability", ascending=False, kind="stable").reset_index(drop=True)
    return clusters, pairs


# --- one record at a time -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgMatcher:
    """A fitted organisation model and its thresholds: scores one company against a few candidates.

    Invariants: ``model`` has exactly the fields and level counts of :data:`.org_compare.ORG_FIELDS`
    (a stored matcher of another scheme is refused); ``0 < min_probability <= threshold < 1``.
    A pair scored here gets the probability :func:`resolve_organisations` gives it with the same
    model (same normalisers, :func:`.org_compare.compare_org_records` is the SQL's twin), exact
    copies excepted (probability 1, as the batch's collapsed records).
    """

    model: fs.Model
    threshold: float = 0.9
    min_probability: float = 0.05

    def __post_init__(self) -> None:
        if tuple(self.model.fields) != ORG_FIELD_NAMES or \
                tuple(len(u) for u in self.model.u) != tuple(len(f.levels) for f in ORG_FIELDS):
            raise ValueError("the model's fields or levels are not those of org_compare.ORG_FIELDS")
        if not 0.0 < self.min_probability <= self.threshold < 1.0:
            raise ValueError("thresholds must satisfy 0 < min_probability <= threshold < 1")

    @classmethod
    def from_resolution(cls, resolution: OrgResolution, *, threshold: float = 0.9,
                        min_probability: float = 0.05) -> OrgMatcher:
        """The matcher of a batch run. Raises ``ValueError`` when the run fitted no model."""
        if resolution.model is None:
            raise ValueError("the resolution has no fitted model (fewer than two distinct records)")
        return cls(model=resolution.model, threshold=threshold, min_probability=min_probability)

    def score(self, record: Mapping[str, Any], candidates: Sequence[Mapping[str, Any]], *,
              columns: OrgColumnMap | None = None, id_column: str | None = None) -> list[PairScore]:
        """``record`` against each candidate, strongest first; the candidate plays the left record."""
        if not candidates:
            return []
        right = normalise_org(record, columns)
        may_copy = right["name"] is not None and any(right[c] is not None for c in _COLLAPSE_WITH)
        lefts = [normalise_org(candidate, columns) for candidate in candidates]
        codes = [compare_org_records(left, right) for left in lefts]
        weight = self.model.match_weight(np.array(codes, dtype=np.int8).reshape(len(codes), len(ORG_FIELDS)))
        probability = fs.sigmoid(weight)
        out = []
        for i, (left, code) in enumerate(zip(lefts, codes, strict=True)):
            exact = may_copy and left == right
            p, bits = (1.0, float("inf")) if exact else (float(probability[i]), float(weight[i] / np.log(2.0)))
            names = {name: ("missing", *ORG_LEVEL_NAMES[name])[c + 1] for name, c in zip(ORG_FIELD_NAMES, code,
                                                                                         strict=True)}
            out.append(PairScore(index=i, id=candidates[i].get(id_column) if id_column is not None else None,
                                 probability=p, match_weight=bits, duplicate=p >= self.threshold, swapped=False,
                                 exact_copy=exact, levels=names, codes=code))
        out.sort(key=lambda s: -s.probability)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable; :meth:`from_dict` restores it exactly."""
        m = self.model
        return {
            "format": FORMAT, "kind": KIND, "threshold": self.threshold, "min_probability": self.min_probability,
            "model": {
                "fields": list(m.fields), "m": [np.asarray(x, dtype=float).tolist() for x in m.m],
                "u": [np.asarray(x, dtype=float).tolist() for x in m.u], "lam": float(m.lam),
                "related": [{"name": c.name, "free": list(c.free), "lam": float(c.lam),
                             "r": [np.asarray(x, dtype=float).tolist() for x in c.r]} for c in m.related],
                "iterations": int(m.iterations), "log_likelihood": float(m.log_likelihood),
                "converged": bool(m.converged), "labelled_pairs": int(m.labelled_pairs),
                "history": [float(x) for x in m.history],
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OrgMatcher:
        """Raises ``ValueError`` for another format or kind, or other fields/levels."""
        if data.get("format") != FORMAT or data.get("kind") != KIND:
            raise ValueError(f"not an organisation matcher of format {FORMAT}")
        m = data["model"]
        model = fs.Model(
            fields=tuple(m["fields"]), m=tuple(np.array(x, dtype=float) for x in m["m"]),
            u=tuple(np.array(x, dtype=float) for x in m["u"]), lam=float(m["lam"]),
            iterations=int(m["iterations"]), log_likelihood=float(m["log_likelihood"]),
            converged=bool(m["converged"]), labelled_pairs=int(m["labelled_pairs"]),
            history=tuple(float(x) for x in m["history"]),
            related=tuple(fs.Related(name=c["name"], free=tuple(bool(x) for x in c["free"]), lam=float(c["lam"]),
                                     r=tuple(np.array(x, dtype=float) for x in c["r"])) for c in m["related"]),
        )
        return cls(model=model, threshold=float(data["threshold"]), min_probability=float(data["min_probability"]))
