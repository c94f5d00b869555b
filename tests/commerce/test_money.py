"""Rounding, discounts and taxes of one line, without a database."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from rapport.commerce.money import CurrencyMismatch, Money, currency_clean, decimal_clean, quantize
from rapport.commerce.pricing import line_amounts
from rapport.core.errors import ValidationFailed


def test_quantize_follows_the_currency_minor_unit_half_up() -> None:
    assert quantize(D("2.345"), "EUR") == D("2.35")
    assert quantize(D("2.344"), "EUR") == D("2.34")
    assert quantize(D("1234.5"), "JPY") == D("1235")
    assert quantize(D("1.2345"), "KWD") == D("1.235")


def test_percent_discount_and_tax_are_rounded_per_line_and_add_up() -> None:
    # 3 × 3.333 = 9.999; 12.5 % off = 8.749125 → 8.75; tax 21 % of 8.75 = 1.8375 → 1.84
    amounts = line_amounts(
        quantity=D("3"),
        unit_price=D("3.333"),
        discount_kind="percent",
        discount_value=D("12.5"),
        tax_rate=D("21"),
        currency="EUR",
    )
    assert (amounts.gross, amounts.discount, amounts.net, amounts.tax, amounts.total) == (
        D("10.00"),
        D("1.25"),
        D("8.75"),
        D("1.84"),
        D("10.59"),
    )
    assert amounts.gross - amounts.discount == amounts.net


def test_amount_discount_larger_than_the_line_is_refused() -> None:
    with pytest.raises(ValidationFailed) as exc:
        line_amounts(
            quantity=D(1),
            unit_price=D(5),
            discount_kind="amount",
            discount_value=D("5.01"),
            tax_rate=D(0),
            currency="EUR",
        )
    assert "discount_value" in exc.value.field_errors


def test_percent_discount_above_100_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        line_amounts(
            quantity=D(1),
            unit_price=D(5),
            discount_kind="percent",
            discount_value=D("100.5"),
            tax_rate=D(0),
            currency="EUR",
        )


def test_money_refuses_to_add_currencies_and_floats() -> None:
    assert (Money(D("1.10"), "EUR") + Money(D("2.205"), "EUR")).rounded() == Money(D("3.31"), "EUR")
    with pytest.raises(CurrencyMismatch):
        Money(D(1), "EUR") + Money(D(1), "USD")
    with pytest.raises(TypeError):
        Money(1.5, "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [1.5, "abc", "NaN", "-1", "1.23456"])
def test_decimal_clean_refuses_floats_junk_negatives_and_excess_places(value) -> None:
    with pytest.raises(ValidationFailed):
        decimal_clean(value, field="quantity", places=4)


def test_currency_codes_are_iso_4217() -> None:
    assert currency_clean(" eur ") == "EUR"
    with pytest.raises(ValidationFailed):
        currency_clean("EURO")
    with pytest.raises(ValidationFailed):
        currency_clean("XYZ")


def test_unit_prices_show_their_own_decimals_amounts_the_currency_s() -> None:
    from rapport.commerce.templatetags.commerce import money, unit_price

    assert unit_price(D("0.0125"), "EUR") == "0.0125 EUR"
    assert unit_price(D("10.0000"), "EUR") == "10.00 EUR"
    assert unit_price(D("1500"), "JPY") == "1,500 JPY"
    assert money(D("1234.565"), "EUR") == "1,234.57 EUR"
    assert money(D("1.2345"), "KWD") == "1.235 KWD"
