"""``{{ amount|money:currency }}``: an amount at its currency's minor unit, in the user's locale."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import number_format

from rapport.commerce.money import minor_units, quantize

register = template.Library()


@register.filter
def money(amount: Any, currency: str) -> str:
    if amount is None or amount == "":
        return ""
    value = quantize(Decimal(amount), currency)
    return f"{number_format(value, decimal_pos=minor_units(currency), use_l10n=True, force_grouping=True)} {currency}"


@register.filter
def quantity(value: Any) -> str:
    """A quantity without trailing zeros (``10.000`` → ``10``, ``1.500`` → ``1.5``)."""
    if value is None:
        return ""
    number = Decimal(value).normalize()
    places = max(0, -number.as_tuple().exponent)  # type: ignore[operator]
    return number_format(number, decimal_pos=places, use_l10n=True)


@register.filter
def unit_price(amount: Any, currency: str) -> str:
    """A unit price: the currency's decimals, or more when the price has them (0.0125 EUR)."""
    if amount is None or amount == "":
        return ""
    value = Decimal(amount).normalize()
    places = max(minor_units(currency), -value.as_tuple().exponent)  # type: ignore[operator]
    return f"{number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)} {currency}"
