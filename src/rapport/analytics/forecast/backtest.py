"""Rolling-origin back-test: refit on every prefix, forecast ahead, score against what happened.

For origins ``k = first_origin .. n - 1`` (each a training prefix ``y[:k]``), the model is fitted
on ``y[:k]`` and forecasts ``y[k : k + horizon]`` (fewer at the end). Errors are pooled over all
(origin, step) pairs: MAE, MAPE (over non-zero actuals only; ``None`` when every actual is zero)
and sMAPE (``2|e| / (|y| + |yhat|)``, pairs with both zero count as 0), as fractions, not percent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ForecastInputError
from .holt_winters import Seasonal, check_series, fit


@dataclass(frozen=True)
class BacktestResult:
    origins: tuple[int, ...]
    horizon: int
    actual: np.ndarray  # (origins, horizon), NaN past the end of the series
    predicted: np.ndarray
    mae: float
    mape: float | None
    smape: float
    mae_by_step: tuple[float, ...]


def errors(actual: np.ndarray, predicted: np.ndarray) -> tuple[float, float | None, float]:
    """MAE, MAPE and sMAPE of the finite pairs (see the module docstring)."""
    ok = np.isfinite(actual) & np.isfinite(predicted)
    a, p = actual[ok], predicted[ok]
    if a.size == 0:
        raise ForecastInputError("There is nothing to score: no period has both an actual and a forecast.")
    err = np.abs(a - p)
    nz = a != 0
    mape = float(np.mean(err[nz] / np.abs(a[nz]))) if nz.any() else None
    denom = np.abs(a) + np.abs(p)
    smape = float(np.mean(np.where(denom > 0, 2 * err / np.where(denom > 0, denom, 1), 0.0)))
    return float(err.mean()), mape, smape


def rolling_origin(y: object, *, season_length: int, seasonal: Seasonal = "additive", trend: bool = True,
                   horizon: int = 1, first_origin: int | None = None, max_origins: int | None = None
                   ) -> BacktestResult:
    """Back-test on ``y``; origins start at ``first_origin`` (default two seasons) and, with
    ``max_origins``, only the last that many are used (each origin is one fit)."""
    arr = check_series(y, season_length=season_length, seasonal=seasonal)
    if not isinstance(horizon, int) or horizon < 1:
        raise ForecastInputError(f"horizon must be a positive integer, not {horizon!r}.")
    start = 2 * season_length if first_origin is None else int(first_origin)
    if start < 2 * season_length:
        raise ForecastInputError(f"first_origin must leave two seasons ({2 * season_length}) to train on.")
    origins = list(range(start, arr.size))
    if not origins:
        raise ForecastInputError(
            f"A back-test needs more than {start} observations (the first training window); got {arr.size}."
        )
    if max_origins is not None:
        origins = origins[-int(max_origins):]
    actual = np.full((len(origins), horizon), np.nan)
    predicted = np.full((len(origins), horizon), np.nan)
    for i, k in enumerate(origins):
        model = fit(arr[:k], season_length=season_length, seasonal=seasonal, trend=trend)
        steps = min(horizon, arr.size - k)
        predicted[i, :steps] = model.forecast(steps).mean
        actual[i, :steps] = arr[k:k + steps]
    mae, mape, smape = errors(actual, predicted)
    by_step = tuple(float(np.nanmean(np.abs(actual[:, h] - predicted[:, h]))) for h in range(horizon))
    return BacktestResult(origins=tuple(origins), horizon=horizon, actual=actual, predicted=predicted, mae=mae,
                          mape=mape, smape=smape, mae_by_step=by_step)
