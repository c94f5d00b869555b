"""The errors of :mod:`rapport.analytics.rfm`: ``ValueError`` subclasses with messages a CLI can print."""

from __future__ import annotations


class RfmInputError(ValueError):
    """Transactions, summaries or features that no score, tier or cluster can be computed from."""


class ThresholdError(RfmInputError):
    """Pyramid thresholds that are not ordered, not positive, or whose shares do not leave room for 'lead'."""


class ClusterInputError(RfmInputError):
    """Too few customers, or no feature that varies, for clustering."""
