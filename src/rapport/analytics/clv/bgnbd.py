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


def _terms(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, mbg: bool):
    r, alpha, a, b = theta
    k = _offset(mbg)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x + k) - gammaln(b) - gammaln(a + b + x + k)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.log(a) - np.log(b + x + k - 1) - (r + x) * np.log(alpha + t_x)
    if not mbg:
        a4 = np.where(x > 0, a4, -np.inf)
    return a1, a2, a3, a4


def loglik(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, w: np.ndarray,
           mbg: bool = False) -> float:
    a1, a2, a3, a4 = _terms(theta, x, t_x, T, mbg)
    return float(np.sum(w * (a1 + a2 + np.logaddexp(a3, a4))))


def gradient(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, w: np.ndarray,
             mbg: bool = False) -> np.ndarray:
    r, alpha, a, b = theta
    k = _offset(mbg)
    a1, a2, a3, a4 = _terms(theta, x, t_x, T, mbg)
    total = np.logaddexp(a3, a4)
    w3 = np.exp(a3 - total)  # share of the "still alive at T" branch
    w4 = np.exp(a4 - total)  # share of the "died after the last purchase" branch
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - w3 * np.log(alpha + T) - w4 * np.log(alpha + t_x)
    d_alpha = r / alpha - w3 * (r + x) / (alpha + T) - w4 * (r + x) / (alpha + t_x)
    d_a = digamma(a + b) - digamma(a + b + x + k) + w4 / a
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(w4 > 0, w4 / (b + x + k - 1), 0.0)
    d_b = digamma(a + b) + digamma(b + x + k) - digamma(b) - digamma(a + b + x + k) - inv
    return np.array([np.sum(w * d) for d in (d_r, d_alpha, d_a, d_b)])


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
