"""BG/NBD and MBG/NBD: Poisson purchasing while alive, death by a coin flip after purchases.

Sources: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way: An Alternative to
the Pareto/NBD Model", *Marketing Science* 24(2) (BG/NBD: likelihood eq. 6, P(alive) and the
conditional expectation eq. 10, E[X(t)] eq. 9), with Fader & Hardie's note "Implementing the
BG/NBD Model for Customer Base Analysis in Excel" (2005); Batislam, Denizel & Filiztekin (2007),
"Empirical validation and comparison of models for customer base analysis", *International
Journal of Research in Marketing* 24(3) (MBG/NBD: the coin is also flipped at the first
purchase, so a customer with no repeat purchase may already be gone).

Parameters: purchase rate λ ~ Gamma(shape ``r``, rate ``alpha``); drop-out probability
p ~ Beta(``a``, ``b``). Both models share one likelihood written with an offset ``k`` (0 for
BG/NBD, 1 for MBG/NBD):

    LL = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x+k) − ln B(a, b)
         + ln[ (α+T)^−(r+x) + δ · a/(b+x+k−1) · (α+t_x)^−(r+x) ]

with δ = [x > 0] for BG/NBD and δ = 1 for MBG/NBD. The gradient is analytic (digammas).
Invariants: P(alive) is 1 for BG/NBD customers with x = 0; every function is vectorised over
customers and takes times in the unit the model was fitted in.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, expit, gammaln, hyp2f1

NAMES = ("r", "alpha", "a", "b")
TIME_SCALED = (1,)  # alpha is a rate per unit time


def _offset(mbg: bool) -> int:
    return 1 if mbg else 0


class Levels:
    """The distinct values of x, t_x and T with index arrays: the special functions of x and the
    logarithms of α + t are evaluated once per distinct value (a few hundred) rather than per row."""

    def __init__(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> None:
        self.x = x
        self.ux, self.ix = np.unique(x, return_inverse=True)
        self.ut, self.it = np.unique(t_x, return_inverse=True)
        self.uT, self.iT = np.unique(T, return_inverse=True)
        self.positive = x > 0


def _terms(theta: np.ndarray, lv: Levels, mbg: bool):
    r, alpha, a, b = theta
    k = _offset(mbg)
    ux, ix = lv.ux, lv.ix
    a12 = (gammaln(r + ux) - gammaln(r) + r * np.log(alpha)
           + gammaln(a + b) + gammaln(b + ux + k) - gammaln(b) - gammaln(a + b + ux + k))[ix]
    a3 = -(r + lv.x) * np.log(alpha + lv.uT)[lv.iT]
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = (np.log(a) - np.log(b + ux + k - 1))[ix] - (r + lv.x) * np.log(alpha + lv.ut)[lv.it]
    if not mbg:
        a4 = np.where(lv.positive, a4, -np.inf)
    return a12, a3, a4


def loglik(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, w: np.ndarray,
           mbg: bool = False, levels: Levels | None = None) -> float:
    lv = levels if levels is not None else Levels(x, t_x, T)
    a12, a3, a4 = _terms(theta, lv, mbg)
    return float(np.dot(w, a12 + np.logaddexp(a3, a4)))


def value_and_gradient(theta: np.ndarray, w: np.ndarray, levels: Levels, mbg: bool = False
                       ) -> tuple[float, np.ndarray]:
    """The total log-likelihood and its gradient in the natural parameters, from one set of terms."""
    r, alpha, a, b = theta
    k = _offset(mbg)
    lv = levels
    a12, a3, a4 = _terms(theta, lv, mbg)
    total = np.logaddexp(a3, a4)
    value = float(np.dot(w, a12 + total))
    w3 = np.exp(a3 - total)  # share of the "still alive at T" branch
    w4 = np.exp(a4 - total)  # share of the "died after the last purchase" branch
    ux, ix = lv.ux, lv.ix
    # Per-x parts, summed with the weights of each x (bincount), then the per-row parts.
    wx = np.bincount(ix, weights=w, minlength=len(ux))
    d_r_x = digamma(r + ux) - digamma(r) + np.log(alpha)
    d_a_x = digamma(a + b) - digamma(a + b + ux + k)
    d_b_x = digamma(a + b) + digamma(b + ux + k) - digamma(b) - digamma(a + b + ux + k)
    log_T = np.log(alpha + lv.uT)[lv.iT]
    log_t = np.log(alpha + lv.ut)[lv.it]
    inv_T = (1 / (alpha + lv.uT))[lv.iT]
    inv_t = (1 / (alpha + lv.ut))[lv.it]
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_b = np.where(w4 > 0, w4 / (b + lv.x + k - 1), 0.0)
    rx = r + lv.x
    d_r = np.dot(wx, d_r_x) - np.dot(w, w3 * log_T + w4 * log_t)
    d_alpha = w.sum() * r / alpha - np.dot(w, rx * (w3 * inv_T + w4 * inv_t))
    d_a = np.dot(wx, d_a_x) + np.dot(w, w4) / a
    d_b = np.dot(wx, d_b_x) - np.dot(w, inv_b)
    return value, np.array([d_r, d_alpha, d_a, d_b])


def gradient(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, w: np.ndarray,
             mbg: bool = False, levels: Levels | None = None) -> np.ndarray:
    return value_and_gradient(theta, w, levels if levels is not None else Levels(x, t_x, T), mbg)[1]


def p_alive(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, mbg: bool = False) -> np.ndarray:
    r, alpha, a, b = theta
    k = _offset(mbg)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_odds_dead = np.log(a) - np.log(b + x + k - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    if not mbg:
        log_odds_dead = np.where(x > 0, log_odds_dead, -np.inf)
    return expit(-log_odds_dead)


def conditional_expected(theta: np.ndarray, t: float | np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray,
                         mbg: bool = False) -> np.ndarray:
    """E[purchases in (T, T+t] | x, t_x, T] (Fader, Hardie & Lee 2005, eq. 10; Batislam et al. 2007)."""
    r, alpha, a, b = theta
    k = _offset(mbg)
    t = np.asarray(t, dtype=float)
    z = t / (alpha + T + t)
    shrink = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
    lead = (a + b + x + k - 1) / (a - 1)
    return lead * (1 - shrink * hyp2f1(r + x, b + x + k, a + b + x + k - 1, z)) * p_alive(theta, x, t_x, T, mbg)


def unconditional_expected(theta: np.ndarray, t: float | np.ndarray, mbg: bool = False) -> np.ndarray:
    """E[X(t)], repeat purchases in (0, t] of a customer just acquired (eq. 9; Batislam et al. 2007)."""
    r, alpha, a, b = theta
    t = np.asarray(t, dtype=float)
    z = t / (alpha + t)
    shrink = (alpha / (alpha + t)) ** r
    if mbg:
        # Survive the coin at time 0 (1 − p), then as BG/NBD: E[(1−p)/p · …] over Beta(a, b) is b/(a−1) times
        # the BG/NBD expectation over Beta(a−1, b+1).
        return b / (a - 1) * (1 - shrink * hyp2f1(r, b + 1, a + b, z))
    return (a + b - 1) / (a - 1) * (1 - shrink * hyp2f1(r, b, a + b - 1, z))
