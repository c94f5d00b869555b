"""Statistical sales forecasts: seasonal exponential smoothing (Holt-Winters) and its back-test.

    from rapport.analytics.forecast import fit, rolling_origin
    model = fit(monthly_won, season_length=12, seasonal="additive")    # or "multiplicative"
    ahead = model.forecast(6, level=0.9)          # .mean, .lower, .upper
    test = rolling_origin(monthly_won, season_length=12, horizon=3)    # .mae, .mape, .smape

:mod:`.holt_winters` (the recursion, least-squares fit, intervals, simulation), :mod:`.backtest`
(rolling-origin errors). Errors are ``ForecastInputError`` (a ValueError). No Django here.
"""

from __future__ import annotations

from .backtest import BacktestResult, errors, rolling_origin
from .errors import ForecastInputError
from .holt_winters import SEASONALS, Forecast, HoltWintersFit, check_series, fit, forecast, simulate, smooth

__all__ = [
    "SEASONALS", "BacktestResult", "Forecast", "ForecastInputError", "HoltWintersFit", "check_series", "errors",
    "fit", "forecast", "rolling_origin", "simulate", "smooth",
]
