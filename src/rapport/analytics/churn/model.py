"""Train, evaluate, explain, save and load a churn model.

    fitted = train(frame, target="churned", id_column="customer_id", time_column="signup_date")
    fitted.metrics.auc, fitted.metrics.baseline_auc, fitted.metrics.top_decile_lift
    scores = fitted.score(other_frame, drivers=3)   # churn_probability, driver_1..3
    fitted.save("model.joblib"); load("model.joblib")

The model is gradient-boosted trees (``HistGradientBoostingClassifier``, categories native, missing
values native) beside a linear baseline (median-imputed, standardised, one-hot ``LogisticRegression``)
that says how much the trees add. Evaluation is stratified k-fold: every row gets an out-of-fold
probability from a model that never saw it, and AUC, Brier score and the lift table are computed on
those. Calibration follows ``CalibratedClassifierCV(ensemble=False)``: an isotonic (or sigmoid) map is
fitted to the out-of-fold scores, and the final trees are refitted on all rows, so scoring needs one
model, not k. With a time column the rows are also split by time (train on the earliest 80%, validate
on the latest 20%), the honest figure when the future differs from the past.

Drivers: for each customer and feature, the change in churn probability when that one feature is set
to its population reference value (median, or most frequent category); the three largest changes in
absolute value are reported, ``+`` when the customer's value raises churn risk. They are computed
from the rows' paths through the trees (:mod:`.drivers`): only a tree whose path for that row
splits on the feature the other way than the reference would is re-walked.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from . import drivers as _drivers
from . import features
from .errors import TargetError, sample

CALIBRATIONS = ("isotonic", "sigmoid")
MIN_PER_CLASS = 10
_FORMAT = "rapport.analytics.churn/1"


@dataclass(frozen=True)
class Metrics:
    """Out-of-fold figures. ``lift`` has one row per decile of predicted risk (highest first):
    ``decile, customers, mean_predicted, observed_rate, lift`` (observed rate over the base rate)."""

    folds: int
    rows: int
    positives: int
    auc: float
    baseline_auc: float
    brier: float
    baseline_brier: float
    top_decile_lift: float
    lift: pd.DataFrame = field(repr=False)
    time_auc: float | None = None
    time_baseline_auc: float | None = None
    time_split: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"folds": self.folds, "rows": self.rows, "positives": self.positives, "auc": self.auc,
                "baseline_auc": self.baseline_auc, "brier": self.brier, "baseline_brier": self.baseline_brier,
                "top_decile_lift": self.top_decile_lift, "time_auc": self.time_auc,
                "time_baseline_auc": self.time_baseline_auc, "time_split": self.time_split,
                "lift": [{k: (int(v) if k in ("decile", "customers") else float(v)) for k, v in row.items()}
                         for row in self.lift.to_dict("records")]}


def lift_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Rows ranked by ``p`` (highest first, ties by order) cut into ``bins`` equal groups."""
    order = np.argsort(-p, kind="stable")
    groups = np.array_split(order, bins)
    base = float(y.mean())
    rows = [{"decile": i + 1, "customers": len(g), "mean_predicted": float(p[g].mean()),
             "observed_rate": float(y[g].mean()), "lift": float(y[g].mean() / base)} for i, g in enumerate(groups)]
    return pd.DataFrame(rows)


def _trees(categorical: np.ndarray, seed: int) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(learning_rate=0.08, max_iter=400, max_leaf_nodes=31, min_samples_leaf=40,
                                          l2_regularization=1.0, categorical_features=categorical,
                                          early_stopping=True, validation_fraction=0.1, n_iter_no_change=20,
                                          random_state=seed)


def _linear(categorical: np.ndarray) -> Pipeline:
    numeric = np.flatnonzero(~categorical)
    cats = np.flatnonzero(categorical)
    steps = [("numeric", make_pipeline(SimpleImputer(strategy="median", add_indicator=True,
                                                     keep_empty_features=True), StandardScaler()), numeric)]
    if len(cats):
        steps.append(("categorical", make_pipeline(SimpleImputer(strategy="constant", fill_value=-1.0),
                                                   OneHotEncoder(handle_unknown="ignore")), cats))
    return make_pipeline(ColumnTransformer(steps), LogisticRegression(max_iter=2000, C=1.0))


class _Sigmoid:
    """Platt scaling of a score: a one-feature logistic regression."""

    def fit(self, score: np.ndarray, y: np.ndarray) -> _Sigmoid:
        self.model = LogisticRegression(C=1e6, max_iter=1000).fit(_logit(score)[:, None], y)
        return self

    def predict(self, score: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(_logit(score)[:, None])[:, 1]


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def _calibrator(method: str) -> Any:
    return IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0) if method == "isotonic" else _Sigmoid()


