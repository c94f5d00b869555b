"""Customer pyramid: platinum / gold / iron / lead tiers by lifetime value or profit.

Thresholds are set by an administrator in one of two forms:

* ``cutoffs={"platinum": 10_000, "gold": 2_000, "iron": 200}`` — value at or above the cut-off;
  must be strictly decreasing;
* ``shares={"platinum": 0.01, "gold": 0.04, "iron": 0.15}`` — top share of customers by value;
  each in (0, 1), summing to < 1 so 'lead' is not empty. Ranks break ties by input order, so
  the tier sizes are exact and the result is deterministic.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from rapport.analytics.rfm.errors import RfmInputError, ThresholdError

TIERS = ("platinum", "gold", "iron", "lead")
_UPPER = TIERS[:3]


def _check_keys(d: dict[str, float]) -> list[float]:
    if set(d) != set(_UPPER):
        raise ThresholdError(f"thresholds need exactly the keys {', '.join(_UPPER)}; got {', '.join(sorted(d))}")
    vals = [float(d[k]) for k in _UPPER]
    if any(np.isnan(v) for v in vals):
        raise ThresholdError("thresholds must not be NaN")
    return vals


def customer_pyramid(
    values: ArrayLike, *, cutoffs: dict[str, float] | None = None, shares: dict[str, float] | None = None
) -> np.ndarray:
    """Tier name per customer (same order as ``values``); exactly one of ``cutoffs``/``shares``."""
    if (cutoffs is None) == (shares is None):
        raise ThresholdError("give exactly one of cutoffs or shares")
    v = np.asarray(values, dtype=float).ravel()
    if v.size == 0:
        raise RfmInputError("no customer values given")
    if np.isnan(v).any():
        raise RfmInputError(f"{int(np.isnan(v).sum())} values are NaN")
    tier = np.full(v.size, 3, dtype=np.int8)
    if cutoffs is not None:
        c = _check_keys(cutoffs)
        if not c[0] > c[1] > c[2]:
            raise ThresholdError(f"cut-offs must decrease platinum > gold > iron, got {c}")
        tier = np.where(v >= c[0], 0, np.where(v >= c[1], 1, np.where(v >= c[2], 2, 3)))
    else:
        s = _check_keys(shares)  # type: ignore[arg-type]
        if any(not 0 < x < 1 for x in s) or sum(s) >= 1:
            raise ThresholdError(f"shares must each be in (0, 1) and sum to < 1, got {s}")
        order = np.argsort(-v, kind="stable")
        bounds = np.round(np.cumsum(s) * v.size).astype(int)
        pos = np.empty(v.size, dtype=np.int64)
        pos[order] = np.arange(v.size)
        tier = np.searchsorted(bounds, pos, side="right").astype(np.int8)
    return np.asarray(TIERS, dtype=object)[tier]
