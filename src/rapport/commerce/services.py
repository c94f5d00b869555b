"""Writes on orders, shipments, invoices, payments and subscriptions.

Every service is keyword-only and runs in one transaction: it checks everything first, then
writes the rows and their audit events, so a refused request leaves nothing behind. Services
that add to an order (shipments, invoices, payments) lock the order row first
(``SELECT … FOR UPDATE``), so two clerks invoicing the same line at once cannot both pass the
"not more than ordered" check.

The ``sales`` app turns an accepted quote into an order with ``order_create_from_lines``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from rapport.commerce.choices import (
    DiscountKind,
    FulfilmentStatus,
    OrderStatus,
    PaymentStatus,
    ProductKind,
    SubscriptionStatus,
)
from rapport.commerce.models import (
    Invoice,
    InvoiceLine,
    NumberSequence,
    Order,
    OrderLine,
    Payment,
    PriceBook,
    Product,
    Shipment,
    ShipmentLine,
    Subscription,
)
from rapport.commerce.money import (
    QUANTITY_DIGITS,
    QUANTITY_PLACES,
    UNIT_PRICE_PLACES,
    CurrencyMismatch,
    currency_clean,
    decimal_clean,
    minor_units,
    quantize,
)
from rapport.commerce.order_events import ORDER_FULFILLED, ORDER_INVOICED, order_event_emit
from rapport.commerce.pricing import HUNDRED, line_amounts, price_lookup, tax_rate_for
from rapport.commerce.purchase_stats import purchase_stats_refresh
from rapport.commerce.writes import clean, create, update
from rapport.core import permissions
from rapport.core.audit import audit_record
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed
from rapport.core.models import User
from rapport.core.versioning import versioned_save
from rapport.parties.models import Account, AccountMembership, Contact


class OverShipment(ValidationFailed):
    slug = "over-shipment"
    title = "More would be shipped than was ordered"


class OverInvoicing(ValidationFailed):
    slug = "over-invoicing"
    title = "More would be invoiced than was ordered"


class OverPayment(ValidationFailed):
    slug = "over-payment"
    title = "The payment is more than the invoice's outstanding amount"


class OrderClosed(ValidationFailed):
    slug = "order-closed"
    title = "The order is cancelled or completed"


@dataclass(frozen=True)
class LineSpec:
    """One line to put on a new order. ``unit_price`` ``None`` means: look it up in the price
    books (with the tier discount found there); a quote passes its negotiated price instead."""

    product: Product
    quantity: Any
    unit_price: Any = None
    discount_kind: str = ""
    discount_value: Any = 0
    description: str = ""


def _next_number(kind: str, year: int) -> int:
    """The next number of ``kind`` in ``year``, under a row lock held until commit (gap-free)."""
    NumberSequence.objects.get_or_create(kind=kind, year=year)
    sequence = NumberSequence.objects.select_for_update().get(kind=kind, year=year)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return sequence.last


def _lock(order: Order) -> Order:
    """The order re-read under a row lock; refused unless it is still open."""
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if locked.status != OrderStatus.OPEN:
        raise OrderClosed(f"Order {locked.number} is {locked.get_status_display().lower()}.")
    return locked


def _require_order_write(actor: User, order: Order, model: type, action: str = "add") -> None:
    """The model permission, and the right to change the order's row (else not found/forbidden)."""
    permissions.require_model_perm(actor, model, action)
    if not permissions.can_read(actor, order):
        raise NotFound(f"Order {order.pk} was not found.")
    if not permissions.can_write(actor, order):
        raise PermissionDenied(f"You may see order {order.number} but not change it; ask its owner or their manager.")


# --- orders --------------------------------------------------------------------------------


def _contact_of(contact: Contact, account: Account) -> None:
    """Refuse a contact who is not a member of the order's account."""
    if contact.account_id == account.pk or AccountMembership.objects.filter(contact=contact, account=account).exists():
        return
    raise ValidationFailed(
        f"{contact} is not a contact of {account}.", field_errors={"contact_id": ["Not a contact of this account."]}
    )


