"""Seeded draws of customer summaries from each model with known parameters.

``bgnbd(n, r=, alpha=, a=, b=, T=, seed=)``, ``mbgnbd(...)`` and ``pnbd(n, r=, alpha=, s=, beta=, ...)``
return a frame with ``frequency, recency, T`` and the hidden truth ``alive`` (still alive at T)
and ``rate`` (λ); ``gamma_gamma_spend(frequency, p=, q=, gamma=, seed=)`` adds mean spends.
``T`` is a number or one value per customer (e.g. ``T=rng.integers(1, 52, n)`` for staggered
acquisition). Times are continuous; ``discretize`` rounds them down to whole periods the way a
period-based summary would look (for benchmarks; the models are continuous-time).

The draws are exact, not stepped through time: while alive a customer's purchases in (0, T]
are a Poisson process, so given K arrivals their times are uniform order statistics, and the
x-th of K is ``T · Beta(x, K − x + 1)``. BG/NBD flips the death coin after every repeat purchase,
MBG/NBD also at time 0, and Pareto/NBD draws an exponential lifetime. Invariant: the same
arguments and seed give the same frame.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _times(n: int, T: float | np.ndarray) -> np.ndarray:
    times = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    if np.any(times <= 0):
        raise ValueError("T must be > 0 for every customer.")
    return times


def _order_statistic(rng: np.random.Generator, x: np.ndarray, k: np.ndarray, span: np.ndarray) -> np.ndarray:
    out = np.zeros(len(x))
    some = x > 0
    out[some] = span[some] * rng.beta(x[some], k[some] - x[some] + 1)
    return out


def _beta_geometric(n: int, r: float, alpha: float, a: float, b: float, T: float | np.ndarray, seed: int,
                    die_at_start: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    times = _times(n, T)
    rate = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    # Repeat purchases made before the death coin comes up: geometric on {1, 2, ...} for BG/NBD
    # (flips after each repeat purchase), one fewer for MBG/NBD (a flip at time 0 too).
    lifetime_purchases = rng.geometric(p) - (1 if die_at_start else 0)
    arrivals = rng.poisson(rate * times)
    x = np.minimum(arrivals, lifetime_purchases)
    recency = _order_statistic(rng, x, arrivals, times)
    alive = arrivals < lifetime_purchases
    return pd.DataFrame({"frequency": x.astype(float), "recency": recency, "T": times, "alive": alive,
                         "rate": rate})


def bgnbd(n: int, *, r: float, alpha: float, a: float, b: float, T: float | np.ndarray,
          seed: int = 0) -> pd.DataFrame:
    return _beta_geometric(n, r, alpha, a, b, T, seed, die_at_start=False)


def mbgnbd(n: int, *, r: float, alpha: float, a: float, b: float, T: float | np.ndarray,
           seed: int = 0) -> pd.DataFrame:
    return _beta_geometric(n, r, alpha, a, b, T, seed, die_at_start=True)


def pnbd(n: int, *, r: float, alpha: float, s: float, beta: float, T: float | np.ndarray,
         seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    times = _times(n, T)
    rate = rng.gamma(r, 1.0 / alpha, n)
    death = rng.gamma(s, 1.0 / beta, n)
    lifetime = rng.exponential(1.0 / death)
    span = np.minimum(lifetime, times)
    x = rng.poisson(rate * span)
    recency = _order_statistic(rng, x, x, span)  # the last of x uniform times in (0, span]
    return pd.DataFrame({"frequency": x.astype(float), "recency": recency, "T": times, "alive": lifetime > times,
                         "rate": rate})


def gamma_gamma_spend(frequency: np.ndarray, *, p: float, q: float, gamma: float, seed: int = 0) -> np.ndarray:
    """Mean spend of each customer's ``frequency`` repeat purchases (0 without one), Gamma-Gamma model:
    each purchase ~ Gamma(shape p, rate ν), ν ~ Gamma(shape q, rate γ); a sum of x purchases is Gamma(px, ν)."""
    rng = np.random.default_rng(seed)
    x = np.asarray(frequency, dtype=float)
    nu = rng.gamma(q, 1.0 / gamma, len(x))
    out = np.zeros(len(x))
    some = x > 0
    out[some] = rng.gamma(p * x[some], 1.0 / nu[some]) / x[some]
    return out


def discretize(summary: pd.DataFrame) -> pd.DataFrame:
    """Whole periods: T rounded up to at least 1, recency rounded down (never above T)."""
    out = summary.copy()
    out["T"] = np.maximum(np.ceil(out["T"]), 1.0)
    out["recency"] = np.minimum(np.floor(out["recency"]), out["T"])
    return out
