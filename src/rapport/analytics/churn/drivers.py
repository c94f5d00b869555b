"""Per-customer drivers: how much each feature moves a customer's churn probability.

Definition (the reference, :func:`repredict_deltas`): for row ``i`` and feature ``j``,
``delta[i, j] = p(x_i) - p(x_i with feature j set to its reference value)`` where ``p`` is the trees'
probability and the reference is the encoder's (median, or most frequent category). Positive means
the customer's own value raises churn risk.

Computing that literally re-predicts every row once per feature through every tree. The fast path,
:func:`path_deltas`, gives the same numbers (to float rounding, ~1e-15) with a fraction of the work,
using where each row lands in each tree:

- Substituting the reference for feature ``j`` can change a tree's output for row ``i`` only if the
  row's path from the root to its leaf passes a split on ``j`` that the reference value would take
  the other way ("diverges"). Which splits the reference takes is fixed per node, so whether a
  path diverges on ``j`` is a property of the leaf alone: a (leaves × features) table per tree.
- One pass finds every row's leaf in every tree (the scikit-learn predictor with node numbers
  as its leaf values). Then per tree, only the rows whose leaf diverges on ``j`` are re-predicted,
  with ``j`` replaced, through that tree alone; everyone else's change is exactly zero. A leaf
  path holds a handful of features, so this is a few tree walks per row and tree instead of one
  per feature.
- Rows go in chunks (cache-sized), over a small thread pool; the predictor is called with one
  OpenMP thread each (its prange releases the GIL), because OpenMP's spinning workers collapse on
  a shared, loaded machine.

It reads scikit-learn's fitted tree layout (``_predictors``, ``_preprocess_X``, ``_bin_mapper``,
``_baseline_prediction``), which is private: when that layout cannot be read, :func:`deltas` falls
back to the reference, so drivers stay right and only get slower. ``fast_path_available`` says
which one a model gets (a test pins it, so an upgrade that loses it is noticed).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.ensemble import HistGradientBoostingClassifier

CHUNK = 32_768  # rows per work unit: the leaf table of a chunk (rows × trees) stays in cache-friendly sizes


def deltas(trees: HistGradientBoostingClassifier, X: np.ndarray, references: np.ndarray) -> tuple[np.ndarray,
                                                                                                     np.ndarray]:
    """``(p, delta)``: the trees' churn probability of each row of ``X`` and the (rows, features)
    substitution deltas defined above, by the fast path when the fitted layout is readable."""
    forest = _Forest.of(trees, X.shape[1], references)
    if forest is None:
        p = trees.predict_proba(X)[:, 1]
        return p, repredict_deltas(trees, X, references, p)
    return forest.deltas(X)


def fast_path_available(trees: HistGradientBoostingClassifier, references: np.ndarray) -> bool:
    return _Forest.of(trees, len(references), references) is not None


def path_deltas(trees: HistGradientBoostingClassifier, X: np.ndarray, references: np.ndarray) -> tuple[np.ndarray,
                                                                                                          np.ndarray]:
    """The fast path itself (raises when the fitted layout cannot be read)."""
    forest = _Forest.of(trees, X.shape[1], references, strict=True)
    assert forest is not None
    return forest.deltas(X)


def repredict_deltas(trees: HistGradientBoostingClassifier, X: np.ndarray, references: np.ndarray,
                     p: np.ndarray | None = None) -> np.ndarray:
    """The definition, computed literally: one re-prediction per feature of the rows whose value is
    on the other side of at least one split point on that feature than the reference (any other
    row takes the same path through every tree, so its delta is exactly zero)."""
    p = trees.predict_proba(X)[:, 1] if p is None else p
    delta = np.zeros_like(X)
    thresholds = split_points(trees, X.shape[1])
    for j in range(X.shape[1]):
        # NaN (missing) differs from the reference too: the trees route it to its own branch.
        differs = ~(X[:, j] == references[j])
        cuts = thresholds[j]
        if cuts is not None and not np.isnan(references[j]):
            side = np.searchsorted(cuts, X[:, j], side="left")
            differs &= (side != np.searchsorted(cuts, references[j], side="left")) | np.isnan(X[:, j])
        rows = np.flatnonzero(differs)
        if not len(rows):
            continue
        changed = X[rows]
        changed[:, j] = references[j]
        delta[rows, j] = p[rows] - trees.predict_proba(changed)[:, 1]
    return delta


def _column_order(trees: HistGradientBoostingClassifier, features: int) -> np.ndarray:
    """``order[k]``: our column number of the trees' column ``k`` (with categorical features the
    trees' preprocessor puts those columns first)."""
    order = np.arange(features)
    if getattr(trees, "_preprocessor", None) is not None:
        order = np.concatenate([np.flatnonzero(np.asarray(cols, dtype=bool)) if np.asarray(cols).dtype == bool
                                else np.asarray(cols, dtype=int)
                                for name, _, cols in trees._preprocessor.transformers_ if name != "remainder"])
    return order


def split_points(trees: HistGradientBoostingClassifier, features: int) -> list[np.ndarray | None]:
    """Per feature, the sorted numeric thresholds the trees split it at (``x <= t`` goes left); ``None``
    for categorical features or when the fitted trees cannot be read (a private scikit-learn layout)."""
    try:
        nodes = np.concatenate([tree.nodes for per_iteration in trees._predictors for tree in per_iteration])
        order = _column_order(trees, features)
        if len(order) != features:
            return [None] * features
        feature = order[nodes["feature_idx"]]
        split = ~nodes["is_leaf"].astype(bool)
        numeric = split & ~nodes["is_categorical"].astype(bool)
        categorical = set(feature[split & ~numeric].tolist())
        out: list[np.ndarray | None] = []
        for j in range(features):
            at = numeric & (feature == j)
            out.append(None if j in categorical else np.unique(nodes["num_threshold"][at]))
        return out
    except (AttributeError, KeyError, ValueError, IndexError, TypeError):
        return [None] * features


