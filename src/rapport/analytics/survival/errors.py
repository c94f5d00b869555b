"""The errors of :mod:`rapport.analytics.survival`: ``ValueError`` subclasses with messages a CLI can print."""

from __future__ import annotations


class SurvivalInputError(ValueError):
    """Durations, events or groups that no estimate or test can be computed from."""


class OneGroupError(SurvivalInputError):
    """A log-rank test was asked for with fewer than two groups: there is nothing to compare."""
