"""Catalogue, prices, exchange rates, orders, shipments, invoices, payments and subscriptions.

Money columns are ``Decimal`` with 4 decimals so every ISO currency fits (JPY 0, EUR 2, KWD 3);
services quantise amounts to the currency's minor unit before they are stored (``money``).

Access: the catalogue (products, tax rates, price books, exchange rates) is shared reference
data: the role decides who may read or change it, not the row. Orders and subscriptions are
owned (owner and team, like accounts); order lines, shipments, invoices and payments follow
their order (``core.permissions`` with ``via``).

Nothing here is deleted once money depends on it: orders are cancelled, not deleted, and an
issued invoice keeps its number for good (numbers are gap-free per year).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.commerce.choices import (
    BillingPeriod,
    CancellationReason,
    DiscountKind,
    FulfilmentStatus,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
    ProductKind,
    SubscriptionStatus,
)
from rapport.core.models import OwnedModel, Team, TimestampedModel
from rapport.parties.choices import Tier
from rapport.parties.models import Account, Contact


def money_field(verbose: str, **kwargs) -> models.DecimalField:  # type: ignore[no-untyped-def]
    """A money amount: 19 digits, 4 decimals (enough for any currency's minor unit and for unit
    prices below a cent). Every app's money columns use this, so sums never need a cast."""
    return models.DecimalField(verbose, max_digits=19, decimal_places=4, **kwargs)


def _quantity(verbose: str, **kwargs) -> models.DecimalField:  # type: ignore[no-untyped-def]
    return models.DecimalField(verbose, max_digits=14, decimal_places=3, **kwargs)


class TaxRate(TimestampedModel):
    """The rate of one tax category, in one country or (``country`` blank) everywhere else.

    ``rate`` is a percentage (21.000 means 21 %). Invariant: one row per (category, country).
    """

    category = models.SlugField(_("tax category"), max_length=40)
    country = models.CharField(_("country"), max_length=2, blank=True, default="")
    name = models.CharField(_("name"), max_length=100, blank=True, default="")
    rate = models.DecimalField(_("rate (%)"), max_digits=6, decimal_places=3)

    class Meta:
        verbose_name = _("tax rate")
        verbose_name_plural = _("tax rates")
        ordering = ["category", "country"]
        constraints = [
            models.UniqueConstraint(fields=["category", "country"], name="taxrate_unique_category_country"),
            models.CheckConstraint(condition=Q(rate__gte=0, rate__lte=100), name="taxrate_rate_range"),
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.country or '*'} {self.rate}%"


class Product(TimestampedModel):
    """Something sold: goods (shipped), a service, or a subscription (billed per period).

    A product with components is a bundle; components are never bundles themselves (one level),
    so a bundle's price and contents are always finite and cycle-free. ``tax_category`` blank
    means the product is not taxed. ``cost_price`` (company currency) is ≥ 0 when known.
    """

    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True, default="")
    kind = models.CharField(_("kind"), max_length=12, choices=ProductKind.choices, default=ProductKind.GOODS)
    unit = models.CharField(_("unit"), max_length=20, default="pcs")
    active = models.BooleanField(_("active"), default=True)
    tax_category = models.SlugField(_("tax category"), max_length=40, blank=True, default="")
    # What one unit costs us, in the company currency; blank means unknown, and the warehouse then
    # leaves the line's margin unknown rather than counting the whole price as margin.
    cost_price = models.DecimalField(
        _("cost price"), max_digits=19, decimal_places=4, null=True, blank=True
    )

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["name", "id"], name="product_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


