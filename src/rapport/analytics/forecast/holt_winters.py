"""Holt-Winters seasonal exponential smoothing, fitted by least squares, with prediction intervals.

The recursion (additive trend, period ``m``; ``seasonal="additive"``)::

    yhat_t = l_{t-1} + b_{t-1} + s_{t-m}
    l_t    = alpha (y_t - s_{t-m}) + (1 - alpha) (l_{t-1} + b_{t-1})
    b_t    = beta (l_t - l_{t-1}) + (1 - beta) b_{t-1}
    s_t    = gamma (y_t - l_{t-1} - b_{t-1}) + (1 - gamma) s_{t-m}

and for ``seasonal="multiplicative"`` ``yhat_t = (l_{t-1} + b_{t-1}) s_{t-m}``, ``y_t / s_{t-m}``
in the level and ``y_t / (l_{t-1} + b_{t-1})`` in the seasonal update. ``trend=False`` drops ``b``.
This is the parametrisation of Hyndman & Athanasopoulos (and of statsmodels'
``ExponentialSmoothing``): ``initial_level`` is ``l_{-1}`` (before the first observation),
``initial_seasonal[j]`` is the seasonal factor applied to ``y_j`` for ``j < m``.

Invariants: smoothing parameters lie in [0, 1]; the initial states are estimated together with
them by minimising the sum of squared one-step errors (SSE) with L-BFGS-B; ``sigma`` is
``sqrt(SSE / (n - p))`` with ``p`` the number of estimated parameters. Intervals: for additive
seasonality the closed form of the ETS(A,A,A) forecast variance; for multiplicative seasonality
quantiles of simulated future paths (additive Gaussian errors with that ``sigma``, seeded).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import optimize, stats

from .errors import ForecastInputError

Seasonal = Literal["additive", "multiplicative"]
SEASONALS: tuple[str, ...] = ("additive", "multiplicative")


@dataclass(frozen=True)
class HoltWintersFit:
    """A fitted model: parameters, initial and final states, in-sample one-step fits."""

    seasonal: str
    trend: bool
    season_length: int
    alpha: float
    beta: float
    gamma: float
    initial_level: float
    initial_trend: float
    initial_seasonal: tuple[float, ...]
    level: float
    slope: float
    season: tuple[float, ...]  # the last m seasonal states, oldest first: season[0] applies next
    fitted: np.ndarray
    residuals: np.ndarray
    sse: float
    sigma: float
    n: int
    n_params: int

    def forecast(self, horizon: int, *, level: float = 0.95, simulations: int = 2000, seed: int = 0) -> Forecast:
        return forecast(self, horizon, level=level, simulations=simulations, seed=seed)


@dataclass(frozen=True)
class Forecast:
    """Point forecasts ``mean[h-1]`` for h = 1..horizon and a central ``level`` interval."""

    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level: float


def check_series(y: object, *, season_length: int, seasonal: str) -> np.ndarray:
    """``y`` as a finite float array long enough for two seasons; ``ForecastInputError`` otherwise."""
    if seasonal not in SEASONALS:
        raise ForecastInputError(f"seasonal must be one of {', '.join(SEASONALS)}, not {seasonal!r}.")
    if not isinstance(season_length, int | np.integer) or isinstance(season_length, bool) or season_length < 2:
        raise ForecastInputError(f"season_length must be an integer of at least 2, not {season_length!r}.")
    try:
        arr = np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        raise ForecastInputError("The series must be a sequence of numbers.") from None
    if arr.ndim != 1:
        raise ForecastInputError(f"The series must be one-dimensional, not of shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ForecastInputError(f"The series has a missing or infinite value at position {bad}; fill it first.")
    if arr.size < 2 * season_length:
        raise ForecastInputError(
            f"A seasonal model with a season of {season_length} periods needs at least {2 * season_length} "
            f"observations (two full seasons); got {arr.size}."
        )
    if seasonal == "multiplicative" and np.any(arr <= 0):
        raise ForecastInputError(
            "Multiplicative seasonality needs strictly positive values; the series has zero or negative ones "
            "(use seasonal='additive')."
        )
    return arr


def _run(y: list[float], m: int, mult: bool, trend: bool, a: float, b: float, g: float,
         l0: float, b0: float, s0: list[float]) -> tuple[list[float], float, float, list[float]]:
    """The recursion in plain floats (faster than numpy at these lengths). Returns fits and final states."""
    lvl, slope = l0, (b0 if trend else 0.0)
    season = list(s0)
    fits = []
    ac, bc, gc = 1.0 - a, 1.0 - b, 1.0 - g
    for t, yt in enumerate(y):
        s = season[t]
        base = lvl + slope
        if mult:
            fits.append(base * s)
            new_lvl = a * (yt / s) + ac * base
            season.append(g * (yt / base) + gc * s)
        else:
            fits.append(base + s)
            new_lvl = a * (yt - s) + ac * base
            season.append(g * (yt - base) + gc * s)
        if trend:
            slope = b * (new_lvl - lvl) + bc * slope
        lvl = new_lvl
    return fits, lvl, slope, season[len(y):len(y) + m]


def _initial_states(y: np.ndarray, m: int, mult: bool, trend: bool) -> tuple[float, float, np.ndarray]:
    """Heuristic start: level = first season's mean, trend from the first two seasons' means."""
    first, second = y[:m].mean(), y[m:2 * m].mean()
    b0 = (second - first) / m if trend else 0.0
    # l_{-1} such that l_{-1} + b0 * (m + 1) / 2 is the mean of the first season's centre.
    l0 = first - b0 * (m + 1) / 2 if trend else first
    centre = first + b0 * (np.arange(m) - (m - 1) / 2)
    s0 = y[:m] / centre if mult else y[:m] - centre
    return float(l0), float(b0), s0


def _sse_and_gradient(x: np.ndarray, z: np.ndarray, m: int, mult: bool, trend: bool) -> tuple[float, np.ndarray]:
    """SSE of the one-step fits at ``x = [alpha, beta, gamma, l0, b0, s0...]`` and its exact gradient,
    by forward-mode differentiation of the recursion (each state carries its derivative vector)."""
    p = x.size
    a, b, g, lvl, slope = x[0], x[1], x[2], x[3], (x[4] if trend else 0.0)
    eye = np.eye(p)
    d_lvl, d_slope = eye[3].copy(), (eye[4].copy() if trend else np.zeros(p))
    season = [float(v) for v in x[5:]]
    d_season = [eye[5 + j].copy() for j in range(m)]
    e_a, e_b, e_g = eye[0], eye[1], eye[2]
    total, grad = 0.0, np.zeros(p)
    for t, yt in enumerate(z.tolist()):
        s, ds = season[t], d_season[t]
        base, d_base = lvl + slope, d_lvl + d_slope
        if mult:
            f, df = base * s, s * d_base + base * ds
            ys, yb = yt / s, yt / base
            nl = a * ys + (1 - a) * base
            dnl = (ys - base) * e_a - (a * ys / s) * ds + (1 - a) * d_base
            season.append(g * yb + (1 - g) * s)
            d_season.append((yb - s) * e_g - (g * yb / base) * d_base + (1 - g) * ds)
        else:
            f, df = base + s, d_base + ds
            nl = a * (yt - s) + (1 - a) * base
            dnl = (yt - s - base) * e_a - a * ds + (1 - a) * d_base
            season.append(g * (yt - base) + (1 - g) * s)
            d_season.append((yt - base - s) * e_g - g * d_base + (1 - g) * ds)
        err = yt - f
        total += err * err
        grad -= 2 * err * df
        if trend:
            nb = b * (nl - lvl) + (1 - b) * slope
            d_slope = (nl - lvl - slope) * e_b + b * (dnl - d_lvl) + (1 - b) * d_slope
            slope = nb
        lvl, d_lvl = nl, dnl
    if not (math.isfinite(total) and np.all(np.isfinite(grad))):
        return 1e300, np.zeros(p)
    return total, grad


def fit(y: object, *, season_length: int, seasonal: Seasonal = "additive", trend: bool = True) -> HoltWintersFit:
    """Fit Holt-Winters to ``y`` (oldest first) by minimising the SSE of one-step forecasts."""
    arr = check_series(y, season_length=season_length, seasonal=seasonal)
    m, mult = int(season_length), seasonal == "multiplicative"
    # Work on a unit scale so that the optimiser's steps are comparable across parameters.
    scale = float(np.mean(np.abs(arr))) or 1.0
    zarr = arr / scale
    z = zarr.tolist()
    l0, b0, s0 = _initial_states(zarr, m, mult, trend)
    # The full vector is [alpha, beta, gamma, l0, b0, s0...]; without a trend beta and b0 stay 0.
    free = np.ones(5 + m, dtype=bool)
    if not trend:
        free[[1, 4]] = False

    def objective(v: np.ndarray) -> tuple[float, np.ndarray]:
        x = np.zeros(5 + m)
        x[free] = v
        total, grad = _sse_and_gradient(x, zarr, m, mult, trend)
        return total, grad[free]

    def quick_sse(a: float, b: float, g: float) -> float:
        fits, *_ = _run(z, m, mult, trend, a, b, g, l0, b0, list(s0))
        total = math.fsum((zt - ft) ** 2 for zt, ft in zip(z, fits, strict=True))
        return total if math.isfinite(total) else math.inf

    grid = itertools.product((0.05, 0.2, 0.5, 0.8), (0.01, 0.1, 0.3) if trend else (0.0,), (0.01, 0.1, 0.4))
    starts = sorted(grid, key=lambda abg: quick_sse(*abg))[:2]
    s_bounds = [(1e-6, None)] * m if mult else [(None, None)] * m
    bounds = [(0.0, 1.0)] * 3 + [(None, None)] * 2 + s_bounds
    bounds = [bd for bd, keep in zip(bounds, free, strict=True) if keep]
    best = None
    for a, b, g in starts:
        x0 = np.array([a, b, g, l0, b0, *s0])[free]
        res = optimize.minimize(objective, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                                options={"maxiter": 3000, "ftol": 1e-14, "gtol": 1e-10})
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    x = np.zeros(5 + m)
    x[free] = best.x
    a, b, g, lv, tr = (float(v) for v in x[:5])
    ss = [float(v) for v in x[5:]]
    fits, lvl, slope, season = _run(z, m, mult, trend, a, b, g, lv, tr, ss)
    state_scale = 1.0 if mult else scale  # multiplicative seasonal factors carry no unit
    fitted = np.asarray(fits) * scale
    residuals = arr - fitted
    total = float(np.sum(residuals**2))
    n_params = int(free.sum())
    dof = max(arr.size - n_params, 1)
    return HoltWintersFit(
        seasonal=seasonal, trend=trend, season_length=m, alpha=a, beta=b, gamma=g,
        initial_level=lv * scale, initial_trend=tr * scale,
        initial_seasonal=tuple(v * state_scale for v in ss),
        level=lvl * scale, slope=slope * scale, season=tuple(float(v) * state_scale for v in season),
        fitted=fitted, residuals=residuals, sse=total, sigma=math.sqrt(total / dof), n=int(arr.size),
        n_params=n_params,
    )


def smooth(y: object, *, season_length: int, seasonal: Seasonal, trend: bool, alpha: float, beta: float,
           gamma: float, initial_level: float, initial_trend: float, initial_seasonal: object) -> np.ndarray:
    """The one-step fits for given parameters and initial states (no fitting): the recursion itself."""
    arr = check_series(y, season_length=season_length, seasonal=seasonal)
    s0 = [float(v) for v in np.asarray(initial_seasonal, dtype=float)]
    if len(s0) != season_length:
        raise ForecastInputError(f"initial_seasonal needs {season_length} values, got {len(s0)}.")
    fits, *_ = _run(arr.tolist(), season_length, seasonal == "multiplicative", trend, alpha, beta, gamma,
                    initial_level, initial_trend, s0)
    return np.asarray(fits)


def _point_path(f: HoltWintersFit, horizon: int) -> np.ndarray:
    m = f.season_length
    h = np.arange(1, horizon + 1)
    base = f.level + h * f.slope
    seas = np.asarray(f.season)[(h - 1) % m]
    return base * seas if f.seasonal == "multiplicative" else base + seas


def forecast(f: HoltWintersFit, horizon: int, *, level: float = 0.95, simulations: int = 2000,
             seed: int = 0) -> Forecast:
    """Forecasts for the next ``horizon`` periods with a central ``level`` prediction interval."""
    if not isinstance(horizon, int | np.integer) or isinstance(horizon, bool) or horizon < 1:
        raise ForecastInputError(f"horizon must be a positive integer, not {horizon!r}.")
    if not 0 < level < 1:
        raise ForecastInputError(f"level must lie strictly between 0 and 1, not {level!r}.")
    mean = _point_path(f, int(horizon))
    z = stats.norm.ppf(0.5 + level / 2)
    if f.seasonal == "additive":
        # ETS(A,A,A): y_{n+h} - yhat = e_{n+h} + sum_{j<h} c_j e_{n+h-j}, c_j = alpha (1 + j beta) + gamma [j % m == 0].
        j = np.arange(1, horizon)
        c = f.alpha * (1 + j * (f.beta if f.trend else 0.0)) + f.gamma * (j % f.season_length == 0)
        var = f.sigma**2 * (1 + np.concatenate([[0.0], np.cumsum(c**2)]))
        half = z * np.sqrt(var)
        return Forecast(mean=mean, lower=mean - half, upper=mean + half, level=level)
    rng = np.random.default_rng(seed)
    m = f.season_length
    paths = np.empty((simulations, horizon))
    lvl = np.full(simulations, f.level)
    slope = np.full(simulations, f.slope)
    season = np.tile(np.asarray(f.season), (simulations, 1))
    for h in range(horizon):
        s = season[:, h % m].copy()
        base = lvl + slope
        y = base * s + rng.normal(0.0, f.sigma, simulations)
        paths[:, h] = y
        new_lvl = f.alpha * y / s + (1 - f.alpha) * base
        season[:, h % m] = f.gamma * y / base + (1 - f.gamma) * s
        if f.trend:
            slope = f.beta * (new_lvl - lvl) + (1 - f.beta) * slope
        lvl = new_lvl
    lo, hi = np.quantile(paths, [0.5 - level / 2, 0.5 + level / 2], axis=0)
    return Forecast(mean=mean, lower=lo, upper=hi, level=level)


def simulate(*, n: int, season_length: int, alpha: float, beta: float, gamma: float, level: float,
             slope: float, season: object, sigma: float, seasonal: Seasonal = "additive",
             seed: int = 0) -> np.ndarray:
    """A series from the model itself (innovations form, Gaussian errors): for parameter recovery."""
    rng = np.random.default_rng(seed)
    s = [float(v) for v in np.asarray(season, dtype=float)]
    lvl, b = float(level), float(slope)
    out = np.empty(n)
    for t in range(n):
        st = s[t]
        base = lvl + b
        y = (base * st if seasonal == "multiplicative" else base + st) + rng.normal(0.0, sigma)
        out[t] = y
        if seasonal == "multiplicative":
            new_lvl = alpha * y / st + (1 - alpha) * base
            s.append(gamma * y / base + (1 - gamma) * st)
        else:
            new_lvl = alpha * (y - st) + (1 - alpha) * base
            s.append(gamma * (y - base) + (1 - gamma) * st)
        b = beta * (new_lvl - lvl) + (1 - beta) * b
        lvl = new_lvl
    return out
