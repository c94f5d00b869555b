"""How often each contact interacts, and when: a BG/NBD-style repeat process.

Per contact (Fader, Hardie & Lee's "buy till you die" story, used here for every touch point):

* while "alive" the contact interacts as a Poisson process with rate ``λ ~ Gamma(r, 1)·c``, so
  a few contacts are very active and most are quiet;
* after each interaction it drops out with probability ``p ~ Beta(a, b)``, so its lifetime is
  ``L ~ Geometric(p)`` interactions; dead contacts go quiet, which is why recency matters.

The global scale ``c`` is solved so the expected total equals the requested number of
interactions; a multinomial draw then gives counts that sum to it *exactly*. A few "hub"
contacts get about a thousand interactions each so a Contact 360 page can be measured at that
depth. Times are uniform over each contact's active span ``[birth, min(now, birth + n/λ)]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DAY = 86400.0
RATE_SHAPE = 0.6  # gamma shape r: below 1 gives the long tail of very active contacts
DROPOUT_A, DROPOUT_B = 1.0, 8.0
HUB_MIN_TOTAL = 5_000  # below this many interactions there are no hubs
HUB_INTERACTIONS = 1_000


@dataclass(frozen=True)
class ActivityPlan:
    counts: np.ndarray  # int64 per contact, sums to the requested total
    start: np.ndarray  # float64 epoch seconds per contact: first possible interaction
    end: np.ndarray  # float64 epoch seconds per contact: last possible interaction
    hubs: np.ndarray  # indexes of the hub contacts


def hub_count(total: int) -> int:
    if total < HUB_MIN_TOTAL:
        return 0
    return int(min(20, max(1, total // 500_000)))


def plan_activity(
    rng: np.random.Generator, *, birth: np.ndarray, now: float, total: int, hub_candidates: np.ndarray
) -> ActivityPlan:
    """Counts and active windows for contacts born at ``birth`` (epoch seconds)."""
    n = birth.shape[0]
    if n == 0 or total == 0:
        return ActivityPlan(np.zeros(n, dtype=np.int64), birth.copy(), birth.copy(), np.zeros(0, dtype=np.int64))
    remaining_days = np.maximum((now - birth) / DAY, 1.0)
    rate = rng.gamma(RATE_SHAPE, 1.0, size=n)
    dropout = rng.beta(DROPOUT_A, DROPOUT_B, size=n)
    lifetime = rng.geometric(dropout).astype(np.float64)

    hubs = np.zeros(0, dtype=np.int64)
    k = min(hub_count(total), hub_candidates.shape[0])
    hub_totals = np.zeros(0, dtype=np.int64)
    if k:
        # The most active candidates become hubs; they stay alive for the whole window.
        hubs = hub_candidates[np.argsort(-rate[hub_candidates], kind="stable")[:k]]
        hub_totals = HUB_INTERACTIONS + rng.integers(0, 200, size=k)
        if hub_totals.sum() > total // 2:
            hub_totals = np.full(k, max(1, total // (2 * k)))
    rest = total - int(hub_totals.sum())

    # Expected count given scale c: min(L, c·g·T). Monotone in c, so bisect for the total.
    if lifetime.sum() < rest:
        lifetime *= rest / lifetime.sum() * 1.5
    mask = np.ones(n, dtype=bool)
    mask[hubs] = False
    lo, hi = 1e-6, 1e6
    for _ in range(80):
        mid = (lo * hi) ** 0.5
        expected = np.minimum(lifetime, mid * rate * remaining_days)[mask].sum()
        if expected < rest:
            lo = mid
        else:
            hi = mid
    scale = hi
    weights = np.where(mask, np.minimum(lifetime, scale * rate * remaining_days), 0.0)
    counts = rng.multinomial(rest, weights / weights.sum()).astype(np.int64)
    counts[hubs] = hub_totals

    per_day = np.maximum(scale * rate, 1e-9)
    span_days = np.minimum(counts / per_day, remaining_days)
    span_days[hubs] = remaining_days[hubs]
    end = np.minimum(birth + span_days * DAY, now)
    return ActivityPlan(counts=counts, start=birth.copy(), end=end, hubs=hubs)