class _Forest:
    """The fitted trees read once for the fast path: per tree its predictor, a twin that returns
    leaf numbers, its leaf values, the features it splits on and its leaf divergence table."""

    def __init__(self, trees: HistGradientBoostingClassifier, order: np.ndarray, references: np.ndarray) -> None:
        from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor

        self.trees = trees
        self.order = order
        self.known_cats, self.f_idx_map = trees._bin_mapper.make_known_categories_bitsets()
        self.baseline = float(np.asarray(trees._baseline_prediction).ravel()[0])
        # The reference row as the trees see it (categories encoded, columns in their order).
        self.reference = np.ascontiguousarray(trees._preprocess_X(references[None, :], reset=False), dtype=float)
        self.predictors = [per_iteration[0] for per_iteration in trees._predictors]
        self.leaf_finders = []
        self.values = []
        self.used: list[np.ndarray] = []
        self.diverges: list[np.ndarray] = []
        for tree in self.predictors:
            nodes = tree.nodes
            numbered = nodes.copy()
            numbered["value"] = np.arange(len(nodes), dtype=float)
            self.leaf_finders.append(TreePredictor(numbered, tree.binned_left_cat_bitsets, tree.raw_left_cat_bitsets))
            self.values.append(np.asarray(nodes["value"], dtype=float))
            table = self._divergence(tree, TreePredictor)
            used = np.flatnonzero(table.any(axis=0))
            self.used.append(used)
            # Transposed and cut to the features that can diverge: a row per feature, a column per node.
            self.diverges.append(np.ascontiguousarray(table[:, used].T))

    @classmethod
    def of(cls, trees: Any, features: int, references: np.ndarray, *, strict: bool = False) -> _Forest | None:
        try:
            if getattr(trees, "n_trees_per_iteration_", None) != 1:
                raise ValueError("the fast path is for binary classifiers")
            order = _column_order(trees, features)
            if sorted(order.tolist()) != list(range(features)):
                raise ValueError("the trees' columns do not map onto the encoder's")
            return cls(trees, order, np.asarray(references, dtype=float))
        except (AttributeError, KeyError, ValueError, IndexError, TypeError, ImportError):
            if strict:
                raise
            return None

    def _divergence(self, tree: Any, predictor_class: Any) -> np.ndarray:
        """(nodes × features) bool: row ``n`` says, for a leaf ``n``, on which features its path
        takes a split the other way than the reference row would."""
        nodes = tree.nodes
        features = self.reference.shape[1]
        table = np.zeros((len(nodes), features), dtype=bool)
        stack = [0]
        while stack:
            n = stack.pop()
            if nodes["is_leaf"][n]:
                continue
            f = int(nodes["feature_idx"][n])
            reference_left = self._goes_left(tree, n, predictor_class)
            for child, left in ((int(nodes["left"][n]), True), (int(nodes["right"][n]), False)):
                table[child] = table[n]
                if left != reference_left:
                    table[child, f] = True
                stack.append(child)
        return table

    def _goes_left(self, tree: Any, n: int, predictor_class: Any) -> bool:
        # Ask scikit-learn's own predictor which way the reference goes at node n (numeric threshold,
        # missing-value direction, category bitsets, unknown categories): a three-node tree made of
        # node n and two leaves valued 0 (left) and 1 (right).
        stub = tree.nodes[[n, n, n]].copy()
        stub[0]["left"], stub[0]["right"] = 1, 2
        for k, value in ((1, 0.0), (2, 1.0)):
            stub[k]["is_leaf"] = 1
            stub[k]["value"] = value
        probe = predictor_class(stub, tree.binned_left_cat_bitsets, tree.raw_left_cat_bitsets)
        return probe.predict(self.reference, self.known_cats, self.f_idx_map, 1)[0] == 0.0

    def deltas(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Xp = np.ascontiguousarray(self.trees._preprocess_X(X, reset=False), dtype=float)
        p = np.empty(len(X))
        delta = np.zeros_like(X, dtype=float)
        starts = range(0, len(X), CHUNK)
        workers = max(1, min(len(starts), os.cpu_count() or 1, 4))

        def run(start: int) -> None:
            stop = min(start + CHUNK, len(X))
            p[start:stop], delta[start:stop, self.order] = self._chunk(Xp[start:stop])

        if workers == 1:
            for start in starts:
                run(start)
        else:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(run, starts))
        return p, delta

    def _chunk(self, Xp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows, features = Xp.shape
        raw = np.zeros(rows) + self.baseline
        # Raw (log-odds) change per feature, in the trees' columns; (features, rows) so that each
        # feature's row is contiguous for the scattered additions below.
        change = np.zeros((features, rows))
        for t, tree in enumerate(self.predictors):
            leaf = self.leaf_finders[t].predict(Xp, self.known_cats, self.f_idx_map, 1).astype(np.intp)
            value = self.values[t][leaf]
            raw += value  # the same additions in the same order as scikit-learn's predict: same bits
            used = self.used[t]
            diverges = self.diverges[t][:, leaf]  # (features this tree splits on, rows)
            for i, f in enumerate(used):
                at = np.flatnonzero(diverges[i])
                if not len(at):
                    continue
                moved = Xp.take(at, axis=0)
                moved[:, f] = self.reference[0, f]
                change[f, at] += tree.predict(moved, self.known_cats, self.f_idx_map, 1) - value.take(at)
        p = expit(raw)
        # Rows whose change is exactly 0 get exactly 0 (p - p), as in the reference.
        return p, p[:, None] - expit(raw[:, None] + change.T)