def _line_build(
    index: int, spec: LineSpec, *, currency: str, on: dt.date, tier: str, price_book: PriceBook | None, tax_country: str
) -> OrderLine:
    where = f"lines.{index}"
    quantity = decimal_clean(
        spec.quantity, field=f"{where}.quantity", places=QUANTITY_PLACES, positive=True, int_digits=QUANTITY_DIGITS
    )
    product = spec.product
    if not product.active:
        raise ValidationFailed(f"{product.sku} is no longer sold.", field_errors={f"{where}.product_id": ["Inactive."]})
    discount_kind, discount_value = spec.discount_kind or "", spec.discount_value
    if discount_kind not in DiscountKind.values:
        raise ValidationFailed(
            "Unknown discount kind.", field_errors={f"{where}.discount_kind": ["percent or amount."]}
        )
    if spec.unit_price is None:
        quote = price_lookup(
            product=product, currency=currency, on=on, quantity=quantity, tier=tier, price_book=price_book
        )
        unit_price = quote.unit_price
        if not discount_kind:
            discount_kind, discount_value = quote.discount_kind, quote.discount_value
    else:
        unit_price = decimal_clean(spec.unit_price, field=f"{where}.unit_price", places=UNIT_PRICE_PLACES)
    places = UNIT_PRICE_PLACES if discount_kind == DiscountKind.PERCENT else minor_units(currency)
    discount = decimal_clean(discount_value or 0, field=f"{where}.discount_value", places=places)
    rate = tax_rate_for(category=product.tax_category, country=tax_country)
    try:
        amounts = line_amounts(
            quantity=quantity,
            unit_price=unit_price,
            discount_kind=discount_kind,
            discount_value=discount,
            tax_rate=rate,
            currency=currency,
        )
    except ValidationFailed as exc:
        raise ValidationFailed(
            exc.detail, field_errors={f"{where}.{k}": v for k, v in exc.field_errors.items()}
        ) from None
    return OrderLine(
        position=index + 1,
        product=product,
        description=(spec.description or product.name)[:300],
        quantity=quantity,
        unit_price=unit_price,
        discount_kind=discount_kind,
        discount_value=discount if discount_kind else Decimal(0),
        discount_amount=amounts.discount,
        tax_category=product.tax_category,
        tax_rate=rate,
        net=amounts.net,
        tax=amounts.tax,
        total=amounts.total,
    )


@transaction.atomic
def order_create_from_lines(
    *,
    actor: User,
    account: Account,
    currency: str,
    lines: Sequence[LineSpec],
    contact: Contact | None = None,
    price_book: PriceBook | None = None,
    order_date: dt.date | None = None,
    tax_country: str = "",
    payment_terms_days: int = 30,
    source_reference: str = "",
    notes: str = "",
) -> Order:
    """Place an order for ``account`` with ``lines``, owned by the actor and their team.

    Refused, with nothing written, when: the actor may not add orders or read the account or
    contact; the currency is not ISO 4217 or differs from the price book's; a quantity is not
    positive; a product is inactive or has no price or tax rate; a discount exceeds its line.
    """
    permissions.require_model_perm(actor, Order, "add")
    for party in (account, contact):
        if party is not None and not permissions.can_read(actor, party):
            raise NotFound(f"{party._meta.verbose_name.capitalize()} {party.pk} was not found.")
    if contact is not None:
        _contact_of(contact, account)
    code = currency_clean(currency)
    if price_book is not None and price_book.currency != code:
        raise CurrencyMismatch(
            f"The order is in {code} but the price book {price_book.name!r} is in {price_book.currency}.",
            field_errors={"price_book_id": [f"Choose a price book in {code}."]},
        )
    if not lines:
        raise ValidationFailed("An order needs at least one line.", field_errors={"lines": ["Add a line."]})
    on = order_date or timezone.localdate()
    tax_country = (tax_country or "").strip().upper()
    built = [
        _line_build(i, spec, currency=code, on=on, tier=account.tier, price_book=price_book, tax_country=tax_country)
        for i, spec in enumerate(lines)
    ]
    for line in built:
        clean(line, "order line", exclude=["order"])
    has_goods = any(line.product.kind == ProductKind.GOODS for line in built)
    order = Order(
        number=f"SO-{on.year}-{_next_number('order', on.year):05d}",
        account=account,
        contact=contact,
        currency=code,
        price_book=price_book,
        order_date=on,
        tax_country=tax_country,
        payment_terms_days=payment_terms_days,
        source_reference=(source_reference or "")[:100],
        notes=notes or "",
        owner=actor,
        team_id=actor.team_id,
        fulfilment_status=FulfilmentStatus.UNFULFILLED if has_goods else FulfilmentStatus.NOT_REQUIRED,
        subtotal=sum((line.net + line.discount_amount for line in built), Decimal(0)),
        discount_total=sum((line.discount_amount for line in built), Decimal(0)),
        tax_total=sum((line.tax for line in built), Decimal(0)),
        total=sum((line.total for line in built), Decimal(0)),
    )
    create(
        order,
        actor=actor,
        what="order",
        context={"source": order.source_reference} if source_reference else None,
        extra={"lines": [[ln.product.sku, str(ln.quantity), str(ln.unit_price), str(ln.total)] for ln in built]},
    )
    for line in built:
        line.order = order
    OrderLine.objects.bulk_create(built)
    purchase_stats_refresh([order.account_id])
    return order


