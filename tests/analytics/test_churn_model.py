"""Churn model on a simulated base with a known, nonlinear mechanism: discrimination near the oracle,
trees beating the linear baseline, calibration by decile on fresh customers, drivers that name the
truly influential feature, and an identical save/load round trip. No database."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from rapport.analytics import churn
from rapport.analytics.churn import simulate

FEATURES = ("recency_days", "frequency", "monetary", "spend_trend", "cases_open", "complaints", "satisfaction",
            "email_open_rate", "payment_failures", "contract_end", "signup_date", "plan", "region", "autopay")


@pytest.fixture(scope="module")
def base() -> simulate.Simulated:
    return simulate.customers(30_000, seed=11)


@pytest.fixture(scope="module")
def fitted(base: simulate.Simulated) -> churn.ChurnModel:
    return churn.train(base.frame.assign(churned=base.churned), target="churned", id_column="customer_id", seed=3)


def test_types_are_inferred_from_the_typed_frame(fitted: churn.ChurnModel):
    kinds = {c.name: c.kind for c in fitted.encoder.columns}
    assert kinds["plan"] == kinds["region"] == "categorical"
    assert kinds["autopay"] == "boolean" and kinds["signup_date"] == kinds["contract_end"] == "date"
    assert kinds["recency_days"] == "numeric" and "customer_id" not in kinds and "churned" not in kinds


def test_trees_come_within_two_points_of_the_oracle_auc(base: simulate.Simulated, fitted: churn.ChurnModel):
    oracle = roc_auc_score(base.churned, base.probability)
    assert fitted.metrics.auc > oracle - 0.02, (fitted.metrics.auc, oracle)
    assert fitted.metrics.auc <= oracle + 0.01  # out of fold: no better than the truth, beyond noise


def test_trees_beat_the_linear_baseline_on_a_nonlinear_mechanism(fitted: churn.ChurnModel):
    assert fitted.metrics.auc > fitted.metrics.baseline_auc + 0.02
    assert fitted.metrics.brier < fitted.metrics.baseline_brier


def test_probabilities_are_calibrated_by_decile_on_fresh_customers(fitted: churn.ChurnModel):
    fresh = simulate.customers(40_000, seed=12)
    p = fitted.predict(fresh.frame)
    table = churn.lift_table(fresh.churned, p)
    # Observed rates by decile of 4,000 customers have a standard error of at most 0.008.
    assert (table["mean_predicted"] - table["observed_rate"]).abs().max() < 0.035, table
    # and against the true probabilities, not just the draws:
    truth = churn.lift_table(fresh.probability, p)
    assert (truth["mean_predicted"] - truth["observed_rate"]).abs().max() < 0.03, truth


def test_lift_table_ranks_risk_and_the_top_decile_lift_is_its_first_row(fitted: churn.ChurnModel):
    lift = fitted.metrics.lift
    assert list(lift["decile"]) == list(range(1, 11)) and lift["customers"].sum() == 30_000
    assert fitted.metrics.top_decile_lift == lift["lift"].iloc[0] > 2.5
    assert lift["observed_rate"].iloc[0] > lift["observed_rate"].iloc[4] > lift["observed_rate"].iloc[9]


def _oracle_deltas(frame: pd.DataFrame, reference: simulate.Simulated) -> pd.DataFrame:
    """The change in the TRUE churn probability when each feature is set to its population reference."""
    p = 1 / (1 + np.exp(-simulate.true_logit(frame)))
    out = {}
    for name in FEATURES:
        column = reference.frame[name]
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            typical = column.median()
        elif pd.api.types.is_datetime64_any_dtype(column):
            typical = column.quantile(0.5)
        else:
            typical = column.mode().iloc[0]
        changed = frame.assign(**{name: typical})
        out[name] = p - 1 / (1 + np.exp(-simulate.true_logit(changed)))
    return pd.DataFrame(out, index=frame.index)


def test_drivers_name_the_feature_that_truly_dominates(base: simulate.Simulated, fitted: churn.ChurnModel):
    fresh = simulate.customers(20_000, seed=13)
    deltas = _oracle_deltas(fresh.frame, base)
    strength = deltas.abs().to_numpy()
    order = np.argsort(-strength, axis=1)
    first = strength[np.arange(len(strength)), order[:, 0]]
    second = strength[np.arange(len(strength)), order[:, 1]]
    dominated = np.flatnonzero((first > 0.15) & (first > 3 * second))
    assert len(dominated) > 200
    truth = deltas.columns.to_numpy()[order[dominated, 0]]
    sign = np.where(deltas.to_numpy()[dominated, order[dominated, 0]] > 0, "+", "-")
    scores = fitted.score(fresh.frame.iloc[dominated])
    named = scores["driver_1"].to_numpy()
    expected = sign.astype(object) + truth
    assert np.mean(named == expected) > 0.8, pd.Series(truth).value_counts()
    # region has no effect: it should almost never be the top driver
    assert (fitted.score(fresh.frame.head(5000))["driver_1"].str.endswith("region")).mean() < 0.02


def test_save_and_load_give_identical_scores(fitted: churn.ChurnModel, tmp_path: Path):
    fresh = simulate.customers(3_000, seed=14).frame
    path = tmp_path / "churn.pkl"
    fitted.save(path)
    again = churn.load(path)
    pd.testing.assert_frame_equal(again.score(fresh), fitted.score(fresh))
    assert again.metrics.auc == fitted.metrics.auc


def test_load_refuses_a_file_that_is_not_a_churn_model(tmp_path: Path):
    import pickle

    path = tmp_path / "other.pkl"
    path.write_bytes(pickle.dumps({"format": "something else"}))
    with pytest.raises(ValueError, match="not a rapport churn model"):
        churn.load(path)


def test_time_split_trains_on_earlier_rows_and_validates_on_later_ones():
    base = simulate.customers(6_000, seed=15)
    frame = base.frame.assign(churned=base.churned, snapshot=pd.date_range("2025-01-01", periods=6_000, freq="h"))
    fitted = churn.train(frame, target="churned", id_column="customer_id", time_column="snapshot", folds=3,
                         calibration="sigmoid")
    m = fitted.metrics
    assert m.time_auc is not None and 0.7 < m.time_auc < 0.9 and m.time_baseline_auc is not None
    assert "snapshot" not in fitted.encoder.names
    assert str(frame["snapshot"].iloc[4800].date()) in m.time_split
    assert fitted.predict(frame.head(10)).min() > 0 and fitted.predict(frame.head(10)).max() < 1


def test_skipping_rows_on_the_reference_side_of_every_split_changes_no_driver(fitted: churn.ChurnModel,
                                                                               monkeypatch: pytest.MonkeyPatch):
    from rapport.analytics.churn import drivers

    X = fitted.encoder.transform(simulate.customers(3_000, seed=16).frame)
    refs = fitted.encoder.references
    skipping = drivers.repredict_deltas(fitted.trees, X, refs)
    assert any(cuts is not None and len(cuts) for cuts in drivers.split_points(fitted.trees, 14))
    monkeypatch.setattr(drivers, "split_points", lambda trees, n: [None] * n)  # every differing row re-predicted
    np.testing.assert_array_equal(drivers.repredict_deltas(fitted.trees, X, refs), skipping)
