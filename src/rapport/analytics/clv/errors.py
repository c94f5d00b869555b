"""The errors of :mod:`rapport.analytics.clv`: all are ``ValueError`` subclasses whose message names the
offending rows or customers (at most five, then a count), so a CLI can print them as they are."""

from __future__ import annotations

from collections.abc import Sequence


class ClvInputError(ValueError):
    """Input that no model can be fitted to or scored on, with the rows that make it so."""


class TransactionsError(ClvInputError):
    """A transactions table with missing columns, unreadable dates or amounts, or dates in the future."""


class SummaryError(ClvInputError):
    """A ``frequency, recency, T[, monetary_value]`` table that is not a valid summary (e.g. recency > T)."""


class NoRepeatPurchasesError(ClvInputError):
    """Nobody bought twice: purchase rates and drop-out cannot be told apart, so no model is fitted."""


def sample(labels: Sequence[object], limit: int = 5) -> str:
    """``'3, 8, 12'`` or ``'3, 8, 12, 15, 21 and 40 more'``."""
    shown = ", ".join(str(v) for v in labels[:limit])
    return shown if len(labels) <= limit else f"{shown} and {len(labels) - limit:,} more"