ORDER_FIELDS = ("contact", "notes", "payment_terms_days")


@transaction.atomic
def order_update(*, actor: User, order: Order, data: dict[str, Any], expected_version: int | None) -> Order:
    """Change an open order's contact, notes or payment terms (lines are fixed once placed)."""
    permissions.check_write(actor, order)
    contact = data.get("contact")
    if contact is not None:
        if not permissions.can_read(actor, contact):
            raise NotFound(f"Contact {contact.pk} was not found.")
        _contact_of(contact, order.account)
    if order.status == OrderStatus.CANCELLED:
        raise OrderClosed(f"Order {order.number} is cancelled.")
    update(order, actor=actor, data=data, fields=ORDER_FIELDS, expected_version=expected_version, what="order")
    return order


@transaction.atomic
def order_cancel(*, actor: User, order: Order, expected_version: int | None) -> Order:
    """Cancel an order nothing was shipped or invoiced from (afterwards a credit note is needed)."""
    permissions.check_write(actor, order)
    if order.status != OrderStatus.OPEN:
        raise OrderClosed(f"Order {order.number} is {order.get_status_display().lower()}.")
    if order.shipments.exists() or order.invoices.exists():
        raise OrderClosed(
            f"Order {order.number} has shipments or invoices; it can no longer be cancelled.",
            field_errors={"status": ["Already shipped or invoiced."]},
        )
    update(
        order,
        actor=actor,
        data={"status": OrderStatus.CANCELLED},
        fields=("status",),
        expected_version=expected_version,
        what="order",
    )
    purchase_stats_refresh([order.account_id])
    return order


def _sums_by_line(model: type, order: Order, *fields: str) -> dict[int, dict[str, Decimal]]:
    """Per order line, the sums of ``fields`` over its shipment or invoice lines.

    Summed in Python, not with SQL ``SUM``: SQLite adds decimals as floats, and a cent lost to
    binary rounding would let an invoice exceed its order.
    """
    out: dict[int, dict[str, Decimal]] = {}
    for row in model.objects.filter(order_line__order=order).values("order_line_id", *fields):
        sums = out.setdefault(row["order_line_id"], dict.fromkeys(fields, Decimal(0)))
        for name in fields:
            sums[name] += row[name]
    return out


def _quantities_by_line(model: type, order: Order) -> dict[int, Decimal]:
    return {line_id: sums["quantity"] for line_id, sums in _sums_by_line(model, order, "quantity").items()}


def _order_refresh(order: Order) -> None:
    """Recompute fulfilment, invoiced total and completion after a shipment or an invoice."""
    lines = list(order.lines.select_related("product"))
    shipped = _quantities_by_line(ShipmentLine, order)
    goods = [line for line in lines if line.product.kind == ProductKind.GOODS]
    if not goods:
        order.fulfilment_status = FulfilmentStatus.NOT_REQUIRED
    elif all(shipped.get(line.pk, 0) >= line.quantity for line in goods):
        order.fulfilment_status = FulfilmentStatus.FULFILLED
    elif any(shipped.get(line.pk) for line in goods):
        order.fulfilment_status = FulfilmentStatus.PARTIAL
    else:
        order.fulfilment_status = FulfilmentStatus.UNFULFILLED
    order.invoiced_total = sum(Invoice.objects.filter(order=order).values_list("total", flat=True), Decimal(0))
    done = order.fulfilment_status in (FulfilmentStatus.FULFILLED, FulfilmentStatus.NOT_REQUIRED)
    if done and order.invoiced_total == order.total:
        order.status = OrderStatus.COMPLETED
    versioned_save(order, expected_version=None, fields=["fulfilment_status", "invoiced_total", "status"])


