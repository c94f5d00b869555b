"""Writes on the catalogue: products and bundles, tax rates, price books and their entries,
exchange rates. Reference data: the role decides (``core.roles``), there is no row owner."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction

from rapport.commerce.choices import DiscountKind
from rapport.commerce.models import BundleComponent, ExchangeRate, PriceBook, PriceBookEntry, Product, TaxRate
from rapport.commerce.money import QUANTITY_DIGITS, QUANTITY_PLACES, UNIT_PRICE_PLACES, currency_clean, decimal_clean
from rapport.commerce.pricing import company_currency
from rapport.commerce.writes import create, update
from rapport.core.errors import ValidationFailed
from rapport.core.models import User
from rapport.core.permissions import require_model_perm

PRODUCT_FIELDS = ("name", "description", "kind", "unit", "active", "tax_category", "cost_price")
PRICE_BOOK_FIELDS = ("name", "tier", "valid_from", "valid_until", "active")


def _components_clean(bundle: Product | None, components: list[tuple[Product, Any]]) -> list[tuple[Product, Decimal]]:
    out = []
    seen: set[int] = set()
    for index, (component, quantity) in enumerate(components):
        qty = decimal_clean(
            quantity,
            field=f"components.{index}.quantity",
            places=QUANTITY_PLACES,
            positive=True,
            int_digits=QUANTITY_DIGITS,
        )
        if component.pk in seen:
            raise ValidationFailed("A component is listed twice.", field_errors={f"components.{index}": ["Twice."]})
        if bundle is not None and component.pk == bundle.pk:
            raise ValidationFailed("A bundle cannot contain itself.", field_errors={f"components.{index}": ["Itself."]})
        if component.components.exists():
            raise ValidationFailed(
                f"{component.sku} is a bundle; bundles are made of plain products only.",
                field_errors={f"components.{index}": ["Bundles cannot be nested."]},
            )
        seen.add(component.pk)
        out.append((component, qty))
    return out


@transaction.atomic
def product_create(
    *,
    actor: User,
    sku: str,
    name: str,
    components: list[tuple[Product, Any]] = (),
    **fields: Any,  # type: ignore[assignment]
) -> Product:
    """A product; with ``components`` ((product, quantity) pairs) it is a bundle of them."""
    require_model_perm(actor, Product, "add")
    parts = _components_clean(None, list(components))
    sku = (sku or "").strip()
    if Product.objects.filter(sku__iexact=sku).exists():
        raise ValidationFailed(f"SKU {sku!r} is taken.", field_errors={"sku": ["Another product has this SKU."]})
    product = Product(sku=sku, name=(name or "").strip(), **{k: v for k, v in fields.items() if k in PRODUCT_FIELDS})
    components_audit = {"components": [[c.sku, str(q)] for c, q in parts]} if parts else None
    create(product, actor=actor, what="product", extra=components_audit)
    for component, quantity in parts:
        BundleComponent.objects.create(bundle=product, component=component, quantity=quantity)
    return product


@transaction.atomic
def product_update(*, actor: User, product: Product, data: dict[str, Any], expected_version: int | None) -> Product:
    require_model_perm(actor, Product, "change")
    update(product, actor=actor, data=data, fields=PRODUCT_FIELDS, expected_version=expected_version, what="product")
    return product


@transaction.atomic
def tax_rate_set(*, actor: User, category: str, country: str = "", rate: Any, name: str = "") -> TaxRate:
    """Create or change the rate of a category (in a country, or by default)."""
    value = decimal_clean(rate, field="rate", places=3)
    if value > 100:
        raise ValidationFailed("A tax rate is a percentage up to 100.", field_errors={"rate": ["At most 100."]})
    country = (country or "").strip().upper()
    existing = TaxRate.objects.select_for_update().filter(category=category, country=country).first()
    if existing is None:
        require_model_perm(actor, TaxRate, "add")
        return create(  # type: ignore[return-value]
            TaxRate(category=category, country=country, rate=value, name=name), actor=actor, what="tax rate"
        )
    require_model_perm(actor, TaxRate, "change")
    update(
        existing,
        actor=actor,
        data={"rate": value, **({"name": name} if name else {})},
        fields=("rate", "name"),
        expected_version=None,
        what="tax rate",
    )
    return existing


@transaction.atomic
def price_book_create(*, actor: User, name: str, currency: str, **fields: Any) -> PriceBook:
    require_model_perm(actor, PriceBook, "add")
    book = PriceBook(
        name=(name or "").strip(),
        currency=currency_clean(currency),
        **{k: v for k, v in fields.items() if k in PRICE_BOOK_FIELDS},
    )
    return create(book, actor=actor, what="price book")  # type: ignore[return-value]


@transaction.atomic
def price_book_update(
    *, actor: User, price_book: PriceBook, data: dict[str, Any], expected_version: int | None
) -> PriceBook:
    """Change a book's name, tier, dates or state. Its currency never changes: the prices in it
    are amounts in that currency."""
    require_model_perm(actor, PriceBook, "change")
    update(
        price_book,
        actor=actor,
        data=data,
        fields=PRICE_BOOK_FIELDS,
        expected_version=expected_version,
        what="price book",
    )
    return price_book


@transaction.atomic
def price_book_entry_set(
    *,
    actor: User,
    price_book: PriceBook,
    product: Product,
    unit_price: Any,
    min_quantity: Any = 1,
    discount_kind: str = "",
    discount_value: Any = 0,
) -> PriceBookEntry:
    """Set the price of ``product`` from ``min_quantity`` up in ``price_book`` (create or replace)."""
    price = decimal_clean(unit_price, field="unit_price", places=UNIT_PRICE_PLACES)
    min_qty = decimal_clean(
        min_quantity, field="min_quantity", places=QUANTITY_PLACES, positive=True, int_digits=QUANTITY_DIGITS
    )
    discount = decimal_clean(discount_value, field="discount_value", places=UNIT_PRICE_PLACES)
    if discount_kind not in DiscountKind.values:
        raise ValidationFailed("Unknown discount kind.", field_errors={"discount_kind": ["percent, amount or empty."]})
    if discount_kind == DiscountKind.PERCENT and discount > 100:
        raise ValidationFailed(
            "A percentage discount is at most 100.", field_errors={"discount_value": ["At most 100."]}
        )
    if not discount_kind:
        discount = Decimal(0)
    entry = (
        PriceBookEntry.objects.select_for_update()
        .filter(price_book=price_book, product=product, min_quantity=min_qty)
        .first()
    )
    values = {"unit_price": price, "discount_kind": discount_kind, "discount_value": discount}
    if entry is None:
        require_model_perm(actor, PriceBookEntry, "add")
        entry = PriceBookEntry(price_book=price_book, product=product, min_quantity=min_qty, **values)
        create(entry, actor=actor, what="price")
        return entry
    require_model_perm(actor, PriceBookEntry, "change")
    update(entry, actor=actor, data=values, fields=tuple(values), expected_version=None, what="price")
    return entry


@transaction.atomic
def exchange_rate_set(*, actor: User, currency: str, date: dt.date, rate: Any) -> ExchangeRate:
    """Record that on ``date`` one ``currency`` was worth ``rate`` company-currency units."""
    code = currency_clean(currency)
    if code == company_currency():
        raise ValidationFailed(
            f"{code} is the company currency; its rate is always 1.",
            field_errors={"currency": ["The company currency needs no rate."]},
        )
    value = decimal_clean(rate, field="rate", places=10, positive=True, int_digits=14)
    existing = ExchangeRate.objects.select_for_update().filter(currency=code, date=date).first()
    if existing is None:
        require_model_perm(actor, ExchangeRate, "add")
        return create(ExchangeRate(currency=code, date=date, rate=value), actor=actor, what="exchange rate")  # type: ignore[return-value]
    require_model_perm(actor, ExchangeRate, "change")
    update(existing, actor=actor, data={"rate": value}, fields=("rate",), expected_version=None, what="exchange rate")
    return existing
