"""REST API of commerce: catalogue, prices, exchange rates, orders, shipments, invoices, payments,
subscriptions and recurring revenue. Reads go through ``selectors`` (narrowed to what the caller
may see), writes through the services; errors are problem+json (``core.api_support``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Status

from rapport.commerce import selectors, services, services_catalogue
from rapport.commerce.models import Invoice, Order, Product, Shipment, Subscription
from rapport.commerce.money import (
    QUANTITY_DIGITS,
    QUANTITY_PLACES,
    UNIT_PRICE_PLACES,
    currency_clean,
    decimal_clean,
    quantize,
)
from rapport.commerce.pricing import company_currency, convert, price_lookup
from rapport.commerce.schemas import (
    ConversionOut,
    ExchangeRateIn,
    ExchangeRateOut,
    ExchangeRatePage,
    InvoiceIn,
    InvoiceOut,
    InvoicePage,
    OrderIn,
    OrderOut,
    OrderPage,
    OrderPatchIn,
    PaymentIn,
    PaymentOut,
    PaymentPage,
    PriceBookDetailOut,
    PriceBookIn,
    PriceBookPage,
    PriceBookPatchIn,
    PriceEntryIn,
    PriceEntryOut,
    PriceOut,
    ProductIn,
    ProductOut,
    ProductPage,
    ProductPatchIn,
    RecurringRevenueList,
    ShipmentIn,
    ShipmentOut,
    ShipmentPage,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPage,
    SubscriptionPatchIn,
    TaxRateIn,
    TaxRateOut,
    TaxRatePage,
    VersionIn,
)
from rapport.core.api_support import etag_set, expected_version, patch_data
from rapport.core.errors import ValidationFailed
from rapport.core.pagination import page_out
from rapport.core.schemas import Id, Limit
from rapport.parties import selectors as party_selectors

router = Router(tags=["commerce"])
_Cursor = Query(None, max_length=1000)


def _money(value: Decimal, currency: str) -> Decimal:
    """Amounts go out at the currency's minor unit, whatever the database hands back (SQLite keeps
    the scale a value was written with, PostgreSQL the column's)."""
    return quantize(value, currency)


def _fixed(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places))


def _products_by_id(actor: Any, ids: list[int], field: str) -> dict[int, Product]:
    found = selectors.product_list(actor=actor).in_bulk(ids)
    missing = [index for index, pk in enumerate(ids) if pk not in found]
    if missing:
        raise ValidationFailed(
            "Some products do not exist.",
            field_errors={field.format(index=index): ["No such product."] for index in missing},
        )
    return found


# --- catalogue -----------------------------------------------------------------------------


def product_out(product: Product) -> dict[str, Any]:
    return {
        **{f: getattr(product, f) for f in ("id", "sku", "name", "description", "kind", "unit", "active", "version")},
        "tax_category": product.tax_category,
        "components": [
            {"product_id": c.component_id, "sku": c.component.sku, "quantity": _fixed(c.quantity, QUANTITY_PLACES)}
            for c in product.components.select_related("component")
        ],
    }


@router.get("/products", response=ProductPage)
def products_list(
    request: HttpRequest,
    q: str = Query("", max_length=100),
    kind: str = Query("", max_length=12),
    active: bool | None = None,
    cursor: str | None = _Cursor,
    limit: Limit = 50,
) -> dict[str, Any]:
    """Products by name; `q` matches name or SKU."""
    qs = selectors.product_list(actor=request.user, q=q, kind=kind, active=active)
    return page_out(qs, ["name"], cursor, limit, product_out)


@router.post("/products", response={201: ProductOut})
def products_create(request: HttpRequest, payload: ProductIn) -> Status:
    data = payload.dict(exclude={"components"})
    ids = [c.product_id for c in payload.components]
    found = _products_by_id(request.user, ids, "components.{index}.product_id")
    components = [(found[c.product_id], c.quantity) for c in payload.components]
    product = services_catalogue.product_create(actor=request.user, components=components, **data)
    return Status(201, product_out(product))


@router.get("/products/{product_id}", response=ProductOut)
def products_get(request: HttpRequest, product_id: Id, response: HttpResponse) -> dict[str, Any]:
    product = selectors.product_get(actor=request.user, product_id=product_id)
    etag_set(response, product)
    return product_out(product)


