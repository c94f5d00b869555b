"""Pairwise precision, recall and F1 of a clustering against the truth, overall and per corruption kind.

A clustering predicts every pair of records that share a cluster; the truth is every pair that
shares an entity. Precision = correct predicted pairs / predicted pairs, recall = correct /
true pairs; a measure whose denominator is 0 is 1.0 (nothing claimed, nothing missed).

Per kind, a pair counts for kind ``k`` when either of its records carries ``k`` in its
``corruptions`` (``;``-separated); pairs where neither record carries any kind count as ``none``.
The overall counts come from group sizes (no pair is materialised); the per-kind counts enumerate
the pairs inside clusters and entities and are skipped, with ``per_kind_skipped`` set, when that
would exceed ``max_pairs``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Counts:
    """Pair counts and the measures derived from them."""

    predicted: int
    true: int
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.true if self.true else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class Accuracy:
    """Overall pairwise accuracy and, per corruption kind, the same counts restricted to its pairs."""

    overall: Counts
    per_kind: dict[str, Counts] = field(default_factory=dict)
    per_kind_skipped: bool = False

    @property
    def precision(self) -> float:
        return self.overall.precision

    @property
    def recall(self) -> float:
        return self.overall.recall

    @property
    def f1(self) -> float:
        return self.overall.f1


def _pairs_in_groups(sizes: np.ndarray) -> int:
    sizes = sizes.astype(np.int64)
    return int((sizes * (sizes - 1) // 2).sum())


def _group_pairs(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (i, j), i < j, of row positions sharing a group code."""
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    sizes = np.diff(np.r_[starts, len(codes)])
    left, right = [], []
    for k in np.unique(sizes[sizes >= 2]):
        # Every group of size k at once: an (groups, k) index matrix and its upper triangle.
        group_starts = starts[sizes == k]
        members = order[group_starts[:, None] + np.arange(k)[None, :]]
        iu, ju = np.triu_indices(k, 1)
        a, b = members[:, iu].ravel(), members[:, ju].ravel()
        left.append(np.minimum(a, b))
        right.append(np.maximum(a, b))
    if not left:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(left), np.concatenate(right)


def evaluate(
    clusters: pd.DataFrame, truth: pd.DataFrame, *, id_column: str = "id", cluster_column: str = "cluster_id",
    entity_column: str = "entity_id", kinds_column: str = "corruptions", max_pairs: int = 20_000_000,
) -> Accuracy:
    """Pairwise accuracy of ``clusters`` (``id``, ``cluster_id``) against ``truth`` (``id``, ``entity_id``).

    Records missing from ``clusters`` count as singletons. ``truth`` may carry ``corruptions``
    for the per-kind figures.
    """
    merged = truth[[c for c in (id_column, entity_column, kinds_column) if c in truth.columns]].merge(
        clusters[[id_column, cluster_column]], on=id_column, how="left")
    missing = merged[cluster_column].isna()
    merged.loc[missing, cluster_column] = "\x00single:" + merged.loc[missing, id_column].astype(str)
    cluster_codes = pd.factorize(merged[cluster_column])[0]
    entity_codes = pd.factorize(merged[entity_column])[0]
    predicted = _pairs_in_groups(np.bincount(cluster_codes))
    true = _pairs_in_groups(np.bincount(entity_codes))
    both = cluster_codes.astype(np.int64) * (int(entity_codes.max(initial=0)) + 1) + entity_codes
    correct = _pairs_in_groups(np.unique(both, return_counts=True)[1])
    overall = Counts(predicted=predicted, true=true, correct=correct)
    if kinds_column not in merged.columns:
        return Accuracy(overall=overall)
    if predicted + true > max_pairs:
        return Accuracy(overall=overall, per_kind_skipped=True)
    kinds_text = merged[kinds_column].fillna("").astype(str)
    names = sorted({k for text in kinds_text.unique() for k in text.split(";") if k})
    bit = {name: 1 << i for i, name in enumerate(names)}
    mask_of = {text: sum(bit[k] for k in set(text.split(";")) if k) for text in kinds_text.unique()}
    masks = kinds_text.map(mask_of).to_numpy(dtype=np.int64)
    pl, pr = _group_pairs(cluster_codes)
    tl, tr = _group_pairs(entity_codes)
    p_same = entity_codes[pl] == entity_codes[pr]
    p_mask = masks[pl] | masks[pr]
    t_mask = masks[tl] | masks[tr]
    per_kind = {}
    for name in [*names, "none"]:
        if name == "none":
            p_has, t_has = p_mask == 0, t_mask == 0
        else:
            p_has, t_has = (p_mask & bit[name]) != 0, (t_mask & bit[name]) != 0
        per_kind[name] = Counts(predicted=int(p_has.sum()), true=int(t_has.sum()),
                                correct=int((p_has & p_same).sum()))
    return Accuracy(overall=overall, per_kind=per_kind)