@dataclass(frozen=True)
class ChurnModel:
    """A trained model: the encoder, the refitted trees and their calibration map, the linear baseline,
    and the out-of-fold evaluation. ``oof`` holds the calibrated out-of-fold probability of every
    training row, in the training order."""

    encoder: features.Encoder
    trees: HistGradientBoostingClassifier = field(repr=False)
    calibrator: Any = field(repr=False)
    baseline: Pipeline = field(repr=False)
    metrics: Metrics
    target: str
    positive: str
    oof: np.ndarray = field(repr=False)

    def predict_matrix(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.calibrator.predict(self.trees.predict_proba(X)[:, 1]), dtype=float)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated churn probabilities of the rows of ``frame``."""
        return self.predict_matrix(self.encoder.transform(frame))

    def baseline_predict(self, frame: pd.DataFrame) -> np.ndarray:
        return self.baseline.predict_proba(self.encoder.transform(frame))[:, 1]

    def drivers(self, X: np.ndarray, p: np.ndarray | None = None, top: int = 3) -> pd.DataFrame:
        """``driver_1..top`` per row of the encoded matrix ``X``: ``"+recency_days"`` when the row's value
        raises the probability above what it would be at the reference value, ``"-..."`` when it lowers
        it, empty when fewer features differ from the reference. (``p``, the trees' probabilities of
        ``X``, is accepted for compatibility; the deltas come with their own.)"""
        return self._label(_drivers.deltas(self.trees, X, self.encoder.references)[1], top)

    def _label(self, delta: np.ndarray, top: int) -> pd.DataFrame:
        # Deltas are on the trees' own probability, not the calibrated one: the isotonic map is a step
        # function whose flat steps would hide a feature's effect (and the trees' log-loss fit is
        # near-calibrated). See drivers.py for the definition and how it is computed.
        names = np.array(self.encoder.names, dtype=object)
        k = min(top, delta.shape[1])
        strength = np.abs(delta)
        best = np.argsort(-strength, axis=1, kind="stable")[:, :k]
        out = pd.DataFrame(index=range(len(delta)))
        for i in range(top):
            if i >= k:
                out[f"driver_{i + 1}"] = ""
                continue
            j = best[:, i]
            d = delta[np.arange(len(delta)), j]
            label = np.where(d > 0, "+", "-").astype(object) + names[j]
            label[np.abs(d) < 1e-6] = ""
            out[f"driver_{i + 1}"] = label
        return out

    def score(self, frame: pd.DataFrame, *, drivers: int = 3) -> pd.DataFrame:
        """``churn_probability`` and ``driver_1..drivers`` (none with ``drivers=0``) per row of ``frame``."""
        X = self.encoder.transform(frame)
        if drivers:
            raw, delta = _drivers.deltas(self.trees, X, self.encoder.references)
        else:
            raw = self.trees.predict_proba(X)[:, 1]
        out = pd.DataFrame({"churn_probability": np.asarray(self.calibrator.predict(raw), dtype=float)})
        if drivers:
            out = pd.concat([out, self._label(delta, drivers)], axis=1)
        return out

    def save(self, path: str | Path) -> None:
        with open(path, "wb") as handle:
            pickle.dump({"format": _FORMAT, "model": self}, handle, protocol=pickle.HIGHEST_PROTOCOL)


def load(path: str | Path) -> ChurnModel:
    """A model written by :meth:`ChurnModel.save`. Like any pickle, only load files you trust."""
    with open(path, "rb") as handle:
        body = pickle.load(handle)  # noqa: S301 - our own model files, documented as trusted input
    if not isinstance(body, dict) or body.get("format") != _FORMAT or not isinstance(body.get("model"), ChurnModel):
        raise ValueError(f"{path} is not a rapport churn model file.")
    return body["model"]


def labels(column: pd.Series, positive: str | None = None) -> tuple[np.ndarray, str]:
    """The 0/1 target and the value counted as churn. Without ``positive``: ``1``/``true``/``yes``/
    ``churned`` when present, else the rarer of exactly two values."""
    text = column.astype(str).str.strip()
    missing = features._missing(column)
    if missing.any():
        rows = [str(i + 2) for i in np.flatnonzero(missing)]
        raise TargetError(f"The target {column.name!r} is missing in {len(rows):,} row(s): {sample(rows)}.")
    values = text.value_counts()
    if len(values) < 2:
        raise TargetError(f"The target {column.name!r} has one class only ({values.index[0]!r}): "
                          "nothing to tell churners from.")
    if positive is None:
        known = [v for v in values.index if v.lower() in ("1", "true", "yes", "y", "churned", "churn", "1.0")]
        if len(values) > 2 and not known:
            raise TargetError(f"The target {column.name!r} has {len(values)} values "
                              f"({sample(list(values.index))}); say which one is churn with positive=.")
        positive = known[0] if known else str(values.index[-1])
    elif positive not in values.index:
        raise TargetError(f"There is no {positive!r} in the target {column.name!r}; its values are: "
                          f"{sample(list(values.index))}.")
    y = (text == positive).to_numpy(dtype=int)
    return y, positive


def train(frame: pd.DataFrame, *, target: str, positive: str | None = None, id_column: str | None = None,
          time_column: str | None = None, folds: int = 5, calibration: str = "isotonic", max_categories: int = 50,
          reference_date: str | pd.Timestamp | None = None, seed: int = 0) -> ChurnModel:
    """Infer the column types, evaluate by stratified ``folds``-fold cross-validation (and by time when
    ``time_column`` is given), calibrate, and refit on every row. Raises :class:`TargetError` for a
    missing or single-class target, an unknown ``positive`` or fewer than ``max(folds, 10)`` rows of a
    class, and :class:`FeatureError` when no column is usable."""
    if target not in frame.columns:
        raise TargetError(f"There is no target column {target!r}; the columns are: {sample(list(frame.columns), 12)}.")
    for label, name in (("id", id_column), ("time", time_column)):
        if name is not None and name not in frame.columns:
            raise TargetError(f"There is no {label} column {name!r}; the columns are: "
                              f"{sample(list(frame.columns), 12)}.")
    if calibration not in CALIBRATIONS:
        raise ValueError(f"calibration must be one of {', '.join(CALIBRATIONS)}, not {calibration!r}.")
    if folds < 2:
        raise ValueError(f"folds must be at least 2, not {folds}.")
    y, positive = labels(frame[target], positive)
    fewest = int(min(y.sum(), len(y) - y.sum()))
    if fewest < max(folds, MIN_PER_CLASS):
        kind = "churners" if y.sum() == fewest else "non-churners"
        raise TargetError(f"Only {fewest} {kind} (target {target!r} {'=' if kind == 'churners' else '!='} "
                          f"{positive!r}); at least {max(folds, MIN_PER_CLASS)} of each class are needed.")
    encoder = features.infer(frame, target=target, id_column=id_column,
                             exclude=(time_column,) if time_column else (), max_categories=max_categories,
                             reference_date=reference_date)
    X = encoder.transform(frame)
    mask = encoder.categorical_mask
    trees, linear = _trees(mask, seed), _linear(mask)
    raw, base = np.empty(len(y)), np.empty(len(y))
    for fit_rows, test_rows in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y):
        raw[test_rows] = clone(trees).fit(X[fit_rows], y[fit_rows]).predict_proba(X[test_rows])[:, 1]
        base[test_rows] = clone(linear).fit(X[fit_rows], y[fit_rows]).predict_proba(X[test_rows])[:, 1]
    calibrator = _calibrator(calibration).fit(raw, y)
    oof = np.asarray(calibrator.predict(raw), dtype=float)
    table = lift_table(y, oof)
    time_auc = time_base = split = None
    if time_column is not None:
        time_auc, time_base, split = _by_time(frame[time_column], X, y, trees, linear)
    metrics = Metrics(folds=folds, rows=len(y), positives=int(y.sum()), auc=float(roc_auc_score(y, raw)),
                      baseline_auc=float(roc_auc_score(y, base)), brier=float(brier_score_loss(y, oof)),
                      baseline_brier=float(brier_score_loss(y, base)), top_decile_lift=float(table["lift"].iloc[0]),
                      lift=table, time_auc=time_auc, time_baseline_auc=time_base, time_split=split)
    return ChurnModel(encoder=encoder, trees=clone(trees).fit(X, y), calibrator=calibrator,
                      baseline=clone(linear).fit(X, y), metrics=metrics, target=target, positive=positive, oof=oof)


def _by_time(column: pd.Series, X: np.ndarray, y: np.ndarray, trees: Any, linear: Any) -> tuple[float, float, str]:
    when = features._dates(column) if not pd.api.types.is_numeric_dtype(column) else column
    if pd.isna(when).any():
        bad = np.flatnonzero(pd.isna(when).to_numpy())
        raise TargetError(f"The time column {column.name!r} is missing or not a date in {len(bad):,} row(s): "
                          f"{sample([str(i + 2) for i in bad])}.")
    order = np.argsort(np.asarray(when), kind="stable")
    cut = int(len(order) * 0.8)
    early, late = order[:cut], order[cut:]
    if len(np.unique(y[early])) < 2 or len(np.unique(y[late])) < 2:
        raise TargetError(f"Split by {column.name!r}, the earlier 80% or the later 20% has one class only.")
    p = clone(trees).fit(X[early], y[early]).predict_proba(X[late])[:, 1]
    b = clone(linear).fit(X[early], y[early]).predict_proba(X[late])[:, 1]
    split = f"trained before {pd.Series(when).iloc[late[0]]}, validated from then on"
    return float(roc_auc_score(y[late], p)), float(roc_auc_score(y[late], b)), split