@router.patch("/products/{product_id}", response=ProductOut)
def products_update(request: HttpRequest, product_id: Id, payload: ProductPatchIn) -> dict[str, Any]:
    product = selectors.product_get(actor=request.user, product_id=product_id)
    version = expected_version(request, product, payload.version)
    product = services_catalogue.product_update(
        actor=request.user, product=product, data=patch_data(payload), expected_version=version
    )
    return product_out(product)


@router.get("/tax-rates", response=TaxRatePage)
def tax_rates_list(request: HttpRequest, cursor: str | None = _Cursor, limit: Limit = 100) -> dict[str, Any]:
    return page_out(selectors.tax_rate_list(actor=request.user), ["category", "country"], cursor, limit, tax_rate_out)


def tax_rate_out(rate: Any) -> dict[str, Any]:
    return {**{f: getattr(rate, f) for f in ("id", "category", "country", "name")}, "rate": _fixed(rate.rate, 3)}


@router.post("/tax-rates", response={200: TaxRateOut})
def tax_rates_set(request: HttpRequest, payload: TaxRateIn) -> Any:
    """Create or replace the rate of a tax category (in a country, or by default)."""
    return tax_rate_out(services_catalogue.tax_rate_set(actor=request.user, **payload.dict()))


def entry_out(entry: Any) -> dict[str, Any]:
    return {
        "id": entry.id,
        "product_id": entry.product_id,
        "min_quantity": _fixed(entry.min_quantity, QUANTITY_PLACES),
        "unit_price": _fixed(entry.unit_price, UNIT_PRICE_PLACES),
        "discount_kind": entry.discount_kind,
        "discount_value": _fixed(entry.discount_value, UNIT_PRICE_PLACES),
    }


def price_book_out(book: Any, entries: bool = False) -> dict[str, Any]:
    out = {
        f: getattr(book, f)
        for f in ("id", "name", "currency", "tier", "valid_from", "valid_until", "active", "version")
    }
    if entries:
        out["entries"] = [entry_out(e) for e in book.entries.order_by("product_id", "min_quantity")]
    return out


@router.get("/price-books", response=PriceBookPage)
def price_books_list(
    request: HttpRequest,
    currency: str = Query("", max_length=3),
    active: bool | None = None,
    cursor: str | None = _Cursor,
    limit: Limit = 50,
) -> dict[str, Any]:
    qs = selectors.price_book_list(actor=request.user, currency=currency, active=active)
    return page_out(qs, ["name"], cursor, limit, price_book_out)


@router.post("/price-books", response={201: PriceBookDetailOut})
def price_books_create(request: HttpRequest, payload: PriceBookIn) -> Status:
    book = services_catalogue.price_book_create(actor=request.user, **payload.dict())
    return Status(201, price_book_out(book, entries=True))


@router.get("/price-books/{price_book_id}", response=PriceBookDetailOut)
def price_books_get(request: HttpRequest, price_book_id: Id, response: HttpResponse) -> dict[str, Any]:
    book = selectors.price_book_get(actor=request.user, price_book_id=price_book_id)
    etag_set(response, book)
    return price_book_out(book, entries=True)


@router.patch("/price-books/{price_book_id}", response=PriceBookDetailOut)
def price_books_update(request: HttpRequest, price_book_id: Id, payload: PriceBookPatchIn) -> dict[str, Any]:
    book = selectors.price_book_get(actor=request.user, price_book_id=price_book_id)
    version = expected_version(request, book, payload.version)
    book = services_catalogue.price_book_update(
        actor=request.user, price_book=book, data=patch_data(payload), expected_version=version
    )
    return price_book_out(book, entries=True)


@router.post("/price-books/{price_book_id}/entries", response={200: PriceEntryOut})
def price_book_entries_set(request: HttpRequest, price_book_id: Id, payload: PriceEntryIn) -> Any:
    """Create or replace the price of a product from `min_quantity` up."""
    book = selectors.price_book_get(actor=request.user, price_book_id=price_book_id)
    product = _products_by_id(request.user, [payload.product_id], "product_id")[payload.product_id]
    entry = services_catalogue.price_book_entry_set(
        actor=request.user, price_book=book, product=product, **payload.dict(exclude={"product_id"})
    )
    return entry_out(entry)