class BundleComponent(models.Model):
    """``quantity`` of ``component`` in one unit of ``bundle``."""

    bundle = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="components")
    component = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="in_bundles")
    quantity = _quantity(_("quantity"))

    class Meta:
        verbose_name = _("bundle component")
        verbose_name_plural = _("bundle components")
        constraints = [
            models.UniqueConstraint(fields=["bundle", "component"], name="bundle_component_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="bundle_component_quantity_positive"),
            models.CheckConstraint(condition=~Q(bundle=models.F("component")), name="bundle_not_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.component_id}"


class PriceBook(TimestampedModel):
    """Prices in one currency, for one customer tier (blank: every tier), valid between two dates.

    A tier-specific book wins over a general one; a book outside its dates or inactive is never
    used. ``valid_until`` is inclusive.
    """

    name = models.CharField(_("name"), max_length=100)
    currency = models.CharField(_("currency"), max_length=3)
    tier = models.CharField(_("customer tier"), max_length=10, choices=Tier.choices, blank=True, default="")
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("price book")
        verbose_name_plural = _("price books")
        ordering = ["currency", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gte=models.F("valid_from")),
                name="pricebook_valid_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"

    def valid_on(self, day: dt.date) -> bool:
        return (
            self.active
            and (self.valid_from is None or self.valid_from <= day)
            and (self.valid_until is None or day <= self.valid_until)
        )


class PriceBookEntry(TimestampedModel):
    """The unit price of a product from ``min_quantity`` units up (volume tiers), with an optional
    discount for that tier. The lookup takes the entry with the largest ``min_quantity`` not above
    the ordered quantity."""

    price_book = models.ForeignKey(PriceBook, on_delete=models.CASCADE, related_name="entries")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="price_entries")
    min_quantity = _quantity(_("from quantity"), default=Decimal(1))
    unit_price = money_field(_("unit price"))
    discount_kind = models.CharField(_("discount"), max_length=8, choices=DiscountKind.choices, blank=True, default="")
    discount_value = money_field(_("discount value"), default=Decimal(0))

    class Meta:
        verbose_name = _("price book entry")
        verbose_name_plural = _("price book entries")
        ordering = ["price_book", "product", "min_quantity"]
        constraints = [
            models.UniqueConstraint(fields=["price_book", "product", "min_quantity"], name="pricebookentry_unique"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="pricebookentry_price_nonnegative"),
            models.CheckConstraint(condition=Q(min_quantity__gt=0), name="pricebookentry_min_quantity_positive"),
            models.CheckConstraint(condition=Q(discount_value__gte=0), name="pricebookentry_discount_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} ≥{self.min_quantity}: {self.unit_price}"


class ExchangeRate(TimestampedModel):
    """On ``date``, one unit of ``currency`` was worth ``rate`` units of the company currency.

    A conversion on a day uses the latest rate on or before that day; none is an error, never 1.
    """

    currency = models.CharField(_("currency"), max_length=3)
    date = models.DateField(_("date"))
    rate = models.DecimalField(_("rate"), max_digits=24, decimal_places=10)

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "-date"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "date"], name="exchangerate_unique_day"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchangerate_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.date}: {self.rate}"


class NumberSequence(models.Model):
    """The last number issued per document kind and year. Incremented under a row lock in the
    transaction that issues the document, so a rolled-back issue gives its number back: numbers
    are sequential and gap-free per year."""

    kind = models.CharField(max_length=10)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "year"], name="numbersequence_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.year}: {self.last}"


class Order(OwnedModel):
    """A sales order for an account, in one currency.

    Invariants: lines are fixed once the order exists (a change is a cancellation and a new
    order); ``subtotal``/``discount_total``/``tax_total``/``total`` are the sums of the lines'
    rounded amounts; ``fulfilment_status`` and ``invoiced_total`` follow the shipments and
    invoices (written by the services that create those, under a lock on this row).
    ``source_reference`` names where the order came from (``quote:42``), set by the caller.
    """

    number = models.CharField(_("number"), max_length=20, unique=True)
    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    currency = models.CharField(_("currency"), max_length=3)
    price_book = models.ForeignKey(
        PriceBook, verbose_name=_("price book"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    order_date = models.DateField(_("order date"), default=timezone.localdate)
    tax_country = models.CharField(_("tax country"), max_length=2, blank=True, default="")
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=30)
    status = models.CharField(_("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.OPEN)
    fulfilment_status = models.CharField(
        _("fulfilment"), max_length=12, choices=FulfilmentStatus.choices, default=FulfilmentStatus.UNFULFILLED
    )
    source_reference = models.CharField(_("source"), max_length=100, blank=True, default="")
    notes = models.TextField(_("notes"), blank=True, default="")
    subtotal = money_field(_("subtotal"), default=Decimal(0))
    discount_total = money_field(_("discounts"), default=Decimal(0))
    tax_total = money_field(_("tax"), default=Decimal(0))
    total = money_field(_("total"), default=Decimal(0))
    invoiced_total = money_field(_("invoiced"), default=Decimal(0))

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["-order_date", "-id"], name="order_date"),
            models.Index(fields=["account", "-order_date", "-id"], name="order_account_date"),
            models.Index(fields=["owner", "-order_date", "-id"], name="order_owner_date"),
            # Sales metrics ask "did this account buy before that day?" once per candidate order;
            # only purchases count, and the partial index answers from its first entry.
            models.Index(fields=["account", "order_date"], name="order_account_purchase",
                         condition=~Q(status="cancelled")),
            # A team's metrics (retained customers, purchases of the period): the team's purchases
            # of a date range from one index range, not a bitmap AND of the team's millions of
            # rows with the range; on PostgreSQL the included columns spare the table.
            models.Index(fields=["team", "order_date"], name="order_team_purchase", condition=~Q(status="cancelled"),
                         include=["account", "owner"]),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    """One product on an order. ``net = quantity × unit_price − discount`` rounded to the currency,
    ``tax = net × tax_rate / 100`` rounded, ``total = net + tax``. ``quantity`` > 0 always.
    ``tax_rate`` is copied when the order is placed, so a later rate change leaves it alone."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=1)
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    description = models.CharField(_("description"), max_length=300, blank=True, default="")
    quantity = _quantity(_("quantity"))
    unit_price = money_field(_("unit price"))
    discount_kind = models.CharField(_("discount"), max_length=8, choices=DiscountKind.choices, blank=True, default="")
    discount_value = money_field(_("discount value"), default=Decimal(0))
    discount_amount = money_field(_("discount amount"), default=Decimal(0))
    tax_category = models.SlugField(max_length=40, blank=True, default="")
    tax_rate = models.DecimalField(_("tax (%)"), max_digits=6, decimal_places=3, default=Decimal(0))
    net = money_field(_("net"))
    tax = money_field(_("tax"))
    total = money_field(_("total"))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orderline_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="orderline_price_nonnegative"),
            models.CheckConstraint(condition=Q(net__gte=0), name="orderline_net_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}"


class Shipment(TimestampedModel):
    """Goods leaving for the customer: which order lines, how many, with which carrier."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="shipments")
    carrier = models.CharField(_("carrier"), max_length=100, blank=True, default="")
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True, default="")
    shipped_at = models.DateTimeField(_("shipped"), default=timezone.now)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["order", "shipped_at", "id"]

    def __str__(self) -> str:
        return self.tracking_number or f"#{self.pk}"


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="shipment_lines")
    quantity = _quantity(_("quantity"))

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="shipmentline_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.quantity} of line {self.order_line_id}"


class Invoice(TimestampedModel):
    """A bill for part or all of an order. ``number`` is ``INV-<year>-<sequence>``, gap-free per
    year. Amounts are fixed at issue; ``amount_paid`` and ``payment_status`` follow the payments.
    Overdue means: not paid and ``due_date`` is before today.

    ``owner`` and ``team`` are always the order's (copied at issue; an order never changes hands,
    and a deleted user or team empties both alike): row access stays the order's, but revenue
    figures of a team or rep read the invoices' own index instead of joining every order."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="invoices")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, editable=False,
                              on_delete=models.SET_NULL, related_name="+", db_index=False)
    team = models.ForeignKey(Team, null=True, blank=True, editable=False, on_delete=models.SET_NULL,
                             related_name="+", db_index=False)
    number = models.CharField(_("number"), max_length=20, unique=True)
    year = models.PositiveIntegerField()
    sequence = models.PositiveIntegerField()
    currency = models.CharField(_("currency"), max_length=3)
    issue_date = models.DateField(_("issued"))
    due_date = models.DateField(_("due"))
    subtotal = money_field(_("net"))
    tax_total = money_field(_("tax"))
    total = money_field(_("total"))
    amount_paid = money_field(_("paid"), default=Decimal(0))
    payment_status = models.CharField(
        _("payment"), max_length=8, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID
    )

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="invoice_unique_sequence"),
            models.CheckConstraint(condition=Q(amount_paid__lte=models.F("total")), name="invoice_not_overpaid"),
        ]
        indexes = [
            models.Index(fields=["-issue_date", "-id"], name="invoice_issue_date"),
            models.Index(fields=["payment_status", "due_date"], name="invoice_open_due"),
            # New revenue (sales metrics): a period's invoices company-wide, of a team or of a rep,
            # summed by currency and day from the index alone on PostgreSQL.
            models.Index(fields=["issue_date"], name="invoice_issued_figures",
                         include=["owner", "team", "currency", "subtotal"]),
            models.Index(fields=["team", "issue_date"], name="invoice_team_issued",
                         include=["owner", "currency", "subtotal"]),
            models.Index(fields=["owner", "issue_date"], name="invoice_owner_issued", include=["currency", "subtotal"]),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def outstanding(self) -> Decimal:
        return self.total - self.amount_paid

    @property
    def is_overdue(self) -> bool:
        return self.payment_status != PaymentStatus.PAID and self.due_date < timezone.localdate()


class InvoiceLine(models.Model):
    """``quantity`` of one order line billed on one invoice. The last invoice of a line takes
    what is left of the line's net and tax, so invoicing a line in parts sums to the line."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="invoice_lines")
    quantity = _quantity(_("quantity"))
    net = money_field(_("net"))
    tax = money_field(_("tax"))
    total = money_field(_("total"))

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="invoiceline_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.quantity} of line {self.order_line_id}"


class Payment(TimestampedModel):
    """Money received against one invoice, in the invoice's currency; never more than is owed."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = money_field(_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    paid_on = models.DateField(_("paid on"), default=timezone.localdate)
    method = models.CharField(
        _("method"), max_length=16, choices=PaymentMethod.choices, default=PaymentMethod.BANK_TRANSFER
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True, default="")

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["invoice", "paid_on", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


class Subscription(OwnedModel):
    """Recurring revenue from one account: ``amount`` per ``billing_period`` from ``start_date``
    to ``end_date`` (open-ended when blank), renewing on ``renewal_date``.

    It counts towards MRR on a day when it is active and the day is within its dates.
    """

    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="subscriptions")
    amount = money_field(_("amount per period"))
    currency = models.CharField(_("currency"), max_length=3)
    billing_period = models.CharField(
        _("billing period"), max_length=10, choices=BillingPeriod.choices, default=BillingPeriod.MONTHLY
    )
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"), null=True, blank=True)
    renewal_date = models.DateField(_("renewal"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )
    # The exit survey: set when it is cancelled (services.subscription_update), cleared if reactivated.
    cancelled_on = models.DateField(_("cancelled on"), null=True, blank=True)
    cancellation_reason = models.CharField(
        _("cancellation reason"), max_length=12, choices=CancellationReason.choices, blank=True, default=""
    )
    cancellation_comment = models.TextField(_("in the customer's words"), blank=True, default="")

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="subscription_amount_nonnegative"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="subscription_date_range",
            ),
        ]
        indexes = [models.Index(fields=["account", "status"], name="subscription_account")]

    def __str__(self) -> str:
        return f"{self.product_id} for {self.account_id}"


__all__ = [
    "BundleComponent",
    "ExchangeRate",
    "Invoice",
    "InvoiceLine",
    "NumberSequence",
    "Order",
    "OrderLine",
    "Payment",
    "PriceBook",
    "PriceBookEntry",
    "Product",
    "Shipment",
    "ShipmentLine",
    "Subscription",
    "TaxRate",
]


class AccountPurchaseStats(models.Model):
    """Per account, the first and last day it placed a non-cancelled order: a summary of
    ``Order`` kept so "is this account's first purchase in the period?" is an index range scan
    instead of a probe of every order (the sales metrics at millions of orders).

    Invariants (``commerce.purchase_stats``): an account has a row exactly when it has a
    non-cancelled order; ``first_order_date``/``last_order_date`` are the MIN/MAX ``order_date``
    of those orders. Only the order services change orders, and they refresh the row in their
    own transaction; an account merge or its undo refreshes both accounts (a merge listener).
    The rows are derived data: ``purchase_stats_rebuild`` recomputes them all from the orders.
    """

    account = models.OneToOneField(Account, on_delete=models.CASCADE, primary_key=True, related_name="+")
    first_order_date = models.DateField()
    last_order_date = models.DateField()

    class Meta:
        verbose_name = _("account purchase summary")
        verbose_name_plural = _("account purchase summaries")
        indexes = [
            models.Index(fields=["first_order_date"], name="purchasestats_first"),
            models.Index(fields=["last_order_date"], name="purchasestats_last"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.first_order_date}…{self.last_order_date}"
