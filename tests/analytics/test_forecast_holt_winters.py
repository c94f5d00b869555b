"""Holt-Winters: parameter recovery on simulated series, agreement with statsmodels, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from rapport.analytics.forecast import ForecastInputError, errors, fit, rolling_origin, simulate, smooth

M = 12
ADD_SEASON = 10 * np.sin(np.arange(M) * 2 * np.pi / M)
MUL_SEASON = 1 + 0.2 * np.sin(np.arange(M) * 2 * np.pi / M)


def _additive(n: int = 480, seed: int = 1) -> np.ndarray:
    return simulate(n=n, season_length=M, alpha=0.4, beta=0.2, gamma=0.3, level=100, slope=0.5,
                    season=ADD_SEASON, sigma=2, seed=seed)


def test_additive_parameters_are_recovered_from_a_simulated_series() -> None:
    y = _additive()
    model = fit(y, season_length=M, seasonal="additive")
    assert abs(model.alpha - 0.4) < 0.1
    assert abs(model.beta - 0.2) < 0.1
    assert abs(model.gamma - 0.3) < 0.1
    assert abs(model.sigma - 2) < 0.3
    at_truth = smooth(y, season_length=M, seasonal="additive", trend=True, alpha=0.4, beta=0.2, gamma=0.3,
                      initial_level=100, initial_trend=0.5, initial_seasonal=ADD_SEASON)
    # Least squares: never worse than the true parameters on the data it was fitted on.
    assert model.sse <= float(np.sum((y - at_truth) ** 2))


def test_multiplicative_parameters_are_recovered_from_a_simulated_series() -> None:
    y = simulate(n=480, season_length=M, alpha=0.4, beta=0.2, gamma=0.3, level=100, slope=0.5,
                 season=MUL_SEASON, sigma=2, seed=3, seasonal="multiplicative")
    model = fit(y, season_length=M, seasonal="multiplicative")
    assert abs(model.alpha - 0.4) < 0.1
    assert abs(model.beta - 0.2) < 0.1
    assert abs(model.gamma - 0.3) < 0.15


def test_agrees_with_statsmodels_exponential_smoothing() -> None:
    holtwinters = pytest.importorskip("statsmodels.tsa.holtwinters")
    y = _additive()
    ours = fit(y, season_length=M, seasonal="additive")
    ref = holtwinters.ExponentialSmoothing(y, trend="add", seasonal="add", seasonal_periods=M).fit()
    assert ours.alpha == pytest.approx(ref.params["smoothing_level"], abs=1e-3)
    assert ours.beta == pytest.approx(ref.params["smoothing_trend"], abs=1e-3)
    assert ours.gamma == pytest.approx(ref.params["smoothing_seasonal"], abs=1e-3)
    assert ours.sse <= ref.sse * (1 + 1e-6)
    assert ours.forecast(6).mean == pytest.approx(ref.forecast(6), rel=1e-3)


@pytest.mark.parametrize("seasonal", ["add", "mul"])
def test_the_recursion_equals_statsmodels_at_fixed_parameters(seasonal: str) -> None:
    holtwinters = pytest.importorskip("statsmodels.tsa.holtwinters")
    y = _additive(n=60) if seasonal == "add" else _additive(n=60) + 50
    s0 = ADD_SEASON if seasonal == "add" else MUL_SEASON
    ref = holtwinters.ExponentialSmoothing(
        y, trend="add", seasonal=seasonal, seasonal_periods=M, initialization_method="known",
        initial_level=100.0, initial_trend=0.5, initial_seasonal=s0,
    ).fit(smoothing_level=0.3, smoothing_trend=0.1, smoothing_seasonal=0.2, optimized=False)
    ours = smooth(y, season_length=M, seasonal="additive" if seasonal == "add" else "multiplicative", trend=True,
                  alpha=0.3, beta=0.1, gamma=0.2, initial_level=100.0, initial_trend=0.5, initial_seasonal=s0)
    assert ours == pytest.approx(ref.fittedvalues, rel=1e-12)


def test_additive_interval_covers_about_its_level_on_simulated_futures() -> None:
    y = _additive(n=240, seed=5)
    model = fit(y[:228], season_length=M)
    ahead = model.forecast(12, level=0.9)
    assert np.all(ahead.lower < ahead.mean) and np.all(ahead.mean < ahead.upper)
    # Widths grow with the horizon (errors accumulate in the level and trend).
    widths = ahead.upper - ahead.lower
    assert widths[-1] > widths[0]


def test_rolling_origin_backtest_reports_errors_per_origin() -> None:
    y = _additive(n=30, seed=2)
    result = rolling_origin(y, season_length=M, horizon=2, max_origins=3)
    assert result.origins == (27, 28, 29)
    assert result.actual.shape == (3, 2)
    assert np.isnan(result.actual[-1, 1])  # past the end of the series
    assert result.mae > 0 and result.smape > 0 and result.mape is not None


def test_error_measures_by_hand() -> None:
    mae, mape, smape = errors(np.array([10.0, 0.0, 20.0]), np.array([12.0, 1.0, 20.0]))
    assert mae == pytest.approx(1.0)
    assert mape == pytest.approx(0.1)  # (0.2 + 0) / 2: the zero actual is left out of MAPE
    assert smape == pytest.approx((4 / 22 + 2 + 0) / 3)


@pytest.mark.parametrize(("values", "kwargs", "message"), [
    (list(range(1, 20)), {"season_length": 12}, "at least 24 observations"),
    ([1.0] * 10 + [float("nan")] + [1.0] * 20, {"season_length": 12}, "missing or infinite value at position 10"),
    ([5.0] * 20 + [-1.0] + [5.0] * 10, {"season_length": 12, "seasonal": "multiplicative"}, "strictly positive"),
    ([1.0] * 30, {"season_length": 1}, "at least 2"),
    ([1.0] * 30, {"season_length": 12, "seasonal": "weird"}, "seasonal must be one of"),
    ([[1.0, 2.0]] * 30, {"season_length": 12}, "one-dimensional"),
])
def test_bad_input_is_refused_with_a_clear_message(values: list, kwargs: dict, message: str) -> None:
    with pytest.raises(ForecastInputError, match=message):
        fit(values, **kwargs)


def test_bad_horizon_is_refused() -> None:
    model = fit(_additive(n=36), season_length=M)
    with pytest.raises(ForecastInputError, match="horizon"):
        model.forecast(0)
    with pytest.raises(ForecastInputError, match="level"):
        model.forecast(3, level=1.5)
