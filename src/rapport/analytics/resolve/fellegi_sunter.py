"""The Fellegi–Sunter model, fitted by expectation–maximisation without labels.

A pair of records is a match (M) or not (U). Each field ``f`` shows one level ``γ_f``; the
model assumes fields independent given the class, so with ``m_f(l) = P(γ_f = l | M)`` and
``u_f(l) = P(γ_f = l | U)`` the match weight of a pair is

    w = log λ/(1-λ) + Σ_f log m_f(γ_f)/u_f(γ_f)        (a missing field adds 0)

and its probability ``1 / (1 + e^-w)``. ``λ`` is the share of matches among *all* n(n-1)/2
pairs of the table, not among the candidates, so a probability means the same whatever the
blocking found.

One extension: extra latent classes of *related but different people*. Among non-matches some
fields are not independent — a household shares surname, address, phone and email; namesakes
share given name, surname and a name-made email — and a two-class model reads such a shared
block as an overwhelming match. Each related class (:class:`Related`) has its own levels for the
fields it may share (``free``) and the random-pair ``u`` for the rest, so it can explain "same
house, another person" or "same name, another person" but never "same person", which needs
agreement on who *and* where or when. Then

    P(match | γ) = λ_M·m(γ) / (λ_M·m(γ) + Σ_k λ_k·r_k(γ) + λ_U·u(γ)).

Estimation, and why it is done this way:

* ``u`` is measured, not fitted: random pairs of records are almost all non-matches, so ``u`` is
  the level frequencies of a random sample of pairs, with the top level of exact-equality fields
  computed from value counts (Σ c(c-1) / n(n-1)), which a sample would miss for rare events
  (two random records sharing an email);
* ``m``, the related classes and the λs are fitted by EM over the candidate pairs, grouped into
  distinct level *patterns* with counts, so one iteration costs O(patterns × fields), not
  O(pairs). Pairs outside the candidates are treated as known non-matches: their only role is
  in the λs' denominator. With ``u`` fixed, the non-match class cannot drift into "pairs that
  share a blocking key", the usual failure of unsupervised FS fitted on blocked pairs;
* a Dirichlet pseudo-count (``prior``) on every level keeps weights finite for levels no
  match showed;
* EM stops when no parameter moves by more than ``tol`` and the log-likelihood gains less than
  ``tol`` relative, or after ``max_iter`` iterations (then ``converged`` is false). The
  log-likelihood never decreases from one iteration to the next (EM's guarantee; tested).

:func:`refine` refits the same model with labelled pairs (reviewers' decisions) clamped to their
labels: a labelled match counts fully towards ``m``, a labelled non-match towards no match.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class Related:
    """A class of related non-matches: ``free[f]`` True where it has its own levels ``r[f]``."""

    name: str
    free: tuple[bool, ...]
    r: tuple[np.ndarray, ...] = ()
    lam: float = 0.0


@dataclass(frozen=True)
class Model:
    """Fitted parameters. ``m[f]`` and ``u[f]`` are arrays over field ``f``'s levels 0..K-1."""

    fields: tuple[str, ...]
    m: tuple[np.ndarray, ...]
    u: tuple[np.ndarray, ...]
    lam: float  # P(match) for a random pair of the table
    iterations: int
    log_likelihood: float
    converged: bool
    related: tuple[Related, ...] = ()
    labelled_pairs: int = 0
    history: tuple[float, ...] = ()  # log-likelihood per iteration

    @property
    def lam_unmatched(self) -> float:
        return 1.0 - self.lam - sum(c.lam for c in self.related)

    def weights(self) -> tuple[np.ndarray, ...]:
        """Per field, ``log(m/u)`` with a leading 0 for the missing level: index with ``level + 1``."""
        return tuple(np.concatenate([[0.0], np.log(m) - np.log(u)]) for m, u in zip(self.m, self.u, strict=True))

    def match_weight(self, levels: np.ndarray, *, u_adjust: np.ndarray | None = None) -> np.ndarray:
        """Natural-log odds of a match per row of ``levels`` (rows = pairs, columns = fields, -1 = missing).

        ``u_adjust`` (optional, per row) is added to the log-likelihood of the unrelated class: the
        term-frequency correction of name agreement.
        """
        index = np.asarray(levels).astype(np.int64) + 1
        m_tables, u_tables, *r_tables = self._log_tables
        match = np.log(self.lam) + _gather(index, m_tables)
        other = np.log(self.lam_unmatched) + _gather(index, u_tables)
        if u_adjust is not None:
            other = other + u_adjust
        for cls, tables in zip(self.related, r_tables, strict=True):
            if cls.lam > 0:
                other = np.logaddexp(other, np.log(cls.lam) + _gather(index, tables))
        return match - other

    @functools.cached_property
    def _log_tables(self) -> tuple[tuple[np.ndarray, ...], ...]:
        # log m, log u and each related class's log r, once per model (scoring one pair at a time repeats them).
        return (_log_tables(self.m), _log_tables(self.u), *(_log_tables(c.r) for c in self.related))

    def probability(self, levels: np.ndarray) -> np.ndarray:
        return sigmoid(self.match_weight(levels))


