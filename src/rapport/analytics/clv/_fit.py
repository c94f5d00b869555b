"""Maximum likelihood machinery shared by the purchase and spend models.

Invariants:

* Customers are fitted through their distinct ``(x, t_x, T)`` patterns weighted by how many
  customers share them (:func:`compress`). The log-likelihood is a sum over customers, so this
  is exact, and with period-rounded summaries (what :func:`.summary.summarize` produces) a
  million customers collapse to tens of thousands of patterns: that is where the speed comes from.
* Parameters are optimised as logarithms (all of them are positive), on the mean
  log-likelihood per customer (so tolerances do not depend on the number of customers), with
  times divided by ``max(T)`` so that the scale parameters start near one. Rescaling time by
  ``c`` changes the total log-likelihood of the counting models by ``-sum(x) * log(c)`` only; the
  reported ``log_likelihood`` is always in the caller's units.
* Standard errors are from the observed information in the natural parameters. At the maximum
  the gradient is zero, so the Hessian in ``θ`` is ``D⁻¹ H_log D⁻¹`` with ``D = diag(θ)``, and
  the covariance is ``D H_log⁻¹ D``: only the Hessian in log space is computed (central
  differences of the analytic gradient where there is one, of the function otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize


class FitError(ValueError):
    """The data cannot identify the model (e.g. nobody bought twice), or the optimiser failed."""


@dataclass(frozen=True)
class Patterns:
    """Distinct ``(x, t_x, T)`` rows with their counts; ``inverse`` maps customers to rows."""

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    weight: np.ndarray
    inverse: np.ndarray


def compress(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> Patterns:
    """Distinct rows by hashing, not sorting: each column is factorised, the three codes are combined
    into one int64 key (at most n³ < 2⁶³ for n ≤ 2M rows), and the key is factorised again —
    about ten times faster than ``np.unique(axis=0)`` on a million rows."""
    columns = [np.asarray(c, dtype=float).ravel() for c in (x, t_x, T)]
    key = _whole_period_key(columns)
    if key is None:
        key = np.zeros(len(columns[0]), dtype=np.int64)
        for column in columns:
            codes, uniques = pd.factorize(column)
            key = key * np.int64(len(uniques)) + codes
    inverse, distinct = pd.factorize(key)
    first = np.empty(len(distinct), dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(key) - 1, -1, -1)  # the first row of each pattern
    counts = np.bincount(inverse, minlength=len(distinct)).astype(float)
    return Patterns(columns[0][first], columns[1][first], columns[2][first], counts, inverse)


def _whole_period_key(columns: list[np.ndarray]) -> np.ndarray | None:
    """For whole-period summaries (the usual case), the key is the values themselves in mixed radix."""
    top = max(float(c.max()) for c in columns) + 1 if len(columns[0]) else 0.0
    if top > 2**20 or not all(c.min() >= 0 and np.array_equal(c, np.floor(c)) for c in columns):
        return None
    radix = np.int64(top)
    x, t_x, T = (c.astype(np.int64) for c in columns)
    return (x * radix + t_x) * radix + T


@dataclass(frozen=True)
class Optimum:
    params: np.ndarray  # natural parameters
    standard_errors: np.ndarray
    covariance: np.ndarray
    log_likelihood: float  # total, in the units of the data given to maximise (caller adds offsets)
    iterations: int
    converged: bool


def maximise(loglik: Callable[[np.ndarray], float], gradient: Callable[[np.ndarray], np.ndarray] | None,
             start: np.ndarray, total_weight: float,
             value_and_gradient: Callable[[np.ndarray], tuple[float, np.ndarray]] | None = None) -> Optimum:
    """Maximise ``loglik(θ)`` (a total) over ``log θ``; ``gradient(θ)`` is ``∂loglik/∂θ`` if known, and
    ``value_and_gradient(θ)`` both at once (cheaper when they share terms)."""

    def objective(log_theta: np.ndarray) -> tuple[float, np.ndarray]:
        theta = np.exp(np.clip(log_theta, -30, 30))
        if value_and_gradient is not None:
            value, grad = value_and_gradient(theta)
            grad = grad * theta
        else:
            value = loglik(theta)
        if not np.isfinite(value):
            return 1e300, np.zeros_like(theta)
        if value_and_gradient is None:
            grad = _central_gradient(loglik, log_theta) if gradient is None else gradient(theta) * theta
        if not np.all(np.isfinite(grad)):
            grad = np.zeros_like(theta)
        return -value / total_weight, -grad / total_weight

    with np.errstate(all="ignore"):
        result = minimize(objective, np.log(start), jac=True, method="L-BFGS-B",
                          options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-9})
        log_theta = result.x
        theta = np.exp(log_theta)
        hess = _hessian_log(loglik, gradient, log_theta)
    converged = bool(np.isfinite(result.fun)) and bool(np.all(np.isfinite(hess)))
    try:
        cov_log = np.linalg.inv(-hess)
    except np.linalg.LinAlgError:
        cov_log = np.full_like(hess, np.nan)
    cov = cov_log * np.outer(theta, theta)
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.diag(cov))
    return Optimum(theta, se, cov, float(loglik(theta)), int(result.nit), converged)


def _central_gradient(loglik: Callable[[np.ndarray], float], log_theta: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """∂loglik/∂log θ by central differences (error O(h²), about 1e-10 relative here)."""
    grad = np.empty(len(log_theta))
    for i in range(len(log_theta)):
        step = np.zeros(len(log_theta))
        step[i] = h
        grad[i] = (loglik(np.exp(log_theta + step)) - loglik(np.exp(log_theta - step))) / (2 * h)
    return grad


def _hessian_log(loglik: Callable[[np.ndarray], float], gradient: Callable[[np.ndarray], np.ndarray] | None,
                 log_theta: np.ndarray) -> np.ndarray:
    """Hessian of the total log-likelihood in log-parameter space, by central differences."""
    k = len(log_theta)
    h = 1e-4
    hess = np.empty((k, k))
    if gradient is not None:
        def g(u: np.ndarray) -> np.ndarray:
            theta = np.exp(u)
            return gradient(theta) * theta

        for i in range(k):
            step = np.zeros(k)
            step[i] = h
            hess[i] = (g(log_theta + step) - g(log_theta - step)) / (2 * h)
        return (hess + hess.T) / 2

    def f(u: np.ndarray) -> float:
        return loglik(np.exp(u))

    h = 1e-3
    f0 = f(log_theta)
    for i in range(k):
        for j in range(i, k):
            ei = np.zeros(k)
            ej = np.zeros(k)
            ei[i] = h
            ej[j] = h
            if i == j:
                value = (f(log_theta + ei) - 2 * f0 + f(log_theta - ei)) / h**2
            else:
                value = (f(log_theta + ei + ej) - f(log_theta + ei - ej) - f(log_theta - ei + ej)
                         + f(log_theta - ei - ej)) / (4 * h**2)
            hess[i, j] = hess[j, i] = value
    return hess