def _picked_lines(order: Order, picks: Sequence[tuple[int, Any]], *, what: str) -> list[tuple[OrderLine, Decimal]]:
    lines = {line.pk: line for line in order.lines.select_related("product")}
    out: list[tuple[OrderLine, Decimal]] = []
    seen: set[int] = set()
    for index, (line_id, quantity) in enumerate(picks):
        line = lines.get(line_id)
        if line is None:
            raise ValidationFailed(
                f"Line {line_id} is not on order {order.number}.",
                field_errors={f"lines.{index}.order_line_id": ["Not a line of this order."]},
            )
        if line_id in seen:
            raise ValidationFailed("A line is listed twice.", field_errors={f"lines.{index}.order_line_id": ["Twice."]})
        seen.add(line_id)
        qty = decimal_clean(
            quantity, field=f"lines.{index}.quantity", places=QUANTITY_PLACES, positive=True, int_digits=QUANTITY_DIGITS
        )
        out.append((line, qty))
    if not out:
        raise ValidationFailed(f"Say what to {what}.", field_errors={"lines": ["Add a line."]})
    return out


# --- shipments -----------------------------------------------------------------------------


@transaction.atomic
def shipment_create(
    *,
    actor: User,
    order: Order,
    lines: Sequence[tuple[int, Any]],
    carrier: str = "",
    tracking_number: str = "",
    shipped_at: dt.datetime | None = None,
) -> Shipment:
    """Ship ``(order_line_id, quantity)`` pairs of an open order's goods; never more than ordered."""
    _require_order_write(actor, order, Shipment)
    order = _lock(order)
    picks = _picked_lines(order, lines, what="ship")
    shipped = _quantities_by_line(ShipmentLine, order)
    for index, (line, qty) in enumerate(picks):
        if line.product.kind != ProductKind.GOODS:
            raise ValidationFailed(
                f"{line.product.sku} is a {line.product.get_kind_display().lower()}; only goods are shipped.",
                field_errors={f"lines.{index}.order_line_id": ["Not goods."]},
            )
        left = line.quantity - shipped.get(line.pk, Decimal(0))
        if qty > left:
            raise OverShipment(
                f"Line {line.position} ({line.product.sku}): {qty} would be shipped but only {left} of "
                f"{line.quantity} are left to ship.",
                field_errors={f"lines.{index}.quantity": [f"At most {left}."]},
            )
    shipment = Shipment(
        order=order,
        carrier=(carrier or "").strip(),
        tracking_number=(tracking_number or "").strip(),
        shipped_at=shipped_at or timezone.now(),
    )
    create(shipment, actor=actor, what="shipment", context={"lines": [[line.pk, str(qty)] for line, qty in picks]})
    ShipmentLine.objects.bulk_create(
        ShipmentLine(shipment=shipment, order_line=line, quantity=qty) for line, qty in picks
    )
    _order_refresh(order)
    if order.fulfilment_status == FulfilmentStatus.FULFILLED:
        order_event_emit(ORDER_FULFILLED, order_id=order.pk, actor_id=getattr(actor, "pk", None))
    return shipment


# --- invoices and payments -----------------------------------------------------------------


def _invoice_line(line: OrderLine, qty: Decimal, invoiced: dict[int, dict[str, Decimal]], currency: str) -> InvoiceLine:
    """The billed share of ``line``. The invoice that completes the line takes what is left of its
    net and tax, so rounding never makes the parts differ from the whole."""
    before = invoiced.get(line.pk, {"q": Decimal(0), "net": Decimal(0), "tax": Decimal(0)})
    if before["q"] + qty == line.quantity:
        net, tax = line.net - before["net"], line.tax - before["tax"]
    else:
        net = quantize(line.net * qty / line.quantity, currency)
        tax = quantize(net * line.tax_rate / HUNDRED, currency)
    return InvoiceLine(order_line=line, quantity=qty, net=net, tax=tax, total=net + tax)