@router.get("/prices", response=PriceOut)
def prices_lookup(
    request: HttpRequest,
    product_id: Id,
    currency: str = Query(..., max_length=3),
    quantity: str = Query("1", max_length=30),
    date: dt.date | None = None,
    account_id: Id | None = None,
    tier: str = Query("", max_length=10),
    price_book_id: Id | None = None,
) -> Any:
    """The price of a product for an account (or a customer tier) in a currency on a day."""
    product = selectors.product_get(actor=request.user, product_id=product_id)
    if account_id:
        tier = party_selectors.account_get(actor=request.user, account_id=account_id).tier
    book = selectors.price_book_get(actor=request.user, price_book_id=price_book_id) if price_book_id else None
    quote = price_lookup(
        product=product,
        currency=currency_clean(currency),
        on=date or timezone.localdate(),
        quantity=decimal_clean(quantity, field="quantity", positive=True, int_digits=QUANTITY_DIGITS),
        tier=tier,
        price_book=book,
    )
    return {
        **quote.__dict__,
        "unit_price": _fixed(quote.unit_price, UNIT_PRICE_PLACES),
        "discount_value": _fixed(quote.discount_value, UNIT_PRICE_PLACES),
        "min_quantity": _fixed(quote.min_quantity, QUANTITY_PLACES),
    }


@router.get("/exchange-rates", response=ExchangeRatePage)
def exchange_rates_list(
    request: HttpRequest,
    currency: str = Query("", max_length=3),
    cursor: str | None = _Cursor,
    limit: Limit = 100,
) -> dict[str, Any]:
    """Rates to the company currency, newest first."""
    qs = selectors.exchange_rate_list(actor=request.user, currency=currency)
    return page_out(qs, ["-date"], cursor, limit, rate_out)


def rate_out(rate: Any) -> dict[str, Any]:
    return {"id": rate.id, "currency": rate.currency, "date": rate.date, "rate": _fixed(rate.rate, 10)}


@router.post("/exchange-rates", response={200: ExchangeRateOut})
def exchange_rates_set(request: HttpRequest, payload: ExchangeRateIn) -> Any:
    """Create or replace the rate of a currency on a day (units of company currency per unit)."""
    return rate_out(services_catalogue.exchange_rate_set(actor=request.user, **payload.dict()))


@router.get("/exchange-rates/convert", response=ConversionOut)
def exchange_rates_convert(
    request: HttpRequest,
    amount: str = Query(..., max_length=30),
    currency: str = Query(..., max_length=3),
    to: str = Query("", max_length=3),
    date: dt.date | None = None,
) -> dict[str, Any]:
    """Convert with the latest rates on or before `date` (default today); `to` defaults to the company currency."""
    selectors.exchange_rate_list(actor=request.user)  # the permission check
    day = date or timezone.localdate()
    source = currency_clean(currency)
    target = currency_clean(to, field="to") if to else company_currency()
    value = decimal_clean(amount, field="amount")
    converted = convert(amount=value, from_currency=source, to_currency=target, on=day)
    return {"amount": value, "currency": source, "converted": converted, "to_currency": target, "date": day}


# --- orders --------------------------------------------------------------------------------

_ORDER_ITEM_FIELDS = (
    "id", "number", "account_id", "contact_id", "owner_id", "team_id", "currency", "order_date", "status",
    "fulfilment_status", "total", "invoiced_total", "source_reference", "version",
)  # fmt: skip
_ORDER_FIELDS = (
    "price_book_id",
    "tax_country",
    "payment_terms_days",
    "notes",
    "subtotal",
    "discount_total",
    "tax_total",
)
_LINE_FIELDS = (
    "id", "position", "product_id", "description", "quantity", "unit_price", "discount_kind", "discount_value",
    "discount_amount", "tax_rate", "net", "tax", "total", "shipped", "invoiced",
)  # fmt: skip


_ORDER_AMOUNTS = ("subtotal", "discount_total", "tax_total", "total", "invoiced_total")
_LINE_AMOUNTS = ("discount_amount", "net", "tax", "total")
_LINE_QUANTITIES = ("quantity", "shipped", "invoiced")


def _with_amounts(out: dict[str, Any], currency: str, amounts: tuple[str, ...]) -> dict[str, Any]:
    for name in amounts:
        if name in out:
            out[name] = _money(out[name], currency)
    return out


def order_list_item(order: Order) -> dict[str, Any]:
    return _with_amounts({f: getattr(order, f) for f in _ORDER_ITEM_FIELDS}, order.currency, _ORDER_AMOUNTS)


