"""Reads on commerce, always narrowed to what the actor may see.

Catalogue rows (products, tax rates, price books, exchange rates) are visible to every role that
may view the type. Orders and subscriptions are narrowed by owner and team; shipments, invoices
and payments follow their order. All of it through ``core.permissions``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from rapport.commerce.choices import BILLING_PERIOD_MONTHS, PaymentStatus, SubscriptionStatus
from rapport.commerce.models import (
    ExchangeRate,
    Invoice,
    InvoiceLine,
    Order,
    OrderLine,
    Payment,
    PriceBook,
    Product,
    Shipment,
    ShipmentLine,
    Subscription,
    TaxRate,
)
from rapport.commerce.money import quantize
from rapport.commerce.pricing import company_currency, rate_on
from rapport.core import permissions
from rapport.core.errors import NotFound
from rapport.core.models import User

M = TypeVar("M", bound=Model)


def _catalogue(actor: User, model: type[M]) -> QuerySet[M]:
    permissions.require_model_perm(actor, model, "view")
    return model._default_manager.all()


def _get(queryset: QuerySet[M], pk: Any) -> M:
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"{queryset.model._meta.verbose_name.capitalize()} {pk} was not found.") from None


# --- catalogue -----------------------------------------------------------------------------


def product_list(*, actor: User, q: str = "", kind: str = "", active: bool | None = None) -> QuerySet[Product]:
    qs = _catalogue(actor, Product)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(sku__icontains=q))
    if kind:
        qs = qs.filter(kind=kind)
    if active is not None:
        qs = qs.filter(active=active)
    return qs


def product_get(*, actor: User, product_id: Any) -> Product:
    return _get(_catalogue(actor, Product), product_id)


def tax_rate_list(*, actor: User) -> QuerySet[TaxRate]:
    return _catalogue(actor, TaxRate)


def price_book_list(*, actor: User, currency: str = "", active: bool | None = None) -> QuerySet[PriceBook]:
    qs = _catalogue(actor, PriceBook)
    if currency:
        qs = qs.filter(currency=currency.upper())
    if active is not None:
        qs = qs.filter(active=active)
    return qs


def price_book_get(*, actor: User, price_book_id: Any) -> PriceBook:
    return _get(_catalogue(actor, PriceBook), price_book_id)


def exchange_rate_list(*, actor: User, currency: str = "") -> QuerySet[ExchangeRate]:
    qs = _catalogue(actor, ExchangeRate)
    return qs.filter(currency=currency.upper()) if currency else qs


# --- orders and what hangs off them --------------------------------------------------------


@dataclass(frozen=True)
class OrderFilters:
    account_id: int | None = None
    owner_id: int | None = None
    status: str = ""
    fulfilment_status: str = ""
    q: str = ""


def order_list(*, actor: User, filters: OrderFilters = OrderFilters()) -> QuerySet[Order]:  # noqa: B008
    qs = permissions.readable(actor, Order.objects.all())
    f = filters
    for name in ("account_id", "owner_id", "status", "fulfilment_status"):
        value = getattr(f, name)
        if value:
            qs = qs.filter(**{name: value})
    if f.q:
        qs = qs.filter(Q(number__icontains=f.q) | Q(source_reference__icontains=f.q))
    return qs


def order_get(*, actor: User, order_id: Any) -> Order:
    return permissions.get_readable(actor, Order.objects.select_related("account", "contact", "owner"), order_id)


def order_lines(order: Order) -> list[OrderLine]:
    """The order's lines, each with ``shipped`` and ``invoiced`` quantities (caller may read the order).

    Summed in Python: SQLite's ``SUM`` over decimals is a float sum."""
    lines = list(OrderLine.objects.filter(order=order).select_related("product").order_by("position", "id"))
    for attr, model in (("shipped", ShipmentLine), ("invoiced", InvoiceLine)):
        sums: dict[int, Decimal] = defaultdict(Decimal)
        for line_id, quantity in model.objects.filter(order_line__order=order).values_list("order_line_id", "quantity"):
            sums[line_id] += quantity
        for line in lines:
            setattr(line, attr, sums[line.pk])
    return lines


def shipment_list(*, actor: User, order: Order | None = None) -> QuerySet[Shipment]:
    qs = permissions.readable(actor, Shipment.objects.all(), via="order")
    return qs.filter(order=order) if order is not None else qs


