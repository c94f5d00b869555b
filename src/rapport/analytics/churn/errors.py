"""The errors of :mod:`rapport.analytics.churn`: all are ``ValueError`` subclasses whose message says
what is wrong and, where rows are at fault, names them (at most five, then a count), so a CLI can
print them as they are."""

from __future__ import annotations

from collections.abc import Sequence


class ChurnInputError(ValueError):
    """Input that no churn model can be trained on or scored with."""


class TargetError(ChurnInputError):
    """The target column is missing, has one class, too few rows of a class, or no such ``positive`` value."""


class FeatureError(ChurnInputError):
    """No usable feature column, a column with non-numeric garbage, or a scoring file that lacks columns."""


def sample(labels: Sequence[object], limit: int = 5) -> str:
    """``'3, 8, 12'`` or ``'3, 8, 12, 15, 21 and 40 more'``."""
    shown = ", ".join(str(v) for v in labels[:limit])
    return shown if len(labels) <= limit else f"{shown} and {len(labels) - limit:,} more"