def _line_out(line: Any, currency: str) -> dict[str, Any]:
    out = _with_amounts({f: getattr(line, f) for f in _LINE_FIELDS}, currency, _LINE_AMOUNTS)
    for name in _LINE_QUANTITIES:
        out[name] = _fixed(out[name], QUANTITY_PLACES)
    out["unit_price"] = _fixed(line.unit_price, UNIT_PRICE_PLACES)
    out["discount_value"] = _fixed(line.discount_value, UNIT_PRICE_PLACES)
    out["tax_rate"] = _fixed(line.tax_rate, 3)
    out["sku"] = line.product.sku
    return out


def order_out(order: Order) -> dict[str, Any]:
    out = {**order_list_item(order), **{f: getattr(order, f) for f in _ORDER_FIELDS}}
    _with_amounts(out, order.currency, _ORDER_AMOUNTS)
    out["lines"] = [_line_out(line, order.currency) for line in selectors.order_lines(order)]
    return out


@router.get("/orders", response=OrderPage)
def orders_list(
    request: HttpRequest,
    account_id: Id | None = None,
    owner_id: Id | None = None,
    status: str = Query("", max_length=10),
    fulfilment_status: str = Query("", max_length=12),
    q: str = Query("", max_length=100),
    cursor: str | None = _Cursor,
    limit: Limit = 50,
) -> dict[str, Any]:
    """Orders you may see, newest first; `q` matches the number or the source reference."""
    filters = selectors.OrderFilters(
        account_id=account_id, owner_id=owner_id, status=status, fulfilment_status=fulfilment_status, q=q
    )
    qs = selectors.order_list(actor=request.user, filters=filters)
    return page_out(qs, ["-order_date"], cursor, limit, order_list_item)


@router.post("/orders", response={201: OrderOut})
def orders_create(request: HttpRequest, payload: OrderIn, response: HttpResponse) -> Status:
    """Place an order. Lines without `unit_price` take the price book's price and tier discount."""
    actor = request.user
    account = party_selectors.account_get(actor=actor, account_id=payload.account_id)
    contact = party_selectors.contact_get(actor=actor, contact_id=payload.contact_id) if payload.contact_id else None
    book = selectors.price_book_get(actor=actor, price_book_id=payload.price_book_id) if payload.price_book_id else None
    products = _products_by_id(actor, [line.product_id for line in payload.lines], "lines.{index}.product_id")
    lines = [
        services.LineSpec(product=products[line.product_id], **line.dict(exclude={"product_id"}))
        for line in payload.lines
    ]
    order = services.order_create_from_lines(
        actor=actor,
        account=account,
        contact=contact,
        price_book=book,
        lines=lines,
        **payload.dict(exclude={"account_id", "contact_id", "price_book_id", "lines"}),
    )
    etag_set(response, order)
    return Status(201, order_out(order))


@router.get("/orders/{order_id}", response=OrderOut)
def orders_get(request: HttpRequest, order_id: Id, response: HttpResponse) -> dict[str, Any]:
    order = selectors.order_get(actor=request.user, order_id=order_id)
    etag_set(response, order)
    return order_out(order)


@router.patch("/orders/{order_id}", response=OrderOut)
def orders_update(request: HttpRequest, order_id: Id, payload: OrderPatchIn, response: HttpResponse) -> dict:
    """Change the contact, notes or payment terms of an order (its lines are fixed)."""
    order = selectors.order_get(actor=request.user, order_id=order_id)
    version = expected_version(request, order, payload.version)
    data = patch_data(payload)
    if "contact_id" in data:
        contact_id = data.pop("contact_id")
        data["contact"] = party_selectors.contact_get(actor=request.user, contact_id=contact_id) if contact_id else None
    order = services.order_update(actor=request.user, order=order, data=data, expected_version=version)
    etag_set(response, order)
    return order_out(order)


@router.post("/orders/{order_id}/cancel", response=OrderOut)
def orders_cancel(request: HttpRequest, order_id: Id, payload: VersionIn) -> dict:
    order = selectors.order_get(actor=request.user, order_id=order_id)
    version = expected_version(request, order, payload.version)
    return order_out(services.order_cancel(actor=request.user, order=order, expected_version=version))


