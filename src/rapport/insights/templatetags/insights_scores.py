"""Display helpers for scores: probabilities as percentages, drivers as plain words."""

from __future__ import annotations

from typing import Any

from django import template

from rapport.insights.alerts import driver_label, reasons

register = template.Library()


@register.filter
def percent(value: Any) -> str:
    """0.734 → '73%'; None → '—'."""
    if value is None:
        return "—"
    return f"{float(value):.0%}"


@register.filter
def risk_reasons(drivers: Any) -> list[str]:
    """The drivers that raise the risk, in words (strongest first)."""
    return [driver_label(name) for name in reasons(list(drivers or []))]


@register.filter(name="driver_label")
def driver_label_filter(name: Any) -> str:
    """A model feature's name in words ('complaints' → 'complaints in the last period')."""
    return driver_label(str(name or ""))