def tf_weight(model: Model, levels: np.ndarray, shares: Mapping[str, np.ndarray]) -> np.ndarray:
    """:meth:`Model.match_weight` with term-frequency adjustment of exact agreement on ``shares``' fields.

    ``shares[field]`` holds, per row, the share of the agreed value among the table's non-missing
    values (NaN where unknown); it counts only where the row is at that field's top level. A shared
    rare name says more than a shared common one: for a random pair, the chance of agreeing on this
    value is its own share, not the average ``u`` (bounded to 1000x either way).
    """
    levels = np.asarray(levels)
    adjust = np.zeros(len(levels))
    for name, tf in shares.items():
        f = model.fields.index(name)
        top = len(model.u[f]) - 1
        at_top = (levels[:, f] == top) & ~np.isnan(tf)
        u_top = model.u[f][top]
        value_share = np.clip(tf[at_top], u_top / 1000.0, min(u_top * 1000.0, 1.0))
        adjust[at_top] += np.log(value_share) - np.log(u_top)
    return model.match_weight(levels, u_adjust=adjust)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))


def patterns(levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of ``levels`` and their counts."""
    levels = np.asarray(levels, dtype=np.int8)
    if len(levels) == 0:
        return np.zeros((0, levels.shape[1]), dtype=np.int8), np.zeros(0, dtype=np.int64)
    unique, counts = np.unique(levels, axis=0, return_counts=True)
    return unique, counts.astype(np.int64)


def initial_m(level_counts: Sequence[int]) -> tuple[np.ndarray, ...]:
    """A neutral start: the top level 0.8, the rest sharing 0.2 in increasing steps."""
    out = []
    for k in level_counts:
        if k == 1:
            out.append(np.array([1.0]))
            continue
        rest = np.arange(1, k, dtype=float)
        rest = 0.2 * rest / rest.sum()
        out.append(np.concatenate([rest, [0.8]]))
    return tuple(out)


def _log_tables(params: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Per field, ``log p`` behind a 0 for the missing level: index with ``level + 1``."""
    return tuple(np.concatenate([[0.0], np.log(p)]) for p in params)


def _gather(index: np.ndarray, tables: Sequence[np.ndarray]) -> np.ndarray:
    total = np.zeros(index.shape[0])
    for f, table in enumerate(tables):
        total += table[index[:, f]]
    return total


def _log_probs(pattern_levels: np.ndarray, params: Sequence[np.ndarray]) -> np.ndarray:
    return _gather(np.asarray(pattern_levels).astype(np.int64) + 1, _log_tables(params))


def _m_step(pattern_levels: np.ndarray, weight: np.ndarray, level_counts: Sequence[int],
            prior: float) -> list[np.ndarray]:
    out = []
    for f, k in enumerate(level_counts):
        column = pattern_levels[:, f]
        seen = column >= 0
        mass = np.bincount(column[seen], weights=weight[seen], minlength=k)[:k] + prior
        out.append(mass / mass.sum())
    return out


def fit(
    pattern_levels: np.ndarray,
    counts: np.ndarray,
    *,
    u: Sequence[np.ndarray],
    total_pairs: int,
    fields: Sequence[str],
    related: Sequence[Related] = (),
    m_start: Sequence[np.ndarray] | None = None,
    lam_start: float | None = None,
    clamp: np.ndarray | None = None,
    prior: float = 0.5,
    tol: float = 1e-6,
    max_iter: int = 500,
) -> Model:
    """EM for ``m``, ``λ`` and the related classes with ``u`` fixed, over patterns with counts.

    ``total_pairs`` is the number of pairs in the whole table (n(n-1)/2), at least ``counts.sum()``.
    ``related`` lists the related classes (their ``free`` masks; their ``r``/``lam`` as a start,
    or empty to start neutral). ``clamp`` (one entry per pattern: 1 match, 0 non-match, NaN
    free) fixes the match posterior of labelled patterns.
    """
    pattern_levels = np.asarray(pattern_levels, dtype=np.int8)
    counts = np.asarray(counts, dtype=float)
    level_counts = [len(x) for x in u]
    u = [np.asarray(x, dtype=float) for x in u]
    m = [np.asarray(x, dtype=float).copy() for x in (m_start or initial_m(level_counts))]
    candidates = float(counts.sum())
    outside = max(float(total_pairs) - candidates, 0.0)
    lam = float(np.clip(lam_start if lam_start is not None else 0.25 * candidates / max(total_pairs, 1),
                        1e-12, 0.3))
    classes = []
    for cls in related:
        # A related class starts halfway between matches and strangers on the fields it may share.
        r = list(cls.r) if cls.r else [0.5 * mi + 0.5 * ui if free else ui for mi, ui, free in
                                       zip(m, u, cls.free, strict=True)]
        classes.append(Related(name=cls.name, free=tuple(cls.free), r=tuple(r), lam=cls.lam or lam / 4))
    if candidates == 0 or total_pairs <= 0:
        return Model(fields=tuple(fields), m=tuple(m), u=tuple(u), lam=1.0 / max(total_pairs, 2), iterations=0,
                     log_likelihood=0.0, converged=True, related=tuple(replace(c, lam=0.0) for c in classes))
    log_u = _log_probs(pattern_levels, u)
    fixed = np.zeros(len(counts), dtype=bool) if clamp is None else ~np.isnan(clamp)
    history: list[float] = []
    converged = False
    iteration = 0
    for iteration in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        # E step, in log space (weights reach ±50 nats): each pattern's share of each class.
        rest = 1.0 - lam - sum(c.lam for c in classes)
        logs = [np.log(lam) + _log_probs(pattern_levels, m), np.log(rest) + log_u]
        logs += [np.log(c.lam) + _log_probs(pattern_levels, c.r) for c in classes]
        log_mix = np.logaddexp.reduce(np.vstack(logs), axis=0)
        post = [np.exp(x - log_mix) for x in logs]
        if fixed.any():
            label = np.nan_to_num(clamp)
            post = [np.where(fixed, label, post[0]), np.where(fixed, 1.0 - label, post[1]),
                    *(np.where(fixed, 0.0, p) for p in post[2:])]
        ll = float((counts * log_mix).sum() + outside * np.log(rest))
        history.append(ll)
        # M step: class parameters from posterior-weighted level counts, shares over all pairs.
        new_m = _m_step(pattern_levels, counts * post[0], level_counts, prior)
        new_lam = float(np.clip((counts * post[0]).sum() / total_pairs, 1e-15, 0.3))
        new_classes = []
        for cls, p in zip(classes, post[2:], strict=True):
            fitted = _m_step(pattern_levels, counts * p, level_counts, prior)
            r = tuple(fitted[f] if cls.free[f] else u[f] for f in range(len(u)))
            new_classes.append(replace(cls, r=r, lam=float(np.clip((counts * p).sum() / total_pairs, 1e-15, 0.3))))
        old = [*m, *(x for c in classes for x in c.r)]
        new = [*new_m, *(x for c in new_classes for x in c.r)]
        delta = max(float(np.max(np.abs(x - y))) for x, y in zip(new, old, strict=True))
        m, lam, classes = new_m, new_lam, new_classes
        if delta < tol and len(history) > 1 and abs(history[-1] - history[-2]) <= tol * max(abs(ll), 1.0):
            converged = True
            break
    return Model(fields=tuple(fields), m=tuple(m), u=tuple(u), lam=lam, iterations=iteration,
                 log_likelihood=history[-1], converged=converged, related=tuple(classes),
                 labelled_pairs=int(fixed.sum()), history=tuple(history))


def refine(
    model: Model,
    pattern_levels: np.ndarray,
    counts: np.ndarray,
    *,
    label_levels: np.ndarray,
    label_match: np.ndarray,
    total_pairs: int,
    **options: float,
) -> Model:
    """Refit ``model`` with labelled pairs' posteriors fixed to their labels.

    ``label_levels`` are the labelled pairs' level rows, ``label_match`` their booleans. Each
    labelled pair is its own pattern row (so its clamp is exact), added to the unlabelled
    patterns: a labelled candidate pair is counted twice, which one pair among thousands does
    not notice.
    """
    label_levels = np.asarray(label_levels, dtype=np.int8).reshape(-1, np.asarray(pattern_levels).shape[1])
    all_levels = np.concatenate([np.asarray(pattern_levels, dtype=np.int8), label_levels])
    all_counts = np.concatenate([np.asarray(counts, dtype=float), np.ones(len(label_levels))])
    clamp = np.concatenate([np.full(len(counts), np.nan), np.asarray(label_match, dtype=float)])
    return fit(all_levels, all_counts, u=model.u, total_pairs=total_pairs + len(label_levels), fields=model.fields,
               related=model.related, m_start=model.m, lam_start=model.lam, clamp=clamp, **options)