def shipment_out(shipment: Shipment) -> dict[str, Any]:
    return {
        **{f: getattr(shipment, f) for f in ("id", "order_id", "carrier", "tracking_number", "shipped_at")},
        "lines": [
            {"order_line_id": line_id, "quantity": _fixed(quantity, QUANTITY_PLACES)}
            for line_id, quantity in shipment.lines.values_list("order_line_id", "quantity")
        ],
    }


@router.get("/orders/{order_id}/shipments", response=ShipmentPage)
def order_shipments_list(
    request: HttpRequest, order_id: Id, cursor: str | None = _Cursor, limit: Limit = 50
) -> dict[str, Any]:
    order = selectors.order_get(actor=request.user, order_id=order_id)
    shipments = selectors.shipment_list(actor=request.user, order=order)
    return page_out(shipments, ["shipped_at"], cursor, limit, shipment_out)


@router.post("/orders/{order_id}/shipments", response={201: ShipmentOut})
def order_shipments_create(request: HttpRequest, order_id: Id, payload: ShipmentIn) -> Status:
    """Ship goods of the order; more than is left to ship is refused (`/problems/over-shipment`)."""
    order = selectors.order_get(actor=request.user, order_id=order_id)
    shipment = services.shipment_create(
        actor=request.user,
        order=order,
        lines=[(pick.order_line_id, pick.quantity) for pick in payload.lines],
        **payload.dict(exclude={"lines"}),
    )
    return Status(201, shipment_out(shipment))


@router.get("/shipments/{shipment_id}", response=ShipmentOut)
def shipments_get(request: HttpRequest, shipment_id: Id) -> dict[str, Any]:
    return shipment_out(selectors.shipment_get(actor=request.user, shipment_id=shipment_id))


# --- invoices and payments -----------------------------------------------------------------

_INVOICE_FIELDS = (
    "id", "number", "order_id", "currency", "issue_date", "due_date", "subtotal", "tax_total", "total",
    "amount_paid", "outstanding", "payment_status", "version",
)  # fmt: skip


def invoice_list_item(invoice: Invoice) -> dict[str, Any]:
    out = {
        **{f: getattr(invoice, f) for f in _INVOICE_FIELDS},
        "account_id": invoice.order.account_id,
        "overdue": invoice.is_overdue,
    }
    return _with_amounts(out, invoice.currency, ("subtotal", "tax_total", "total", "amount_paid", "outstanding"))


def invoice_out(invoice: Invoice) -> dict[str, Any]:
    lines = [
        {
            **_with_amounts(row, invoice.currency, ("net", "tax", "total")),
            "quantity": _fixed(row["quantity"], QUANTITY_PLACES),
        }
        for row in invoice.lines.values("order_line_id", "quantity", "net", "tax", "total").order_by("id")
    ]
    return {**invoice_list_item(invoice), "lines": lines}


@router.get("/invoices", response=InvoicePage)
def invoices_list(
    request: HttpRequest,
    order_id: Id | None = None,
    account_id: Id | None = None,
    payment_status: str = Query("", max_length=8),
    overdue: bool | None = None,
    cursor: str | None = _Cursor,
    limit: Limit = 50,
) -> dict[str, Any]:
    """Invoices you may see (those of orders you may see), newest first; `overdue=true` lists the
    unpaid ones past their due date."""
    filters = selectors.InvoiceFilters(
        order_id=order_id, account_id=account_id, payment_status=payment_status, overdue=overdue
    )
    qs = selectors.invoice_list(actor=request.user, filters=filters).select_related("order")
    return page_out(qs, ["-issue_date"], cursor, limit, invoice_list_item)


@router.post("/orders/{order_id}/invoices", response={201: InvoiceOut})
def order_invoices_create(request: HttpRequest, order_id: Id, payload: InvoiceIn) -> Status:
    """Invoice part of an order (`lines`) or all that is left; more than ordered is refused
    (`/problems/over-invoicing`)."""
    order = selectors.order_get(actor=request.user, order_id=order_id)
    picks = None if payload.lines is None else [(p.order_line_id, p.quantity) for p in payload.lines]
    invoice = services.invoice_create(actor=request.user, order=order, lines=picks, issue_date=payload.issue_date)
    return Status(201, invoice_out(invoice))


@router.get("/invoices/{invoice_id}", response=InvoiceOut)
def invoices_get(request: HttpRequest, invoice_id: Id, response: HttpResponse) -> dict[str, Any]:
    invoice = selectors.invoice_get(actor=request.user, invoice_id=invoice_id)
    etag_set(response, invoice)
    return invoice_out(invoice)


