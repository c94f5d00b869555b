"""Prices, taxes, discounts and currency conversion: the arithmetic behind every order line.

Reads only; no writes. ``line_amounts`` is pure (no database), so the rounding rules are tested
without one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.db.models import Q

from rapport.commerce.choices import DiscountKind
from rapport.commerce.models import ExchangeRate, PriceBook, PriceBookEntry, Product, TaxRate
from rapport.commerce.money import UNIT_PRICE_PLACES, CurrencyMismatch, quantize
from rapport.core.errors import ValidationFailed

HUNDRED = Decimal(100)


class NoPrice(ValidationFailed):
    slug = "no-price"
    title = "There is no price for this product"


class NoExchangeRate(ValidationFailed):
    slug = "no-exchange-rate"
    title = "There is no exchange rate for this currency and date"


class NoTaxRate(ValidationFailed):
    slug = "no-tax-rate"
    title = "There is no tax rate for this tax category"


def company_currency() -> str:
    return str(settings.RAPPORT_COMPANY_CURRENCY).upper()


# --- discounts and taxes -------------------------------------------------------------------


@dataclass(frozen=True)
class LineAmounts:
    """A line's amounts, each rounded to the currency. ``gross − discount = net``; ``net + tax = total``."""

    gross: Decimal
    discount: Decimal
    net: Decimal
    tax: Decimal
    total: Decimal


def line_amounts(
    *,
    quantity: Decimal,
    unit_price: Decimal,
    discount_kind: str,
    discount_value: Decimal,
    tax_rate: Decimal,
    currency: str,
) -> LineAmounts:
    """Amounts of one line. A percentage discount is of the unrounded gross; an amount discount is
    off the whole line and may not exceed it. The discount shown is the rounded gross minus the
    rounded net, so the printed columns always add up."""
    raw_gross = quantity * unit_price
    if discount_kind == DiscountKind.PERCENT:
        if discount_value > HUNDRED:
            raise ValidationFailed(
                "A percentage discount cannot exceed 100 %.", field_errors={"discount_value": ["At most 100."]}
            )
        raw_net = raw_gross - raw_gross * discount_value / HUNDRED
    elif discount_kind == DiscountKind.AMOUNT:
        if discount_value > raw_gross:
            raise ValidationFailed(
                f"The discount {discount_value} is more than the line's {quantize(raw_gross, currency)}.",
                field_errors={"discount_value": ["More than the line is worth."]},
            )
        raw_net = raw_gross - discount_value
    else:
        raw_net = raw_gross
    try:
        gross = quantize(raw_gross, currency)
        net = quantize(raw_net, currency)
        tax = quantize(net * tax_rate / HUNDRED, currency)
    except InvalidOperation:  # more digits than Decimal's 28-digit context holds
        raise ValidationFailed("The line is too large.", field_errors={"quantity": ["Too large."]}) from None
    return LineAmounts(gross=gross, discount=gross - net, net=net, tax=tax, total=net + tax)


def tax_rate_for(*, category: str, country: str = "") -> Decimal:
    """The rate (%) of ``category`` in ``country``, else its default rate; 0 for untaxed products.

    A product in a category with no rate at all is refused rather than sold tax-free by accident.
    """
    if not category:
        return Decimal(0)
    rows = {
        row.country: row.rate
        for row in TaxRate.objects.filter(Q(country=country.upper()) | Q(country=""), category=category)
    }
    if country.upper() in rows:
        return rows[country.upper()]
    if "" in rows:
        return rows[""]
    raise NoTaxRate(
        f"No tax rate is set for tax category {category!r}" + (f" in {country}." if country else "."),
        field_errors={"tax_category": [f"Add a tax rate for {category!r}."]},
    )


# --- price books ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceQuote:
    """What the lookup found: the unit price and the tier discount, and where they came from.
    ``entry_id`` is ``None`` for a bundle priced as the sum of its components."""

    product_id: int
    currency: str
    unit_price: Decimal
    discount_kind: str
    discount_value: Decimal
    price_book_id: int
    entry_id: int | None
    min_quantity: Decimal


def _books_for(*, currency: str, tier: str, on: dt.date) -> list[PriceBook]:
    """Books usable on ``on`` in ``currency`` for ``tier``: tier-specific first, then general."""
    books = PriceBook.objects.filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=on),
        Q(valid_until__isnull=True) | Q(valid_until__gte=on),
        Q(tier=tier) | Q(tier=""),
        currency=currency,
        active=True,
    )
    return sorted(books, key=lambda book: (book.tier == "", book.pk))


