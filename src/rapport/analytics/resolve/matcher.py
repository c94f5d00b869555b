"""One new record against a few candidates: "possible duplicate of …", scored as :func:`resolve` would.

    matcher = Matcher.from_resolution(resolve(frame))        # or fit_matcher(frame), or default_matcher()
    store(json.dumps(matcher.to_dict()))                    # and Matcher.from_dict(json.loads(...)) later
    for hit in matcher.score(new_contact, candidates, columns=ColumnMap(...), id_column="id"):
        hit.probability, hit.match_weight, hit.levels        # {"surname": "exact", "email": "missing", ...}

The caller finds the candidates (same email, same phone, similar names: tens of records, through
its own indexes); this module only scores them, in pure Python: the batch's DuckDB path costs
tens of milliseconds per call here (registering the records, planning and running the comparison
query), the Python path a few milliseconds for fifty candidates (``bench/bench_matcher.py``).
Two small bounded caches make repeated values cheap — each normaliser's last 4,096 short string
inputs (:mod:`.prepare`) and the last 16,384 Jaro-Winkler pairs (:mod:`.compare`) — without
changing any result, since they hold results of pure functions; :func:`clear_caches` empties them.

Invariant — the same score as the batch: a pair scored by :meth:`Matcher.score` gets the
probability ``resolve()`` gives it when the matcher holds that run's model and frequencies
(:meth:`Matcher.from_resolution` with ``top_n`` at least the number of distinct values), with
the candidate as the left (earlier) record. That holds because each step is the batch's own code
or its clause-by-clause twin: :func:`prepare.normalise_record` runs the normalisers of
:func:`prepare.prepare` (:func:`prepare.steps`), :func:`compare.compare_records` mirrors the
comparison SQL (tested against it on thousands of pairs), and :func:`fellegi_sunter.tf_weight` is the
weight function both paths call. Exact copies (identical on every normalised field and informative
enough) are probability 1, as the batch's collapsed records are. Labels given to ``resolve()``
refine the model, which the matcher keeps, but the labelled pairs' forced 0/1 are not carried over.

Term frequencies (the one approximation, chosen with ``top_n``): the batch scores an exact
given-name or surname agreement against that value's share of the table. A million-contact table
has hundreds of thousands of distinct surnames, too many to store in a database row and load per
process, so the matcher keeps the ``top_n`` most frequent values per field (default 10,000: every
name that carries most of the mass, a few hundred kilobytes of JSON) and gives every other value
one *default share*, the largest share it left out. The tail names are rarer than that, so for
them the matcher is never more confident than the batch; it is less confident by at most
``log2(default / true share)`` bits (for a name seen once in 1M records behind a default of
5/1M, 2.3 bits). A name the fitted table never held (it grew since, or the matcher is the default
one) is scored at the default share too. With every value kept the default is the rarest
value's share.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import fellegi_sunter as fs
from .compare import FIELD_NAMES, FIELDS, TF_FIELDS, TF_SOURCES, compare_records, left_columns_for
from .prepare import INFORMATIVE, ColumnMap, normalise_record

if TYPE_CHECKING:
    from . import Resolution

FORMAT = 1  # the version of to_dict()'s layout; from_dict() refuses any other
DEFAULT_TOP_N = 10_000

# Short level names for the evidence shown to a user, per field, from level 0 up; -1 is "missing".
LEVEL_NAMES: dict[str, tuple[str, ...]] = {
    "given_name": ("different", "initial", "similar", "very similar", "exact"),  # "nickname" when only canonical
    "surname": ("different", "similar", "very similar", "exact"),
    "email": ("different", "one typo", "exact"),
    "phone": ("different", "one digit off", "exact"),
    "date_of_birth": ("different", "two of day, month and year", "day and month swapped", "exact"),
    "location": ("different", "same city or postcode", "same city and postcode", "similar street", "same street"),
    "organisation": ("different employer", "same work email domain", "similar employer", "same employer"),
}
MISSING = "missing"
_NAMES = tuple((f.name, (MISSING, *LEVEL_NAMES[f.name])) for f in FIELDS)  # index with level + 1


def _strongest_first(score: PairScore) -> float:
    return -score.probability


@dataclass(frozen=True)
class ValueShares:
    """The share of each frequent value of one term-frequency field among the non-missing values.

    ``shares`` holds at most ``top_n`` values (most frequent first); :meth:`share` gives any other
    value ``default`` (``None``: no adjustment at all, when the fitted table had no value).
    ``distinct`` is how many distinct values the fitted table had.
    """

    shares: Mapping[str, float]
    default: float | None
    distinct: int

    @classmethod
    def from_series(cls, series: pd.Series, *, top_n: int | None) -> ValueShares:
        """From a share-by-value series sorted most frequent first (``Resolution.frequencies``)."""
        kept = series if top_n is None else series.iloc[:top_n]
        if len(series) == 0:
            default = None
        elif len(kept) < len(series):
            default = float(series.iloc[len(kept)])  # the largest share left out
        else:
            default = float(series.iloc[-1])  # as rare as the rarest value seen
        return cls(shares=dict(zip(kept.index, map(float, kept.to_numpy()), strict=True)), default=default,
                   distinct=len(series))

    def share(self, value: str) -> float:
        got = self.shares.get(value, self.default)
        return np.nan if got is None else got


@dataclass(frozen=True)
class PairScore:
    """The new record against one candidate.

    ``index`` is the candidate's position in the list given to :meth:`Matcher.score`, ``id`` its
    ``id_column`` value (``None`` without one). ``match_weight`` is in bits (log2 odds; ``inf`` for
    an exact copy), ``probability`` its logistic, ``duplicate`` whether it reaches the matcher's
    ``threshold``. ``levels`` names each field's evidence (:data:`LEVEL_NAMES`, or ``"missing"``);
    ``codes`` are the same levels as numbers in :data:`compare.FIELDS` order, as in ``resolve()``'s
    pairs. ``swapped``: given name and surname were compared crossed.
    """

    index: int
    id: Any
    probability: float
    match_weight: float
    duplicate: bool
    swapped: bool
    exact_copy: bool
    levels: Mapping[str, str]
    codes: tuple[int, ...]


@dataclass(frozen=True)
class Matcher:
    """A fitted model, the term frequencies and the thresholds: everything scoring needs, nothing else.

    Invariants: ``model`` has exactly the fields and level counts of :data:`compare.FIELDS` (a
    stored matcher from another level scheme is refused, not misread); ``frequencies`` has a
    :class:`ValueShares` per term-frequency field; ``0 < min_probability <= threshold < 1``.
    Scoring never mutates the matcher, so one instance serves every thread.
    """

    model: fs.Model
    frequencies: Mapping[str, ValueShares]
    dayfirst: bool = True  # how ambiguous dates of birth read (inferred from the fitted table)
    threshold: float = 0.9  # "possible duplicate" from here: resolve()'s link threshold
    min_probability: float = 0.05  # weaker pairs are not worth showing: resolve()'s min_pair_probability
    # Distinct records of the table the model was fitted on (None: unknown). The model's λ are
    # shares of all pairs of that table, so they hold for a table of that size (see for_table).
    records: int | None = None
    # Per TF field: its index, top level, record column and shares (derived; not part of the value).
    _tf_index: tuple[tuple[int, int, str, ValueShares], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if tuple(self.model.fields) != FIELD_NAMES or \
                tuple(len(u) for u in self.model.u) != tuple(len(f.levels) for f in FIELDS):
            raise ValueError("the model's fields or levels are not those of compare.FIELDS")
        if set(self.frequencies) != set(TF_FIELDS):
            raise ValueError(f"frequencies must cover exactly {sorted(TF_FIELDS)}")
        if not 0.0 < self.min_probability <= self.threshold < 1.0:
            raise ValueError("thresholds must satisfy 0 < min_probability <= threshold < 1")
        index = tuple((FIELD_NAMES.index(name), len(FIELDS[FIELD_NAMES.index(name)].levels) - 1, TF_SOURCES[name][1],
                       self.frequencies[name]) for name in TF_FIELDS)
        object.__setattr__(self, "_tf_index", index)

    # -- building -------------------------------------------------------------------------------

    @classmethod
    def from_resolution(cls, resolution: Resolution, *, threshold: float = 0.9, min_probability: float = 0.05,
                        top_n: int | None = DEFAULT_TOP_N) -> Matcher:
        """The matcher of a batch run: its model, date order and (the ``top_n`` most frequent) term frequencies.

        ``top_n=None`` keeps every value (then scores equal the batch's exactly). Raises
        ``ValueError`` when the run fitted no model (fewer than two distinct records).
        """
        if resolution.model is None:
            raise ValueError("the resolution has no fitted model (fewer than two distinct records)")
        frequencies = {name: ValueShares.from_series(resolution.frequencies.get(name, pd.Series([], dtype=float)),
                                                     top_n=top_n) for name in TF_FIELDS}
        return cls(model=resolution.model, frequencies=frequencies, dayfirst=resolution.dayfirst,
                   threshold=threshold, min_probability=min_probability,
                   records=len(resolution.clusters) - resolution.collapsed)

    def for_table(self, records: int) -> Matcher:
        """This matcher for a table of ``records`` records: every class's ``λ`` rescaled to its size.

        ``λ`` is the share of all pairs that match (and each related class's, of all pairs that
        are, say, a household). A table's duplicates, households and namesakes grow about as its
        records, its pairs as their square, so the same people in a table ten times larger make
        each pair ten times less likely to match: a prior fitted on 10,000 records, or a fit of
        100,000 contacts scoring against a million, would otherwise be 3.3 bits over-confident
        per tenfold. The rescaling is by ``(fitted - 1) / (records - 1)``, and only ever down: a
        table smaller than the fitted one keeps the fitted ``λ`` (scaled up, the prior would call
        every pair of a ten-contact table a likely match; erring towards "not a duplicate" there
        costs a review, erring the other way a wrong merge). Unknown fitted size or a table no
        larger than the fitted one: ``self`` unchanged.
        """
        if self.records is None or records <= self.records or self.records < 2:
            return self
        factor = (self.records - 1) / (records - 1)
        model = self.model
        scaled = dataclasses.replace(
            model,
            lam=min(model.lam * factor, 0.5),
            related=tuple(dataclasses.replace(c, lam=min(c.lam * factor, 0.25)) for c in model.related),
        )
        return dataclasses.replace(self, model=scaled, records=records)

    # -- scoring --------------------------------------------------------------------------------

    def score(self, record: Mapping[str, Any], candidates: Sequence[Mapping[str, Any]], *,
              columns: ColumnMap | None = None, id_column: str | None = None) -> list[PairScore]:
        """``record`` against each candidate, strongest first (ties in candidate order).

        ``columns`` maps roles to the keys of ``record`` and the candidates (the same for both);
        a missing key or a ``None``/NaN value is a missing field. Any value is accepted (numbers,
        odd Unicode, kilobytes of text): the normalisers are total and the comparisons linear.
        """
        if not candidates:
            return []
        columns = columns or ColumnMap()
        dayfirst = self.dayfirst
        right = normalise_record(record, columns, dayfirst=dayfirst)
        # Only what the comparison with this record reads: a field the record lacks is missing anyway.
        only = left_columns_for(right)
        order = sorted(only)
        right_values = tuple(right[c] for c in order)
        may_copy = sum(right[c] is not None for c in INFORMATIVE) >= 3
        k = len(candidates)
        shares = {name: np.full(k, np.nan) for name in TF_FIELDS}
        tf_index = [(f, top, column, table, shares[name])
                    for (f, top, column, table), name in zip(self._tf_index, TF_FIELDS, strict=True)]
        all_codes = []
        details = []
        for i, candidate in enumerate(candidates):
            left = normalise_record(candidate, columns, dayfirst=dayfirst, only=only)
            swapped, codes = compare_records(left, right)
            all_codes.append(codes)
            for f, top, column, table, tf_shares in tf_index:
                if codes[f] == top:
                    tf_shares[i] = table.share(left[column])  # type: ignore[arg-type]
            # An exact copy is collapsed by the batch before scoring and reported with probability 1.
            exact = may_copy and tuple(left[c] for c in order) == right_values and \
                normalise_record(candidate, columns, dayfirst=dayfirst) == right
            nickname = codes[0] == 4 and left["given"] != (right["surname_as_given"] if swapped else right["given"])
            details.append((swapped, codes, exact, nickname))
        weight = fs.tf_weight(self.model, np.array(all_codes, dtype=np.int8), shares)
        probability = fs.sigmoid(weight).tolist()
        bits = (weight / np.log(2.0)).tolist()
        threshold = self.threshold
        out = []
        for i, (swapped, codes, exact, nickname) in enumerate(details):
            p, w = (1.0, float("inf")) if exact else (probability[i], bits[i])
            names = {name: table[c + 1] for (name, table), c in zip(_NAMES, codes, strict=True)}
            if nickname:
                names["given_name"] = "nickname"
            out.append(PairScore(index=i, id=candidates[i].get(id_column) if id_column is not None else None,
                                 probability=p, match_weight=w, duplicate=p >= threshold, swapped=swapped,
                                 exact_copy=exact, levels=names, codes=codes))
        out.sort(key=_strongest_first)
        return out

    def possible_duplicates(self, record: Mapping[str, Any], candidates: Sequence[Mapping[str, Any]], *,
                            columns: ColumnMap | None = None, id_column: str | None = None) -> list[PairScore]:
        """:meth:`score` without the pairs below ``min_probability``: what a warning should list."""
        return [s for s in self.score(record, candidates, columns=columns, id_column=id_column)
                if s.probability >= self.min_probability]

    # -- storage --------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (plain lists, floats, strings); ``from_dict`` restores it bit for bit."""
        model = self.model
        return {
            "format": FORMAT,
            "threshold": self.threshold,
            "min_probability": self.min_probability,
            "dayfirst": self.dayfirst,
            "records": self.records,
            "model": {
                "fields": list(model.fields),
                "m": [np.asarray(x, dtype=float).tolist() for x in model.m],
                "u": [np.asarray(x, dtype=float).tolist() for x in model.u],
                "lam": float(model.lam),
                "related": [{"name": c.name, "free": list(c.free), "lam": float(c.lam),
                             "r": [np.asarray(x, dtype=float).tolist() for x in c.r]} for c in model.related],
                "iterations": int(model.iterations),
                "log_likelihood": float(model.log_likelihood),
                "converged": bool(model.converged),
                "labelled_pairs": int(model.labelled_pairs),
                "history": [float(x) for x in model.history],
            },
            "frequencies": {name: {"default": shares.default, "distinct": shares.distinct,
                                   "shares": dict(shares.shares)} for name, shares in self.frequencies.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Matcher:
        """The matcher ``to_dict`` described. Raises ``ValueError`` for another ``format`` or other fields/levels."""
        if data.get("format") != FORMAT:
            raise ValueError(f"unsupported matcher format {data.get('format')!r} (this code reads {FORMAT})")
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
        frequencies = {name: ValueShares(shares={str(k): float(v) for k, v in f["shares"].items()},
                                         default=None if f["default"] is None else float(f["default"]),
                                         distinct=int(f["distinct"])) for name, f in data["frequencies"].items()}
        records = data.get("records")  # absent from matchers stored before it was kept
        return cls(model=model, frequencies=frequencies, dayfirst=bool(data["dayfirst"]),
                   threshold=float(data["threshold"]), min_probability=float(data["min_probability"]),
                   records=None if records is None else int(records))


MIN_LEARNT_MATCHES = 30.0


def matcher_of_run(resolution: Resolution, *, min_matches: float = MIN_LEARNT_MATCHES, threshold: float = 0.9,
                   min_probability: float = 0.05, top_n: int | None = DEFAULT_TOP_N) -> tuple[Matcher, bool]:
    """What a batch run should leave for scoring single records, and whether its model was learnt.

    EM learns ``m`` only from the duplicates it sees: on a table with (almost) none — a fresh CRM,
    a clean import — the fitted ``λ`` collapses towards 0 and the ``m`` go flat, and such a model
    would call no pair a duplicate ever again. So the run's own model is kept only when it
    expects at least ``min_matches`` matching pairs (:func:`expected_matches`); otherwise the
    prior's model (:func:`default_matcher`) is kept with the run's term frequencies and date
    order, which are right for this table whatever its duplicates.
    Returns ``(matcher, learnt)``; raises ``ValueError`` like :meth:`Matcher.from_resolution`.
    """
    own = Matcher.from_resolution(resolution, threshold=threshold, min_probability=min_probability, top_n=top_n)
    if expected_matches(own) >= min_matches:
        return own, True
    prior = default_matcher()
    return Matcher(model=prior.model, frequencies=own.frequencies, dayfirst=own.dayfirst, threshold=threshold,
                   min_probability=min_probability, records=prior.records), False


def expected_matches(matcher: Matcher) -> float:
    """How many matching pairs the model expects in the table it was fitted on (``λ`` × its pairs)."""
    n = matcher.records or 0
    return matcher.model.lam * n * (n - 1) / 2.0


def fit_matcher(frame: pd.DataFrame, *, id_column: str = "id", columns: ColumnMap | None = None,
                threshold: float = 0.9, min_probability: float = 0.05, top_n: int | None = DEFAULT_TOP_N,
                **options: Any) -> Matcher:
    """Run :func:`resolve` on ``frame`` (``options`` go to it) and keep its :meth:`Matcher.from_resolution`."""
    from . import resolve

    resolution = resolve(frame, id_column=id_column, columns=columns, threshold=threshold,
                         min_pair_probability=min_probability, **options)
    return Matcher.from_resolution(resolution, threshold=threshold, min_probability=min_probability, top_n=top_n)


def clear_caches() -> None:
    """Forget the normalisations and similarities the one-record path remembers between calls.

    Scores never depend on the caches (they hold results of pure functions); benchmarks clear them to
    measure a cold call.
    """
    from .compare import _jw_remembered
    from .prepare import clear_caches as clear_normalisations

    clear_normalisations()
    _jw_remembered.cache_clear()


# The prior for a fresh install: fit_matcher on simulated people, stored as constants.
DEFAULT_PEOPLE = 10_000
DEFAULT_SEED = 0
DEFAULT_PRIOR_TOP_N = 300


def fit_default_matcher() -> Matcher:
    """What :func:`default_matcher` holds, fitted afresh (seconds; deterministic: one DuckDB thread)."""
    from .simulate import people

    frame = people(DEFAULT_PEOPLE, seed=DEFAULT_SEED).drop(columns=["entity_id", "corruptions"])
    return fit_matcher(frame, top_n=DEFAULT_PRIOR_TOP_N, threads=1, seed=DEFAULT_SEED)


@functools.cache
def default_matcher() -> Matcher:
    """A prior matcher for an install with no batch run yet (one instance per process).

    It is :func:`fit_default_matcher`'s result — ``resolve()`` on 10,000 ``simulate.people``
    records (30% of people duplicated with realistic damage, households and namesakes among the
    rest), the 300 most frequent given names and surnames — stored in :mod:`._default_matcher` as
    ``to_dict()`` constants rather than fitted at first use: fitting takes seconds, which the first
    contact created in each web process would otherwise wait for, and constants cannot drift with
    a library upgrade unnoticed (a test refits and compares). Regenerate with
    :func:`write_default_module`. Its ``λ`` is that of a 10,000-record table;
    replace it with :meth:`Matcher.from_resolution` of the first real batch run.
    """
    from ._default_matcher import DEFAULT

    return Matcher.from_dict(DEFAULT)


def write_default_module() -> Path:  # pragma: no cover - a maintenance command
    """Refit the default matcher and rewrite :mod:`._default_matcher`; returns the file's path.

    ``.venv/bin/python -c "from rapport.analytics.resolve.matcher import write_default_module as w; w()"``
    """
    import json
    import pprint

    data = json.loads(json.dumps(fit_default_matcher().to_dict()))
    path = Path(__file__).with_name("_default_matcher.py")
    path.write_text(
        '"""Generated by ``matcher.write_default_module()``: ``fit_default_matcher().to_dict()``."""\n\n'
        f"DEFAULT = {pprint.pformat(data, width=120, sort_dicts=False)}\n"
    )
    return path