@transaction.atomic
def invoice_create(
    *,
    actor: User,
    order: Order,
    lines: Sequence[tuple[int, Any]] | None = None,
    issue_date: dt.date | None = None,
) -> Invoice:
    """Invoice ``(order_line_id, quantity)`` pairs of an open order, or (``lines`` None) all that is
    not yet invoiced. Never more than ordered per line. The number is the next of the issue
    year; the due date is the issue date plus the order's payment terms."""
    _require_order_write(actor, order, Invoice)
    order = _lock(order)
    invoiced = {
        line_id: {"q": sums["quantity"], "net": sums["net"], "tax": sums["tax"]}
        for line_id, sums in _sums_by_line(InvoiceLine, order, "quantity", "net", "tax").items()
    }
    if lines is None:
        picks = [
            (line, line.quantity - invoiced.get(line.pk, {"q": Decimal(0)})["q"])
            for line in order.lines.select_related("product")
        ]
        picks = [(line, qty) for line, qty in picks if qty > 0]
        if not picks:
            raise OverInvoicing(f"Everything on order {order.number} is already invoiced.")
    else:
        picks = _picked_lines(order, lines, what="invoice")
    for index, (line, qty) in enumerate(picks):
        left = line.quantity - invoiced.get(line.pk, {"q": Decimal(0)})["q"]
        if qty > left:
            raise OverInvoicing(
                f"Line {line.position} ({line.product.sku}): {qty} would be invoiced but only {left} of "
                f"{line.quantity} are left to invoice.",
                field_errors={f"lines.{index}.quantity": [f"At most {left}."]},
            )
    built = [_invoice_line(line, qty, invoiced, order.currency) for line, qty in picks]
    day = issue_date or timezone.localdate()
    try:
        due = day + dt.timedelta(days=order.payment_terms_days)
    except OverflowError:
        raise ValidationFailed("The issue date is out of range.", field_errors={"issue_date": ["Too late."]}) from None
    sequence = _next_number("invoice", day.year)
    invoice = Invoice(
        order=order,
        owner_id=order.owner_id,  # always the order's (Invoice docstring)
        team_id=order.team_id,
        number=f"INV-{day.year}-{sequence:05d}",
        year=day.year,
        sequence=sequence,
        currency=order.currency,
        issue_date=day,
        due_date=due,
        subtotal=sum((b.net for b in built), Decimal(0)),
        tax_total=sum((b.tax for b in built), Decimal(0)),
        total=sum((b.total for b in built), Decimal(0)),
    )
    create(
        invoice,
        actor=actor,
        what="invoice",
        context={"order": order.number, "lines": [[b.order_line_id, str(b.quantity)] for b in built]},
    )
    for item in built:
        item.invoice = invoice
    InvoiceLine.objects.bulk_create(built)
    _order_refresh(order)
    order_event_emit(ORDER_INVOICED, order_id=order.pk, actor_id=getattr(actor, "pk", None))
    return invoice


@transaction.atomic
def payment_record(
    *,
    actor: User,
    invoice: Invoice,
    amount: Any,
    currency: str,
    paid_on: dt.date | None = None,
    method: str = "bank_transfer",
    reference: str = "",
) -> Payment:
    """Record money received against ``invoice``: in its currency, at most what is outstanding."""
    _require_order_write(actor, invoice.order, Payment)
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    code = currency_clean(currency)
    if code != invoice.currency:
        raise CurrencyMismatch(
            f"Invoice {invoice.number} is in {invoice.currency}; the payment is in {code}.",
            field_errors={"currency": [f"Record the payment in {invoice.currency}."]},
        )
    value = decimal_clean(amount, field="amount", places=minor_units(code), positive=True)
    if value > invoice.outstanding:
        raise OverPayment(
            f"{value} {code} is more than the {invoice.outstanding} {code} outstanding on {invoice.number}.",
            field_errors={"amount": [f"At most {invoice.outstanding}."]},
        )
    payment = Payment(
        invoice=invoice,
        amount=value,
        currency=code,
        paid_on=paid_on or timezone.localdate(),
        method=method,
        reference=(reference or "").strip(),
    )
    create(payment, actor=actor, what="payment")
    before = {"amount_paid": str(invoice.amount_paid), "payment_status": invoice.payment_status}
    invoice.amount_paid += value  # the row is locked: no concurrent payment can interleave
    invoice.payment_status = PaymentStatus.PAID if invoice.amount_paid == invoice.total else PaymentStatus.PARTIAL
    versioned_save(invoice, expected_version=None, fields=["amount_paid", "payment_status"])
    audit_record(
        actor=actor,
        action="update",
        instance=invoice,
        changes={
            "amount_paid": [before["amount_paid"], str(invoice.amount_paid)],
            "payment_status": [before["payment_status"], invoice.payment_status],
        },
    )
    return payment


