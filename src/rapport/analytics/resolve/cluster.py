"""From scored pairs to clusters: connected components of strong links, with a guard against chains.

Transitive closure is what lets a record with a damaged surname join its entity through a
sibling record that agrees with it on other fields, so recall needs it. Its risk is the chain:
one wrong link merges two whole clusters (|A|·|B| wrong pairs). The rule here:

1. a link is an edge when its probability is at least ``threshold``;
2. connected components of those edges are the candidate clusters;
3. a component of three or more records is checked on *every* pair inside it (the caller scores
   the pairs blocking did not produce); it is kept whole when the average probability over all its
   pairs is at least ``cohesion``. Otherwise its weakest edge is cut — the edge whose removal
   leaves the least total probability across the cut — and both parts are checked again. A
   component above ``max_size`` is treated as a chain outright: its edges are re-thresholded
   upwards until every part fits.

Invariants: every record is in exactly one cluster; a cluster's id is the smallest record index
in it; two records linked only through weak pairs are never in one cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

# Scores the given (l, r) pairs: returns their probabilities.
Scorer = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Clustering:
    """``labels[i]`` is record ``i``'s cluster id (the smallest record index in the cluster)."""

    labels: np.ndarray
    confidence: np.ndarray
    split_components: int  # components the cohesion check cut apart
    checked_components: int


def components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Component label per record (the smallest member index) of the graph with edges (left, right)."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _, raw = connected_components(graph, directed=False)
    smallest = np.full(raw.max() + 1, n, dtype=np.int64)
    np.minimum.at(smallest, raw, np.arange(n))
    return smallest[raw]


def _split(members: np.ndarray, prob: np.ndarray, threshold: float, cohesion: float) -> list[np.ndarray]:
    """Recursive weakest-edge cut of one component given its full probability matrix ``prob``."""
    k = len(members)
    if k <= 2:
        return [members]
    upper = prob[np.triu_indices(k, 1)]
    if upper.mean() >= cohesion:
        return [members]
    edges = np.argwhere(np.triu(prob >= threshold, 1))
    best = None
    for i, j in edges:
        # Parts after removing edge (i, j): connected components of the remaining strong edges.
        keep = ~((edges[:, 0] == i) & (edges[:, 1] == j))
        labels = components(k, edges[keep, 0], edges[keep, 1])
        if labels[i] == labels[j]:
            continue  # not a bridge: removing it splits nothing
        side = labels == labels[i]
        across = float(prob[np.ix_(side, ~side)].sum())
        if best is None or across < best[0]:
            best = (across, side)
    if best is None:
        # No single edge is a bridge: cut by raising the bar to the weakest edge's strength.
        weakest = prob[edges[:, 0], edges[:, 1]].min()
        strong = edges[prob[edges[:, 0], edges[:, 1]] > weakest]
        labels = components(k, strong[:, 0], strong[:, 1])
        parts = [np.flatnonzero(labels == lab) for lab in np.unique(labels)]
        if len(parts) == 1:
            return [members]
    else:
        parts = [np.flatnonzero(best[1]), np.flatnonzero(~best[1])]
    out = []
    for part in parts:
        out.extend(_split(members[part], prob[np.ix_(part, part)], threshold, cohesion))
    return out


def cluster(
    n: int, left: np.ndarray, right: np.ndarray, probability: np.ndarray, *, threshold: float,
    cohesion: float = 0.5, max_size: int = 200, scorer: Scorer | None = None,
) -> Clustering:
    """Clusters of records ``0..n-1`` from scored pairs (see the module docstring).

    ``scorer`` scores the missing pairs inside components of three or more; without it those pairs
    count as probability 0 (conservative: such components split more readily).
    """
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    probability = np.asarray(probability, dtype=float)
    strong = probability >= threshold
    labels = components(n, left[strong], right[strong])
    # Oversized components: re-threshold their edges upwards until the parts fit.
    bar = threshold
    while True:
        sizes = np.bincount(labels, minlength=n)
        big = sizes[labels] > max_size
        if not big.any() or bar >= 1.0:
            break
        bar = 1.0 - (1.0 - bar) / 10.0
        in_big = big[left] & big[right] & (probability >= bar)
        keep_small = strong & ~big[left]
        edges = in_big | keep_small
        labels = components(n, left[edges], right[edges])
    sizes = np.bincount(labels, minlength=n)
    multi = np.flatnonzero(sizes[labels] >= 3)
    split_count = 0
    checked = 0
    if len(multi):
        order = multi[np.argsort(labels[multi], kind="stable")]
        bounds = np.flatnonzero(np.r_[True, labels[order][1:] != labels[order][:-1], True])
        groups = [order[bounds[i]:bounds[i + 1]] for i in range(len(bounds) - 1)]
        known = {}
        in_multi = (sizes[labels[left]] >= 3) & (labels[left] == labels[right])
        for a, b, p in zip(left[in_multi], right[in_multi], probability[in_multi], strict=True):
            known[(int(a), int(b))] = float(p)
        missing_l, missing_r = [], []
        for members in groups:
            iu, ju = np.triu_indices(len(members), 1)
            for a, b in zip(members[iu], members[ju], strict=True):
                key = (int(min(a, b)), int(max(a, b)))
                if key not in known:
                    missing_l.append(key[0])
                    missing_r.append(key[1])
        if missing_l and scorer is not None:
            extra_l, extra_r = np.array(missing_l, dtype=np.int64), np.array(missing_r, dtype=np.int64)
            scores = np.asarray(scorer(extra_l, extra_r), dtype=float)
            known.update({(a, b): float(p) for a, b, p in zip(missing_l, missing_r, scores, strict=True)})
            # The filled-in pairs count towards the members' confidence too.
            left, right = np.concatenate([left, extra_l]), np.concatenate([right, extra_r])
            probability = np.concatenate([probability, scores])
        for members in groups:
            checked += 1
            k = len(members)
            prob = np.zeros((k, k))
            for i in range(k):
                for j in range(i + 1, k):
                    a, b = int(members[i]), int(members[j])
                    prob[i, j] = prob[j, i] = known.get((min(a, b), max(a, b)), 0.0)
            parts = _split(members, prob, threshold, cohesion)
            if len(parts) > 1:
                split_count += 1
                for part in parts:
                    labels[part] = part.min()
    confidence = _confidence(n, labels, left, right, probability)
    return Clustering(labels=labels, confidence=confidence, split_components=split_count, checked_components=checked)


def _confidence(n: int, labels: np.ndarray, left: np.ndarray, right: np.ndarray, probability: np.ndarray) -> np.ndarray:
    """Per record: the mean probability of its scored pairs inside its cluster; for a singleton,
    1 minus its strongest pair's probability (how sure we are it has no duplicate)."""
    inside = labels[left] == labels[right]
    total = np.bincount(left[inside], weights=probability[inside], minlength=n) + \
        np.bincount(right[inside], weights=probability[inside], minlength=n)
    count = np.bincount(left[inside], minlength=n) + np.bincount(right[inside], minlength=n)
    strongest = np.zeros(n)
    np.maximum.at(strongest, left, probability)
    np.maximum.at(strongest, right, probability)
    sizes = np.bincount(labels, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_inside = np.where(count > 0, total / np.maximum(count, 1), 1.0)
    return np.where(sizes[labels] > 1, mean_inside, 1.0 - strongest)
