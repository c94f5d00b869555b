"""Validation shared by the estimators: finite non-negative durations, 0/1 events of the same length."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from rapport.analytics.survival.errors import SurvivalInputError


def durations_events(durations: ArrayLike, events: ArrayLike | None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(durations as float, events as bool)``; ``events=None`` means every row is observed."""
    t = np.asarray(durations, dtype=float).ravel()
    if t.size == 0:
        raise SurvivalInputError("no durations given")
    if np.isnan(t).any() or np.isinf(t).any():
        raise SurvivalInputError(f"{int((~np.isfinite(t)).sum())} durations are NaN or infinite")
    if (t < 0).any():
        raise SurvivalInputError(f"{int((t < 0).sum())} durations are negative")
    if events is None:
        return t, np.ones(t.size, dtype=bool)
    e = np.asarray(events, dtype=float).ravel()
    if e.size != t.size:
        raise SurvivalInputError(f"{t.size} durations but {e.size} event flags")
    if np.isnan(e).any() or not np.isin(e, (0.0, 1.0)).all():
        raise SurvivalInputError("event flags must be 0/1 or booleans, without NaN")
    return t, e.astype(bool)
