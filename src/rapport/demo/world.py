"""The state shared by the demo's generation steps: RNGs, pools, users and per-party arrays.

Per-party facts that later steps need (an account's name and owner, a contact's account and
birth time) are kept in numpy arrays or plain lists indexed by position, never as model
instances, so a million contacts cost tens of megabytes, not gigabytes.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import numpy as np

from rapport.demo.people import CountryPool
from rapport.demo.writers import Writer

T = TypeVar("T")
CHUNK = 10_000  # parties per generation chunk: bounds memory, keeps COPY statements large


class Progress(Protocol):
    def phase(self, name: str, total: int) -> Callable[[int], None]: ...


class NoProgress:
    def phase(self, name: str, total: int) -> Callable[[int], None]:
        return lambda n: None


@dataclass(frozen=True)
class DemoUsers:
    """Ids of the demo users and teams; ``sales_owners`` own accounts, ``service_owners`` B2C contacts."""

    by_username: dict[str, int]
    team_of: dict[int, int | None]
    teams: dict[str, int]
    sales_owners: tuple[int, ...]
    sales_owner_weights: tuple[float, ...]
    enterprise_owners: tuple[int, ...]
    service_owners: tuple[int, ...]
    everyone: tuple[int, ...]


@dataclass
class World:
    rng: random.Random
    np_rng: np.random.Generator
    pools: tuple[CountryPool, ...]
    country_weights: list[float]
    now: float  # epoch seconds; every generated time is before it
    users: DemoUsers
    writer: Writer
    progress: Progress
    # accounts, by position (id = account_base + position)
    account_base: int = 0
    account_name: list[str] = field(default_factory=list)
    account_domain: list[str] = field(default_factory=list)
    account_team: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # 0: none
    account_country: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int16))
    account_owner: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    account_created: np.ndarray = field(default_factory=lambda: np.zeros(0))
    account_size: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    account_tier: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    # contacts, by position (id = contact_base + position)
    contact_base: int = 0
    contact_account: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # 0: none
    contact_owner: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    contact_created: np.ndarray = field(default_factory=lambda: np.zeros(0))
    contact_channel: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))  # -1: none

    def pick(self, items: Sequence[T]) -> T:
        return items[int(self.rng.random() * len(items))]

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability


def datetimes(seconds: np.ndarray) -> list[dt.datetime]:
    """Epoch seconds → aware UTC datetimes, whole microseconds (what both databases store)."""
    micro = np.round(seconds * 1e6).astype("int64").astype("datetime64[us]")
    return [value.replace(tzinfo=dt.UTC) for value in micro.tolist()]


def datetime_of(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(round(seconds * 1e6) / 1e6, tz=dt.UTC)


def weighted_index(rng: random.Random, cumulative: Sequence[float]) -> int:
    """Index drawn by cumulative weights (ending at 1.0) with one uniform draw."""
    x = rng.random() * cumulative[-1]
    lo, hi = 0, len(cumulative) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cumulative[mid] > x:
            hi = mid
        else:
            lo = mid + 1
    return lo


def cumulative(weights: Sequence[float]) -> list[float]:
    total = 0.0
    out = []
    for w in weights:
        total += w
        out.append(total)
    return out
