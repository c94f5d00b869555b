"""Churn prediction for any customer table: column types inferred, gradient-boosted trees against a
linear baseline, calibrated probabilities, cross-validated (and time-split) AUC, lift, Brier score and
per-customer drivers.

    from rapport.analytics.churn import train, load
    fitted = train(frame, target="churned", id_column="customer_id")
    fitted.metrics.auc, fitted.metrics.baseline_auc, fitted.metrics.top_decile_lift
    fitted.score(new_customers)          # churn_probability, driver_1..3
    fitted.save(path); load(path).score(new_customers)

:mod:`.features` (type inference and the fitted encoder), :mod:`.model` (training, evaluation,
drivers, save/load), :mod:`.simulate` (a base with a known mechanism), :mod:`.errors`. Results are
frozen dataclasses; errors are ValueError subclasses. Nothing here imports Django.
"""

from __future__ import annotations

from .errors import ChurnInputError, FeatureError, TargetError
from .features import ColumnSpec, Dropped, Encoder, infer
from .model import CALIBRATIONS, ChurnModel, Metrics, labels, lift_table, load, train

__all__ = ["CALIBRATIONS", "ChurnInputError", "ChurnModel", "ColumnSpec", "Dropped", "Encoder", "FeatureError",
           "Metrics", "TargetError", "infer", "labels", "lift_table", "load", "train"]
