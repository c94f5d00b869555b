"""The fast drivers (paths through the trees) against their definition (re-predict each row with
one feature set to its reference): same probabilities, same deltas to float rounding, same zeros,
same labels — on numeric and categorical features, missing values and unseen categories, with and
without a categorical column, over several chunks and threads. No database."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from rapport.analytics import churn
from rapport.analytics.churn import drivers, simulate


@pytest.fixture(scope="module")
def fitted() -> churn.ChurnModel:
    base = simulate.customers(8_000, seed=21)
    return churn.train(base.frame.assign(churned=base.churned), target="churned", id_column="customer_id",
                       folds=2, seed=4)


def _awkward(frame: pd.DataFrame) -> pd.DataFrame:
    """Fresh customers with what training never showed: an unknown plan, missing values in columns
    that always had one, and values beyond the trained range."""
    frame = frame.copy()
    frame.loc[frame.index[::17], "plan"] = "enterprise"
    frame.loc[frame.index[::23], "frequency"] = np.nan
    frame.loc[frame.index[::29], "recency_days"] = 10_000
    return frame


def _assert_same(model: churn.ChurnModel, X: np.ndarray) -> None:
    refs = model.encoder.references
    p, fast = drivers.path_deltas(model.trees, X, refs)
    slow = drivers.repredict_deltas(model.trees, X, refs)
    # The same additions in the same order as scikit-learn's predict: bit for bit.
    np.testing.assert_array_equal(p, model.trees.predict_proba(X)[:, 1])
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(fast == 0, slow == 0)
    assert (slow != 0).mean() > 0.3  # most rows have something to explain: the comparison is not vacuous
    pd.testing.assert_frame_equal(model._label(fast, 3), model._label(slow, 3))


def test_fast_drivers_equal_the_definition(fitted: churn.ChurnModel):
    X = fitted.encoder.transform(_awkward(simulate.customers(5_000, seed=22).frame))
    assert drivers.fast_path_available(fitted.trees, fitted.encoder.references)
    _assert_same(fitted, X)


def test_fast_drivers_equal_the_definition_over_chunks_and_threads(fitted: churn.ChurnModel,
                                                                    monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(drivers, "CHUNK", 1_000)  # 7 chunks, the last one short
    _assert_same(fitted, fitted.encoder.transform(simulate.customers(6_500, seed=23).frame))


def test_fast_drivers_equal_the_definition_without_categorical_columns():
    base = simulate.customers(5_000, seed=24)
    frame = base.frame.drop(columns=["plan", "region"]).assign(churned=base.churned)
    model = churn.train(frame, target="churned", id_column="customer_id", folds=2, seed=5)
    assert not model.encoder.categorical_mask.any()
    fresh = simulate.customers(3_000, seed=25).frame.drop(columns=["plan", "region"])
    _assert_same(model, model.encoder.transform(fresh))


def test_score_uses_the_fast_drivers_and_they_label_like_the_definition(fitted: churn.ChurnModel):
    fresh = _awkward(simulate.customers(2_000, seed=26).frame)
    scores = fitted.score(fresh)
    X = fitted.encoder.transform(fresh)
    expected = fitted._label(drivers.repredict_deltas(fitted.trees, X, fitted.encoder.references), 3)
    pd.testing.assert_frame_equal(scores[["driver_1", "driver_2", "driver_3"]], expected)
    np.testing.assert_array_equal(scores["churn_probability"], fitted.predict(fresh))


def test_unreadable_tree_layout_falls_back_to_the_definition(fitted: churn.ChurnModel,
                                                             monkeypatch: pytest.MonkeyPatch):
    X = fitted.encoder.transform(simulate.customers(1_500, seed=27).frame)
    refs = fitted.encoder.references
    expected = drivers.repredict_deltas(fitted.trees, X, refs)
    # What a scikit-learn release that moves its private tree predictor would look like.
    monkeypatch.setitem(sys.modules, "sklearn.ensemble._hist_gradient_boosting.predictor", None)
    assert not drivers.fast_path_available(fitted.trees, refs)
    p, delta = drivers.deltas(fitted.trees, X, refs)
    np.testing.assert_array_equal(delta, expected)
    np.testing.assert_array_equal(p, fitted.trees.predict_proba(X)[:, 1])
    with pytest.raises(ImportError):
        drivers.path_deltas(fitted.trees, X, refs)