@router.get("/invoices/{invoice_id}/payments", response=PaymentPage)
def invoice_payments_list(
    request: HttpRequest, invoice_id: Id, cursor: str | None = _Cursor, limit: Limit = 50
) -> dict[str, Any]:
    invoice = selectors.invoice_get(actor=request.user, invoice_id=invoice_id)
    payments = selectors.payment_list(actor=request.user, invoice=invoice)
    return page_out(payments, ["paid_on"], cursor, limit, payment_out)


@router.post("/invoices/{invoice_id}/payments", response={201: PaymentOut})
def invoice_payments_create(request: HttpRequest, invoice_id: Id, payload: PaymentIn) -> Status:
    """Record a payment in the invoice's currency, at most the outstanding amount."""
    invoice = selectors.invoice_get(actor=request.user, invoice_id=invoice_id)
    payment = services.payment_record(actor=request.user, invoice=invoice, **payload.dict())
    return Status(201, payment_out(payment))


def payment_out(payment: Any) -> dict[str, Any]:
    out = {f: getattr(payment, f) for f in ("id", "invoice_id", "amount", "currency", "paid_on", "method", "reference")}
    return _with_amounts(out, payment.currency, ("amount",))


# --- subscriptions -------------------------------------------------------------------------

_SUBSCRIPTION_FIELDS = (
    "id", "account_id", "product_id", "order_id", "owner_id", "team_id", "amount", "currency", "billing_period",
    "start_date", "end_date", "renewal_date", "status", "cancelled_on", "cancellation_reason",
    "cancellation_comment", "version",
)  # fmt: skip


def subscription_out(subscription: Subscription) -> dict[str, Any]:
    out = {f: getattr(subscription, f) for f in _SUBSCRIPTION_FIELDS}
    return _with_amounts(out, subscription.currency, ("amount",))


@router.get("/subscriptions", response=SubscriptionPage)
def subscriptions_list(
    request: HttpRequest,
    account_id: Id | None = None,
    status: str = Query("", max_length=10),
    cursor: str | None = _Cursor,
    limit: Limit = 50,
) -> dict[str, Any]:
    qs = selectors.subscription_list(actor=request.user, account_id=account_id, status=status)
    return page_out(qs, ["-start_date"], cursor, limit, subscription_out)


@router.post("/subscriptions", response={201: SubscriptionOut})
def subscriptions_create(request: HttpRequest, payload: SubscriptionIn) -> Status:
    actor = request.user
    account = party_selectors.account_get(actor=actor, account_id=payload.account_id)
    product = selectors.product_get(actor=actor, product_id=payload.product_id)
    order = selectors.order_get(actor=actor, order_id=payload.order_id) if payload.order_id else None
    subscription = services.subscription_create(
        actor=actor,
        account=account,
        product=product,
        order=order,
        **payload.dict(exclude={"account_id", "product_id", "order_id"}),
    )
    return Status(201, subscription_out(subscription))


@router.get("/subscriptions/{subscription_id}", response=SubscriptionOut)
def subscriptions_get(request: HttpRequest, subscription_id: Id, response: HttpResponse) -> dict[str, Any]:
    subscription = selectors.subscription_get(actor=request.user, subscription_id=subscription_id)
    etag_set(response, subscription)
    return subscription_out(subscription)


@router.patch("/subscriptions/{subscription_id}", response=SubscriptionOut)
def subscriptions_update(request: HttpRequest, subscription_id: Id, payload: SubscriptionPatchIn) -> dict[str, Any]:
    subscription = selectors.subscription_get(actor=request.user, subscription_id=subscription_id)
    version = expected_version(request, subscription, payload.version)
    subscription = services.subscription_update(
        actor=request.user, subscription=subscription, data=patch_data(payload), expected_version=version
    )
    return subscription_out(subscription)


@router.get("/recurring-revenue", response=RecurringRevenueList)
def recurring_revenue(
    request: HttpRequest, account_id: Id | None = None, date: dt.date | None = None
) -> dict[str, Any]:
    """MRR and ARR per account on `date` (default today), in the company currency."""
    day = date or timezone.localdate()
    rows = selectors.recurring_revenue(actor=request.user, on=day, account_id=account_id)
    return {"date": day, "currency": company_currency(), "items": rows}


__all__ = ["router"]
