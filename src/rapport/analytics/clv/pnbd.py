"""Pareto/NBD: Poisson purchasing while alive, an exponential lifetime that nobody observes.

Sources: Schmittlein, Morrison & Colombo (1987), "Counting Your Customers: Who Are They and
What Will They Do Next?", *Management Science* 33(1); Fader & Hardie (2005), "A Note on
Deriving the Pareto/NBD Model and Related Expressions" (likelihood eq. 18 with the Gauss
hypergeometric term A₀ of eqs. 19–20, P(alive) eq. 22 and the conditional expectation).

Parameters: purchase rate λ ~ Gamma(``r``, ``alpha``), death rate μ ~ Gamma(``s``, ``beta``).

    LL = ln Γ(r+x) − ln Γ(r) + r ln α + s ln β
         + ln[ (α+T)^−(r+x) (β+T)^−s + s/(r+s+x) · A₀ ]
    A₀ = F(t_x)/(m+t_x)^(r+s+x) − F(T)/(m+T)^(r+s+x)

where, to keep the argument of ₂F₁ in [0, 1), m = max(α, β) and
F(t) = ₂F₁(r+s+x, s+1; r+s+x+1; (α−β)/(α+t)) when α ≥ β,
F(t) = ₂F₁(r+s+x, r+x; r+s+x+1; (β−α)/(β+t)) otherwise. A₀ ≥ 0 and is 0 when t_x = T; its
logarithm is formed as ``l(t_x) + log1p(−exp(l(T) − l(t_x)))`` so that no power overflows.
The gradient is by finite differences (scipy has no derivative of ₂F₁ in its parameters).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, gammaln, hyp2f1

NAMES = ("r", "alpha", "s", "beta")
TIME_SCALED = (1, 3)


def log_a0(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray,
           xT: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
           xt: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """ln A₀ per row. ``xT`` = (x, T, inverse) of the distinct (x, T) pairs and ``xt`` the same for
    (x, t_x), optional: each ₂F₁ term depends on one pair only, so fitting evaluates it once per
    distinct pair rather than once per pattern."""
    r, alpha, s, beta = theta
    if alpha >= beta:
        base, gap, swap = alpha, alpha - beta, False
    else:
        base, gap, swap = beta, beta - alpha, True

    def part(xs: np.ndarray, t: np.ndarray) -> np.ndarray:
        rsx = r + s + xs
        second = r + xs if swap else s + 1
        return np.log(hyp2f1(rsx, second, rsx + 1, gap / (base + t))) - rsx * np.log(base + t)

    with np.errstate(divide="ignore", invalid="ignore"):
        at_tx = part(x, t_x) if xt is None else part(xt[0], xt[1])[xt[2]]
        at_T = part(x, T) if xT is None else part(xT[0], xT[1])[xT[2]]
        return at_tx + np.log1p(-np.exp(at_T - at_tx))


def distinct_pairs(x: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows, inverse = np.unique(np.column_stack([x, T]), axis=0, return_inverse=True)
    return rows[:, 0], rows[:, 1], inverse.ravel()


def _alive_and_dead(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, xT=None, xt=None):
    r, alpha, s, beta = theta
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    dead = np.log(s) - np.log(r + s + x) + log_a0(theta, x, t_x, T, xT, xt)
    return alive, dead


def loglik(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, w: np.ndarray, xT=None,
           xt=None) -> float:
    r, alpha, s, beta = theta
    alive, dead = _alive_and_dead(theta, x, t_x, T, xT, xt)
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    return float(np.sum(w * (head + np.logaddexp(alive, dead))))


def p_alive(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    alive, dead = _alive_and_dead(theta, x, t_x, T)
    return expit(alive - dead)


def _rate_integral(s: float, start: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(1 − (start/(start+t))^(s−1)) / (s−1), with its limit ln((start+t)/start) at s = 1."""
    log_ratio = np.log(start + t) - np.log(start)
    if abs(s - 1) < 1e-10:
        return log_ratio
    return -np.expm1(-(s - 1) * log_ratio) / (s - 1)


def conditional_expected(theta: np.ndarray, t: float | np.ndarray, x: np.ndarray, t_x: np.ndarray,
                         T: np.ndarray) -> np.ndarray:
    r, alpha, s, beta = theta
    t = np.asarray(t, dtype=float)
    per_alive = (r + x) * (beta + T) / (alpha + T) * _rate_integral(s, beta + T, t)
    return per_alive * p_alive(theta, x, t_x, T)


def unconditional_expected(theta: np.ndarray, t: float | np.ndarray) -> np.ndarray:
    r, alpha, s, beta = theta
    t = np.asarray(t, dtype=float)
    return r * beta / alpha * _rate_integral(s, np.full_like(t, beta), t)