def shipment_get(*, actor: User, shipment_id: Any) -> Shipment:
    return permissions.get_readable(actor, Shipment.objects.select_related("order"), shipment_id, via="order")


@dataclass(frozen=True)
class InvoiceFilters:
    order_id: int | None = None
    account_id: int | None = None
    payment_status: str = ""
    overdue: bool | None = None


def overdue_q(today: dt.date | None = None) -> Q:
    """Invoices not fully paid whose due date has passed."""
    return ~Q(payment_status=PaymentStatus.PAID) & Q(due_date__lt=today or timezone.localdate())


def invoice_list(*, actor: User, filters: InvoiceFilters = InvoiceFilters()) -> QuerySet[Invoice]:  # noqa: B008
    qs = permissions.readable(actor, Invoice.objects.all(), via="order")
    f = filters
    if f.order_id:
        qs = qs.filter(order_id=f.order_id)
    if f.account_id:
        qs = qs.filter(order__account_id=f.account_id)
    if f.payment_status:
        qs = qs.filter(payment_status=f.payment_status)
    if f.overdue is True:
        qs = qs.filter(overdue_q())
    elif f.overdue is False:
        qs = qs.exclude(overdue_q())
    return qs


def invoice_get(*, actor: User, invoice_id: Any) -> Invoice:
    return permissions.get_readable(
        actor, Invoice.objects.select_related("order", "order__account"), invoice_id, via="order"
    )


def payment_list(*, actor: User, invoice: Invoice) -> QuerySet[Payment]:
    permissions.require_model_perm(actor, Payment, "view")
    return Payment.objects.filter(invoice=invoice)


# --- subscriptions and recurring revenue ---------------------------------------------------


def subscription_list(*, actor: User, account_id: int | None = None, status: str = "") -> QuerySet[Subscription]:
    qs = permissions.readable(actor, Subscription.objects.all())
    if account_id:
        qs = qs.filter(account_id=account_id)
    return qs.filter(status=status) if status else qs


def subscription_get(*, actor: User, subscription_id: Any) -> Subscription:
    return permissions.get_readable(actor, Subscription.objects.select_related("account", "product"), subscription_id)


def active_on_q(day: dt.date) -> Q:
    return Q(status=SubscriptionStatus.ACTIVE, start_date__lte=day) & (Q(end_date__isnull=True) | Q(end_date__gte=day))


@dataclass(frozen=True)
class RecurringRevenue:
    """MRR and ARR of one account on one day, in the company currency (ARR = 12 × MRR)."""

    account_id: int
    account_name: str
    currency: str
    mrr: Decimal
    arr: Decimal
    subscriptions: int


def recurring_revenue(
    *, actor: User, on: dt.date | None = None, account_id: int | None = None
) -> list[RecurringRevenue]:
    """Recurring revenue per account from the subscriptions the actor may see, active on ``on``.

    Each subscription's amount is spread over its period's months and converted at the rate of
    ``on``; sums keep full precision and are rounded once per account. A currency without a rate
    is an error (``NoExchangeRate``), never counted at 1.
    """
    day = on or timezone.localdate()
    target = company_currency()
    qs = subscription_list(actor=actor, account_id=account_id).filter(active_on_q(day)).select_related("account")
    rates: dict[str, Decimal] = {}
    monthly: dict[int, Decimal] = defaultdict(Decimal)
    names: dict[int, str] = {}
    counts: dict[int, int] = defaultdict(int)
    for sub in qs.only("account_id", "account__name", "amount", "currency", "billing_period"):
        if sub.currency not in rates:
            rates[sub.currency] = rate_on(currency=sub.currency, on=day)
        monthly[sub.account_id] += sub.amount * rates[sub.currency] / BILLING_PERIOD_MONTHS[sub.billing_period]
        names[sub.account_id] = sub.account.name
        counts[sub.account_id] += 1
    return sorted(
        (
            RecurringRevenue(
                account_id=account,
                account_name=names[account],
                currency=target,
                mrr=quantize(value, target),
                arr=quantize(value * 12, target),
                subscriptions=counts[account],
            )
            for account, value in monthly.items()
        ),
        key=lambda row: (-row.mrr, row.account_name),
    )
