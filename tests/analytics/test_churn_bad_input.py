"""Every kind of input a churn model cannot be trained on raises a clear TargetError/FeatureError."""

from __future__ import annotations

import pandas as pd
import pytest

from rapport.analytics import churn


def frame(n: int = 60, churners: int = 20) -> pd.DataFrame:
    return pd.DataFrame({"id": [str(i) for i in range(n)], "spend": [str(i % 13) for i in range(n)],
                         "plan": ["a", "b", "c"] * (n // 3),
                         "left": ["yes"] * churners + ["no"] * (n - churners)})


@pytest.mark.parametrize(("change", "kwargs", "error", "message"), [
    (None, {"target": "churn"}, churn.TargetError, "no target column 'churn'"),
    (lambda f: f.assign(left="no"), {}, churn.TargetError, "one class only"),
    (lambda f: f.assign(left=["yes"] * 5 + ["no"] * 55), {}, churn.TargetError, "Only 5 churners"),
    (lambda f: f.assign(left=["yes"] * 55 + ["no"] * 5), {}, churn.TargetError, "Only 5 non-churners"),
    (None, {"positive": "Y"}, churn.TargetError, "no 'Y' in the target 'left'; its values are: no, yes"),
    (lambda f: f.assign(left=["a", "b", "c"] * 20), {}, churn.TargetError, "say which one is churn"),
    (lambda f: f.assign(left=[""] + ["no"] * 39 + ["yes"] * 20), {}, churn.TargetError, "missing in 1 row"),
    (lambda f: f[["id", "left"]], {}, churn.FeatureError, "No usable feature columns"),
    (lambda f: f.assign(spend="1", plan=""), {}, churn.FeatureError, "spend: constant.*plan: all values missing"),
    (lambda f: f.assign(spend=["oops"] + [str(i) for i in range(59)]), {}, churn.FeatureError, "row 2 \\('oops'\\)"),
    (None, {"time_column": "when"}, churn.TargetError, "no time column 'when'"),
])
def test_bad_input_is_a_clear_error(change, kwargs, error, message):
    data = frame() if change is None else change(frame())
    with pytest.raises(error, match=message):
        churn.train(data, **{"target": "left", "id_column": "id", "folds": 3, **kwargs})


def test_errors_are_value_errors_for_callers_that_catch_those():
    assert issubclass(churn.TargetError, ValueError) and issubclass(churn.FeatureError, churn.ChurnInputError)


def test_a_small_valid_table_trains_with_positive_given():
    fitted = churn.train(frame(), target="left", id_column="id", positive="yes", folds=3)
    assert fitted.positive == "yes" and fitted.metrics.positives == 20