# --- subscriptions -------------------------------------------------------------------------

SUBSCRIPTION_FIELDS = (
    "amount", "billing_period", "end_date", "renewal_date", "status",
    "cancelled_on", "cancellation_reason", "cancellation_comment",
)  # fmt: skip
_EXIT_FIELDS = ("cancelled_on", "cancellation_reason", "cancellation_comment")


def _subscription_values(data: dict[str, Any], currency: str) -> dict[str, Any]:
    out = dict(data)
    if "amount" in out:
        out["amount"] = decimal_clean(out["amount"], field="amount", places=minor_units(currency))
    return out


@transaction.atomic
def subscription_create(
    *,
    actor: User,
    account: Account,
    product: Product,
    amount: Any,
    currency: str,
    start_date: dt.date,
    billing_period: str = "monthly",
    end_date: dt.date | None = None,
    renewal_date: dt.date | None = None,
    order: Order | None = None,
) -> Subscription:
    """Recurring revenue from ``account``: ``amount`` per period of a subscription product."""
    permissions.require_model_perm(actor, Subscription, "add")
    if not permissions.can_read(actor, account):
        raise NotFound(f"Account {account.pk} was not found.")
    if order is not None and order.account_id != account.pk:
        raise ValidationFailed("The order is for another account.", field_errors={"order_id": ["Another account."]})
    if product.kind != ProductKind.SUBSCRIPTION:
        raise ValidationFailed(
            f"{product.sku} is not a subscription product.", field_errors={"product_id": ["Not a subscription."]}
        )
    code = currency_clean(currency)
    subscription = Subscription(
        account=account,
        product=product,
        order=order,
        currency=code,
        start_date=start_date,
        billing_period=billing_period,
        end_date=end_date,
        renewal_date=renewal_date if renewal_date is not None else end_date,
        owner=actor,
        team_id=actor.team_id,
        **_subscription_values({"amount": amount}, code),
    )
    create(subscription, actor=actor, what="subscription")
    return subscription


@transaction.atomic
def subscription_update(
    *, actor: User, subscription: Subscription, data: dict[str, Any], expected_version: int | None
) -> Subscription:
    """Change the amount, period, end or renewal date, or the status (cancel, expire, reactivate).

    Cancelling records the exit survey: ``cancelled_on`` (today unless given), the reason code and
    the customer's own words. They describe a cancellation only: given for a subscription that
    stays uncancelled they are refused, and reactivating one clears them."""
    permissions.check_write(actor, subscription)
    data = dict(data)
    status = data.get("status", subscription.status)
    if status == SubscriptionStatus.CANCELLED:
        if subscription.status != SubscriptionStatus.CANCELLED and not data.get("cancelled_on"):
            data["cancelled_on"] = timezone.localdate()
        if data.get("cancelled_on") and data["cancelled_on"] < subscription.start_date:
            raise ValidationFailed(
                "A subscription cannot be cancelled before it starts.",
                field_errors={"cancelled_on": ["Before the start date."]},
            )
    else:
        given = [f for f in _EXIT_FIELDS if data.get(f)]
        if given:
            raise ValidationFailed(
                "Cancellation details go with cancelling (status 'cancelled').",
                field_errors={f: ["Only for a cancelled subscription."] for f in given},
            )
        if subscription.status == SubscriptionStatus.CANCELLED:  # reactivated: it was not cancelled after all
            data.update(cancelled_on=None, cancellation_reason="", cancellation_comment="")
    update(
        subscription,
        actor=actor,
        data=_subscription_values(data, subscription.currency),
        fields=SUBSCRIPTION_FIELDS,
        expected_version=expected_version,
        what="subscription",
    )
    return subscription


__all__ = [
    "LineSpec",
    "OrderClosed",
    "OverInvoicing",
    "OverPayment",
    "OverShipment",
    "invoice_create",
    "order_cancel",
    "order_create_from_lines",
    "order_update",
    "payment_record",
    "shipment_create",
    "subscription_create",
    "subscription_update",
]
