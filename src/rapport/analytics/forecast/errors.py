"""Errors of the forecasting functions: ValueError subclasses, each saying what to change."""

from __future__ import annotations


class ForecastInputError(ValueError):
    """The series cannot be modelled as given (too short, NaN, non-positive for multiplicative...)."""
