"""Fitting and scoring the purchase-process models: BG/NBD, Pareto/NBD and MBG/NBD.

    fit = fit_purchases(summary, model="bgnbd")       # summary: frequency, recency, T columns
    fit.params            # {"r": ..., "alpha": ..., "a": ..., "b": ...}
    fit.standard_errors   # same keys, from the observed information
    fit.log_likelihood    # total over customers, in the data's time unit
    fit.p_alive(f, r, T); fit.expected_purchases(t, f, r, T); fit.expected_purchases_new(t)

Invariants: the summary is validated first (:func:`.summary.check_summary`); a data set in which
nobody made a repeat purchase raises :class:`.errors.NoRepeatPurchasesError` instead of returning
parameters the data cannot identify. ``PurchaseFit`` is frozen and holds no data, only parameters,
so it can be pickled, stored and used to score any other summary in the same time unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import bgnbd, pnbd
from ._fit import FitError, Optimum, compress, maximise
from .errors import NoRepeatPurchasesError
from .summary import check_summary

MODELS = ("bgnbd", "pnbd", "mbgnbd")
_NAMES = {"bgnbd": bgnbd.NAMES, "mbgnbd": bgnbd.NAMES, "pnbd": pnbd.NAMES}
_TIME_SCALED = {"bgnbd": bgnbd.TIME_SCALED, "mbgnbd": bgnbd.TIME_SCALED, "pnbd": pnbd.TIME_SCALED}


def _functions(model: str) -> dict[str, Any]:
    if model == "pnbd":
        return {"loglik": pnbd.loglik, "gradient": None, "p_alive": pnbd.p_alive,
                "conditional": pnbd.conditional_expected, "unconditional": pnbd.unconditional_expected}
    mbg = model == "mbgnbd"
    return {
        "loglik": lambda th, x, tx, T, w: bgnbd.loglik(th, x, tx, T, w, mbg),
        "gradient": lambda th, x, tx, T, w: bgnbd.gradient(th, x, tx, T, w, mbg),
        "p_alive": lambda th, x, tx, T: bgnbd.p_alive(th, x, tx, T, mbg),
        "conditional": lambda th, t, x, tx, T: bgnbd.conditional_expected(th, t, x, tx, T, mbg),
        "unconditional": lambda th, t: bgnbd.unconditional_expected(th, t, mbg),
    }


@dataclass(frozen=True)
class PurchaseFit:
    model: str
    params: Mapping[str, float]
    standard_errors: Mapping[str, float]
    log_likelihood: float
    n_customers: int
    n_patterns: int
    iterations: int
    covariance: np.ndarray = field(repr=False)

    @classmethod
    def from_params(cls, model: str, params: Mapping[str, float]) -> PurchaseFit:
        """A model with given parameters (stored ones, or the truth of a simulation), for scoring only."""
        if model not in MODELS or set(params) != set(_NAMES[model]):
            raise ValueError(f"{model} takes parameters {', '.join(_NAMES.get(model, ()))}, not {', '.join(params)}.")
        nan = dict.fromkeys(params, float("nan"))
        return cls(model=model, params=dict(params), standard_errors=nan, log_likelihood=float("nan"), n_customers=0,
                   n_patterns=0, iterations=0, covariance=np.full((4, 4), np.nan))

    @property
    def theta(self) -> np.ndarray:
        return np.array([self.params[name] for name in _NAMES[self.model]])

    def p_alive(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        x, t_x, big_t = _arrays(frequency, recency, T)
        return _functions(self.model)["p_alive"](self.theta, x, t_x, big_t)

    def expected_purchases(self, t: float, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """Expected purchases in the next ``t`` periods, given each customer's history."""
        x, t_x, big_t = _arrays(frequency, recency, T)
        return _functions(self.model)["conditional"](self.theta, t, x, t_x, big_t)

    def expected_purchases_new(self, t: float | np.ndarray) -> np.ndarray:
        """E[X(t)]: expected repeat purchases within ``t`` periods of a customer's first purchase."""
        return _functions(self.model)["unconditional"](self.theta, t)

    def loglik(self, frequency: Any, recency: Any, T: Any) -> float:
        """Total log-likelihood of another summary under these parameters."""
        x, t_x, big_t = _arrays(frequency, recency, T)
        return float(_functions(self.model)["loglik"](self.theta, x, t_x, big_t, np.ones_like(x)))

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "params": dict(self.params), "standard_errors": dict(self.standard_errors),
                "log_likelihood": self.log_likelihood, "n_customers": self.n_customers,
                "n_patterns": self.n_patterns, "iterations": self.iterations}


def _arrays(frequency: Any, recency: Any, T: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (np.asarray(frequency, dtype=float), np.asarray(recency, dtype=float), np.asarray(T, dtype=float))


def fit_purchases(summary: Any, model: str = "bgnbd") -> PurchaseFit:
    """Maximum likelihood fit of ``model`` to a summary frame (``frequency``, ``recency``, ``T``)."""
    if model not in MODELS:
        raise ValueError(f"Unknown model {model!r}; choose one of {', '.join(MODELS)}.")
    frequency, recency, T = check_summary(summary)
    if not np.any(frequency > 0):
        raise NoRepeatPurchasesError(
            f"None of the {len(frequency):,} customers made a repeat purchase (every frequency is 0), so the "
            "purchase rate and the drop-out process cannot be estimated; there is no repeat buying to model.")
    scale = 1.0 / float(T.max())
    patterns = compress(frequency, recency * scale, T * scale)
    fns = _functions(model)
    args = (patterns.x, patterns.t_x, patterns.T, patterns.weight)

    both = None
    if model == "pnbd":
        xT = pnbd.distinct_pairs(patterns.x, patterns.T)
        xt = pnbd.distinct_pairs(patterns.x, patterns.t_x)

        def loglik(theta: np.ndarray) -> float:
            return pnbd.loglik(theta, *args, xT=xT, xt=xt)

        gradient = None
    else:
        mbg = model == "mbgnbd"
        levels = bgnbd.Levels(patterns.x, patterns.t_x, patterns.T)

        def loglik(theta: np.ndarray) -> float:
            return bgnbd.loglik(theta, *args, mbg=mbg, levels=levels)

        def gradient(theta: np.ndarray) -> np.ndarray:
            return bgnbd.value_and_gradient(theta, patterns.weight, levels, mbg)[1]

        def both(theta: np.ndarray) -> tuple[float, np.ndarray]:
            return bgnbd.value_and_gradient(theta, patterns.weight, levels, mbg)

    optimum: Optimum = maximise(loglik, gradient, np.ones(4), float(patterns.weight.sum()), both)
    if not optimum.converged:
        raise FitError(f"The {model} fit did not converge on these {len(frequency):,} customers.")
    theta, se, cov = optimum.params.copy(), optimum.standard_errors.copy(), optimum.covariance.copy()
    for i in _TIME_SCALED[model]:  # back from the scaled time unit: rates per period
        theta[i] /= scale
        se[i] /= scale
        cov[i, :] /= scale
        cov[:, i] /= scale
    names = _NAMES[model]
    # The log-likelihood is recomputed in the caller's time unit (it differs by -sum(x)·ln(scale)).
    total = float(fns["loglik"](theta, patterns.x, patterns.t_x / scale, patterns.T / scale, patterns.weight))
    return PurchaseFit(model=model, params=dict(zip(names, theta.tolist(), strict=True)),
                       standard_errors=dict(zip(names, se.tolist(), strict=True)),
                       log_likelihood=total, n_customers=len(frequency), n_patterns=len(patterns.x),
                       iterations=optimum.iterations, covariance=cov)