def _entry_in(book: PriceBook, product: Product, quantity: Decimal) -> PriceBookEntry | None:
    return (
        PriceBookEntry.objects.filter(price_book=book, product=product, min_quantity__lte=max(quantity, Decimal(1)))
        .order_by("-min_quantity")
        .first()
    )


def _quote_in(book: PriceBook, product: Product, quantity: Decimal) -> PriceQuote | None:
    entry = _entry_in(book, product, quantity)
    if entry is not None:
        return PriceQuote(
            product_id=product.pk,
            currency=book.currency,
            unit_price=entry.unit_price,
            discount_kind=entry.discount_kind,
            discount_value=entry.discount_value,
            price_book_id=book.pk,
            entry_id=entry.pk,
            min_quantity=entry.min_quantity,
        )
    components = list(product.components.select_related("component"))
    if not components:
        return None
    total = Decimal(0)
    for part in components:
        entry = _entry_in(book, part.component, quantity * part.quantity)
        if entry is None:
            return None
        total += entry.unit_price * part.quantity
    return PriceQuote(
        product_id=product.pk,
        currency=book.currency,
        unit_price=total.quantize(Decimal(1).scaleb(-UNIT_PRICE_PLACES), rounding=ROUND_HALF_UP),
        discount_kind="",
        discount_value=Decimal(0),
        price_book_id=book.pk,
        entry_id=None,
        min_quantity=Decimal(1),
    )


def price_lookup(
    *,
    product: Product,
    currency: str,
    on: dt.date,
    quantity: Decimal = Decimal(1),
    tier: str = "",
    price_book: PriceBook | None = None,
) -> PriceQuote:
    """The price of ``quantity`` units of ``product`` for a customer of ``tier`` on ``on``.

    With ``price_book`` only that book is used, and it must be in ``currency``; otherwise the
    tier's books win over the general ones. A bundle without its own entry costs the sum of its
    components. No price is an error, never zero.
    """
    if price_book is not None:
        if price_book.currency != currency:
            raise CurrencyMismatch(
                f"The price book {price_book.name!r} is in {price_book.currency}, not {currency}.",
                field_errors={"price_book_id": [f"Choose a price book in {currency}."]},
            )
        if not price_book.valid_on(on):
            raise NoPrice(
                f"The price book {price_book.name!r} is not valid on {on.isoformat()}.",
                field_errors={"price_book_id": ["Not active on this date."]},
            )
        books = [price_book]
    else:
        books = _books_for(currency=currency, tier=tier, on=on)
    for book in books:
        quote = _quote_in(book, product, quantity)
        if quote is not None:
            return quote
    raise NoPrice(
        f"No price for {product.sku} in {currency} on {on.isoformat()}.",
        field_errors={"product_id": [f"Not in any active {currency} price book."]},
    )


# --- exchange rates ------------------------------------------------------------------------


def rate_on(*, currency: str, on: dt.date) -> Decimal:
    """Units of company currency per unit of ``currency``: the latest rate on or before ``on``."""
    if currency == company_currency():
        return Decimal(1)
    rate = (
        ExchangeRate.objects.filter(currency=currency, date__lte=on)
        .order_by("-date")
        .values_list("rate", flat=True)
        .first()
    )
    if rate is None:
        raise NoExchangeRate(
            f"No {currency} exchange rate on or before {on.isoformat()}.",
            field_errors={"currency": [f"Add a {currency} rate dated {on.isoformat()} or earlier."]},
        )
    return rate


def convert(*, amount: Decimal, from_currency: str, to_currency: str | None = None, on: dt.date) -> Decimal:
    """``amount`` in ``to_currency`` (default: the company currency), rounded to its minor unit."""
    target = to_currency or company_currency()
    try:
        if from_currency == target:
            return quantize(amount, target)
        in_company = amount * rate_on(currency=from_currency, on=on)
        return quantize(in_company / rate_on(currency=target, on=on), target)
    except InvalidOperation:  # more digits than Decimal's 28-digit context holds
        raise ValidationFailed("The amount is too large to convert.", field_errors={"amount": ["Too large."]}) from None
