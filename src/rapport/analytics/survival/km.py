"""Kaplan–Meier product-limit estimator with Greenwood variance and log(-log) confidence intervals.

Invariants: ``timeline`` is the sorted distinct durations (with 0 prepended, survival 1 there);
``survival`` is non-increasing in [0, 1]; intervals use the exponential Greenwood (log-log) form,
the same as ``lifelines``' ``KaplanMeierFitter`` so the two agree to rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from rapport.analytics.survival._input import durations_events
from rapport.analytics.survival.errors import SurvivalInputError


@dataclass(frozen=True)
class KaplanMeier:
    """Survival curve at each distinct duration; ``at_risk``/``events`` are counts just before/at it."""

    timeline: np.ndarray
    survival: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    alpha: float

    @property
    def median(self) -> float:
        """Smallest time with survival ≤ 0.5 (``inf`` if the curve never gets there), as lifelines does."""
        hit = np.nonzero(self.survival <= 0.5)[0]
        return float(self.timeline[hit[0]]) if hit.size else float("inf")

    def at(self, times: ArrayLike) -> np.ndarray:
        """Survival at arbitrary times (right-continuous step function)."""
        idx = np.searchsorted(self.timeline, np.asarray(times, dtype=float), side="right") - 1
        return self.survival[np.clip(idx, 0, None)]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "survival": self.survival,
                "lower": self.lower,
                "upper": self.upper,
                "at_risk": self.at_risk,
                "events": self.events,
            },
            index=pd.Index(self.timeline, name="time"),
        )


def event_table(t: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct times (with 0), number at risk and number of events at each — O(n log n)."""
    times, inverse = np.unique(t, return_inverse=True)
    removed = np.bincount(inverse, minlength=times.size)
    died = np.bincount(inverse, weights=e, minlength=times.size)
    at_risk = t.size - np.concatenate(([0], np.cumsum(removed)[:-1]))
    if times[0] != 0:
        times = np.concatenate(([0.0], times))
        at_risk = np.concatenate(([t.size], at_risk))
        died = np.concatenate(([0.0], died))
    return times, at_risk.astype(float), died


def kaplan_meier(durations: ArrayLike, events: ArrayLike | None = None, *, alpha: float = 0.05) -> KaplanMeier:
    """Estimate the survival function; ``events[i]`` is 1 if defection was observed, 0 if censored."""
    if not 0 < alpha < 1:
        raise SurvivalInputError(f"alpha must be in (0, 1), got {alpha}")
    t, e = durations_events(durations, events)
    times, n, d = event_table(t, e)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.cumprod(1.0 - d / n)
        # Greenwood: Var(log S) = sum d / (n (n - d)); log-log transform keeps the band inside [0, 1].
        gw = np.cumsum(np.where(d > 0, d / (n * (n - d)), 0.0))
        z = stats.norm.ppf(1 - alpha / 2)
        v = np.log(-np.log(s))
        half = z * np.sqrt(gw) / np.log(s)
        lower = np.exp(-np.exp(v - half))
        upper = np.exp(-np.exp(v + half))
    lower = np.where(np.isfinite(lower), lower, np.where(s >= 1, 1.0, 0.0))
    upper = np.where(np.isfinite(upper), upper, np.where(s >= 1, 1.0, 0.0))
    return KaplanMeier(times, s, lower, upper, n, d, alpha)


def kaplan_meier_by_group(
    durations: ArrayLike, events: ArrayLike | None, groups: ArrayLike, *, alpha: float = 0.05
) -> dict[object, KaplanMeier]:
    """One curve per segment, keyed by group label in sorted order."""
    t, e = durations_events(durations, events)
    g = pd.Series(np.asarray(groups).ravel())
    if g.size != t.size:
        raise SurvivalInputError(f"{t.size} durations but {g.size} group labels")
    if g.isna().any():
        raise SurvivalInputError(f"{int(g.isna().sum())} group labels are missing")
    codes, labels = pd.factorize(g, sort=True)
    return {label: kaplan_meier(t[codes == i], e[codes == i], alpha=alpha) for i, label in enumerate(labels)}
