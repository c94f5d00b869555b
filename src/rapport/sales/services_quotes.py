"""Writes of quotes: make (priced from the price books), revise, send, accept or decline, and the
sales order an accepted quote becomes.

Rules every function keeps (one transaction each; refused means nothing written):
* a quote's currency is its price book's; a different one is ``CurrencyMismatch`` (400);
* quantities are > 0 and prices/discounts come from ``commerce.pricing`` unless the seller
  negotiates a unit price; taxes are the product's category rate in the tax country;
* numbers come from the gap-free ``NumberSequence`` (kind ``quote``); revising keeps the number,
  takes revision n+1 and marks the old revision ``superseded``;
* only a sent quote that is neither expired nor superseded can be accepted or declined, once;
  accepting places the sales order (``commerce.services.order_create_from_lines``, source
  ``quote:<id>``) and moves the deal to the pipeline's "Sales order placed" stage;
* when that order is later fulfilled or invoiced, ``order_event`` (registered with
  ``commerce.order_events`` in ``SalesConfig.ready``) moves the deal on to "Order fulfilled" /
  "Customer billed".
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from rapport.commerce.choices import DiscountKind
from rapport.commerce.models import Order, PriceBook, Product
from rapport.commerce.money import CurrencyMismatch, currency_clean, decimal_clean, minor_units
from rapport.commerce.order_events import ORDER_FULFILLED, ORDER_INVOICED
from rapport.commerce.pricing import line_amounts, price_lookup, tax_rate_for
from rapport.commerce.services import LineSpec, _next_number, order_create_from_lines
from rapport.commerce.writes import clean, create
from rapport.core import permissions
from rapport.core.audit import audit_record
from rapport.core.errors import Conflict, NotFound, ValidationFailed
from rapport.core.models import User
from rapport.core.versioning import versioned_save
from rapport.sales.choices import StageKind
from rapport.sales.models import Opportunity, Stage
from rapport.sales.models_quotes import Quote, QuoteLine, QuoteStatus
from rapport.sales.services import opportunity_move

log = logging.getLogger(__name__)

SALT = "rapport.sales.quote-acceptance"
DEFAULT_VALIDITY_DAYS = 30
# The default pipeline's won stages, in the order the deal goes through them.
ORDER_PLACED, ORDER_FULFILLED_STAGE, CUSTOMER_BILLED = "Sales order placed", "Order fulfilled", "Customer billed"


class QuoteNotOpen(Conflict):
    """The quote cannot be decided (or changed) any more: expired, superseded, or already decided."""

    status = 409
    slug = "quote-not-open"
    title = "This quote can no longer be accepted or declined"


@dataclass(frozen=True)
class QuoteLineSpec:
    product: Product | None
    quantity: Any = 1
    unit_price: Any = None
    discount_kind: str = ""
    discount_value: Any = 0
    description: str = ""


def _lines_build(specs: Sequence[QuoteLineSpec], *, currency: str, on: dt.date, tier: str,
                 price_book: PriceBook | None, tax_country: str) -> list[QuoteLine]:
    if not specs:
        raise ValidationFailed("A quote needs at least one line.", field_errors={"lines": ["Add a line."]})
    built = []
    for index, spec in enumerate(specs):
        where = f"lines.{index}"
        product = spec.product
        if product is None:
            raise ValidationFailed("Unknown product.", field_errors={f"{where}.product_id": ["Unknown product."]})
        if not product.active:
            raise ValidationFailed(f"{product.sku} is no longer sold.",
                                   field_errors={f"{where}.product_id": ["Inactive."]})
        quantity = decimal_clean(spec.quantity, field=f"{where}.quantity", places=3, positive=True, int_digits=11)
        kind, value = spec.discount_kind or "", spec.discount_value
        if kind not in DiscountKind.values:
            raise ValidationFailed("Unknown discount kind.",
                                   field_errors={f"{where}.discount_kind": ["percent or amount."]})
        if spec.unit_price is None:
            found = price_lookup(product=product, currency=currency, on=on, quantity=quantity, tier=tier,
                                 price_book=price_book)
            unit_price = found.unit_price
            if not kind:
                kind, value = found.discount_kind, found.discount_value
        else:
            unit_price = decimal_clean(spec.unit_price, field=f"{where}.unit_price", places=4)
        places = 4 if kind == DiscountKind.PERCENT else minor_units(currency)
        discount = decimal_clean(value or 0, field=f"{where}.discount_value", places=places)
        rate = tax_rate_for(category=product.tax_category, country=tax_country)
        try:
            amounts = line_amounts(quantity=quantity, unit_price=unit_price, discount_kind=kind,
                                   discount_value=discount, tax_rate=rate, currency=currency)
        except ValidationFailed as exc:
            raise ValidationFailed(exc.detail, field_errors={f"{where}.{k}": v for k, v in exc.field_errors.items()}
                                   ) from None
        line = QuoteLine(position=index + 1, product=product, description=(spec.description or product.name)[:300],
                         quantity=quantity, unit_price=unit_price, discount_kind=kind,
                         discount_value=discount if kind else Decimal(0), discount_amount=amounts.discount,
                         tax_rate=rate, net=amounts.net, tax=amounts.tax, total=amounts.total)
        clean(line, "quote line", exclude=["quote"])
        built.append(line)
    return built


def _totals(quote: Quote, lines: list[QuoteLine]) -> None:
    quote.discount_total = sum((ln.discount_amount for ln in lines), Decimal(0))
    quote.subtotal = sum((ln.net + ln.discount_amount for ln in lines), Decimal(0))
    quote.tax_total = sum((ln.tax for ln in lines), Decimal(0))
    quote.total = sum((ln.total for ln in lines), Decimal(0))


def _currency_of(currency: str, price_book: PriceBook | None, opportunity: Opportunity) -> str:
    code = currency_clean(currency or (price_book.currency if price_book else opportunity.currency))
    if price_book is not None and price_book.currency != code:
        raise CurrencyMismatch(
            f"The quote is in {code} but the price book {price_book.name!r} is in {price_book.currency}.",
            field_errors={"price_book_id": [f"Choose a price book in {code}."]},
        )
    return code


@transaction.atomic
def quote_create(
    *, actor: User, opportunity: Opportunity, lines: Sequence[QuoteLineSpec], currency: str = "",
    price_book: PriceBook | None = None, valid_until: dt.date | None = None, tax_country: str = "",
    notes: str = "", _supersedes: Quote | None = None,
) -> Quote:
    """A draft quote for the deal's account, priced now. Needs the right to change the deal."""
    permissions.require_model_perm(actor, Quote, "add")
    permissions.check_write(actor, opportunity)
    today = timezone.localdate()
    valid_until = valid_until or today + dt.timedelta(days=DEFAULT_VALIDITY_DAYS)
    if valid_until < today:
        raise ValidationFailed("A quote cannot be valid until a past day.",
                               field_errors={"valid_until": ["Today or later."]})
    code = _currency_of(currency, price_book, opportunity)
    country = (tax_country or "").strip().upper()
    account = opportunity.account
    built = _lines_build(lines, currency=code, on=today, tier=account.tier, price_book=price_book,
                         tax_country=country)
    if _supersedes is None:
        number = f"Q-{today.year}-{_next_number('quote', today.year):05d}"
        revision = 1
    else:
        number, revision = _supersedes.number, _supersedes.revision + 1
    owner = opportunity.owner or actor
    quote = Quote(opportunity=opportunity, account=account, contact=opportunity.contact, number=number,
                  revision=revision, supersedes=_supersedes, currency=code, price_book=price_book,
                  quote_date=today, valid_until=valid_until, tax_country=country, notes=notes or "",
                  owner=owner, team_id=owner.team_id)
    _totals(quote, built)
    create(quote, actor=actor, what="quote",
           extra={"lines": [[ln.product.sku, str(ln.quantity), str(ln.unit_price), str(ln.total)] for ln in built]})
    for line in built:
        line.quote = quote
    QuoteLine.objects.bulk_create(built)
    return quote


def _locked(quote: Quote) -> Quote:
    return Quote.objects.select_for_update().select_related("opportunity", "account").get(pk=quote.pk)


def quote_expire_if_due(quote: Quote) -> Quote:
    """A draft or sent quote past its validity becomes ``expired`` (idempotent)."""
    if quote.status in (QuoteStatus.DRAFT, QuoteStatus.SENT) and quote.valid_until < timezone.localdate():
        quote.status = QuoteStatus.EXPIRED
        versioned_save(quote, expected_version=None, fields=["status"])
    return quote


@transaction.atomic
def quote_revise(
    *, actor: User, quote: Quote, lines: Sequence[QuoteLineSpec], expected_version: int | None, **fields: Any
) -> Quote:
    """Revision n+1 of ``quote`` (same number) with new lines; the old one becomes superseded."""
    permissions.check_write(actor, quote)
    old = _locked(quote)
    if expected_version is not None and expected_version != old.version:
        raise Conflict(f"Quote {old} was changed since version {expected_version}.", current_version=old.version)
    if old.status in (QuoteStatus.ACCEPTED, QuoteStatus.SUPERSEDED, QuoteStatus.DECLINED):
        raise QuoteNotOpen(f"Quote {old} is {old.get_status_display().lower()}; it cannot be revised.")
    before = old.status
    old.status = QuoteStatus.SUPERSEDED
    versioned_save(old, expected_version=None, fields=["status"])
    audit_record(actor=actor, action="update", instance=old, changes={"status": [before, old.status]})
    fields.setdefault("price_book", old.price_book)
    fields.setdefault("currency", old.currency)
    fields.setdefault("tax_country", old.tax_country)
    fields.setdefault("notes", old.notes)
    return quote_create(actor=actor, opportunity=old.opportunity, lines=lines, _supersedes=old, **fields)


def acceptance_token(quote: Quote) -> str:
    """Signed (``SALT``) id and revision: a tampered token fails the signature check."""
    return signing.dumps({"q": quote.pk, "r": quote.revision, "n": quote.number}, salt=SALT)


def acceptance_url(quote: Quote) -> str:
    """The customer's page (``/q/<token>/``, ``views_quotes.quote_public_view``); the same token
    also works on the public API (``/api/v1/public/quotes/<token>``)."""
    return f"{settings.RAPPORT_BASE_URL}/q/{acceptance_token(quote)}/"


def quote_from_token(token: str) -> Quote:
    """The quote a link names; a forged or altered token is not found (no hint of why)."""
    try:
        payload = signing.loads(token, salt=SALT)
        quote = Quote.objects.select_related("account", "opportunity").filter(
            pk=int(payload["q"]), revision=int(payload["r"]), number=str(payload["n"])).first()
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        quote = None
    if quote is None:
        raise NotFound("This quote link is not valid.")
    return quote


@transaction.atomic
def quote_send(*, actor: User, quote: Quote, to: str = "", message: str = "") -> Quote:
    """Email the quote with its acceptance link (after commit); a draft becomes sent. Re-sending
    a sent quote mails it again and keeps the first ``sent_at``."""
    permissions.check_write(actor, quote)
    quote = _locked(quote)
    quote_expire_if_due(quote)
    if quote.status not in (QuoteStatus.DRAFT, QuoteStatus.SENT):
        raise QuoteNotOpen(f"Quote {quote} is {quote.get_status_display().lower()}; it cannot be sent.")
    address = (to or (quote.contact.email if quote.contact_id and quote.contact else "")).strip()
    if not address or "@" not in address or len(address) > 254 or any(c in address for c in "\r\n,;<>"):
        raise ValidationFailed("Give the customer's email address.", field_errors={"to": ["An email address."]})
    if quote.sent_at is None:
        quote.sent_at = timezone.now()
    quote.status, quote.sent_to = QuoteStatus.SENT, address
    versioned_save(quote, expected_version=None, fields=["status", "sent_at", "sent_to"])
    audit_record(actor=actor, action="update", instance=quote, changes={"sent_to": [None, address]},
                 context={"quote_sent": True})
    pk, note = quote.pk, message
    transaction.on_commit(lambda: _mail(pk, note))
    return quote


def _mail(quote_id: int, note: str) -> None:
    from rapport.sales.quote_render import quote_pdf

    quote = Quote.objects.select_related("account").get(pk=quote_id)
    body = (f"Dear customer,\n\n{note + chr(10) + chr(10) if note else ''}"
            f"please find our quote {quote} for {quote.currency} {quote.total:.2f}, valid until "
            f"{quote.valid_until.isoformat()}. Review it and accept or decline it here:\n\n{acceptance_url(quote)}\n")
    mail = EmailMessage(subject=f"Quote {quote}", body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[quote.sent_to])
    mail.attach(f"{quote.number}-v{quote.revision}.pdf", quote_pdf(quote), "application/pdf")
    mail.send()


def _decidable(quote: Quote) -> None:
    quote_expire_if_due(quote)
    if quote.status != QuoteStatus.SENT:
        reason = {QuoteStatus.EXPIRED: "it expired on " + quote.valid_until.isoformat(),
                  QuoteStatus.SUPERSEDED: "a newer revision replaced it",
                  QuoteStatus.DRAFT: "it has not been sent"}.get(quote.status, f"it is already {quote.status}")
        raise QuoteNotOpen(f"Quote {quote} cannot be answered: {reason}.")


def _stage_named(opportunity: Opportunity, name: str) -> Stage | None:
    return Stage.objects.filter(pipeline_id=opportunity.pipeline_id, name=name, is_active=True).first()


def quote_accept(*, quote: Quote, name: str, ip: str | None) -> Quote:
    """The customer accepts (public page): record who, when and from where, place the order, and
    move the deal to "Sales order placed". An expired or superseded quote is refused."""
    try:
        return _accept(quote=quote, name=name, ip=ip)
    except QuoteNotOpen:
        # The expiry found while checking must persist although the acceptance is refused.
        with transaction.atomic():
            quote_expire_if_due(Quote.objects.select_for_update().get(pk=quote.pk))
        raise


@transaction.atomic
def _accept(*, quote: Quote, name: str, ip: str | None) -> Quote:
    quote = _locked(quote)
    _decidable(quote)
    who = _signer_name(name)
    seller = quote.owner or quote.opportunity.owner
    lines = [LineSpec(product=ln.product, quantity=ln.quantity, unit_price=ln.unit_price,
                      discount_kind=ln.discount_kind, discount_value=ln.discount_value, description=ln.description)
             for ln in quote.lines.select_related("product")]
    order = order_create_from_lines(actor=seller, account=quote.account, contact=quote.contact,
                                    currency=quote.currency, lines=lines, price_book=quote.price_book,
                                    tax_country=quote.tax_country, source_reference=f"quote:{quote.pk}",
                                    notes=f"Accepted online by {who}.")
    quote.status, quote.accepted_at, quote.decided_by_name, quote.decided_ip = (
        QuoteStatus.ACCEPTED, timezone.now(), who, ip or None)
    quote.order = order
    versioned_save(quote, expected_version=None, fields=["status", "accepted_at", "decided_by_name", "decided_ip",
                                                         "order"])
    audit_record(actor=None, action="update", instance=quote, changes={"status": [QuoteStatus.SENT, quote.status]},
                 context={"accepted_by": who, "ip": ip or ""})
    _advance(quote.opportunity, ORDER_PLACED, actor=seller, reason=f"Quote {quote} accepted")
    return quote


@transaction.atomic
def quote_decline(*, quote: Quote, name: str, ip: str | None) -> Quote:
    quote = _locked(quote)
    _decidable(quote)
    quote.status, quote.declined_at = QuoteStatus.DECLINED, timezone.now()
    quote.decided_by_name, quote.decided_ip = _signer_name(name), ip or None
    versioned_save(quote, expected_version=None, fields=["status", "declined_at", "decided_by_name", "decided_ip"])
    audit_record(actor=None, action="update", instance=quote, changes={"status": [QuoteStatus.SENT, quote.status]},
                 context={"declined_by": quote.decided_by_name, "ip": ip or ""})
    return quote


def _signer_name(name: str) -> str:
    who = " ".join((name or "").split())[:200]
    if not who:
        raise ValidationFailed("Type your name to sign.", field_errors={"name": ["Required."]})
    return who


def _advance(opportunity: Opportunity, stage_name: str, *, actor: User, reason: str) -> None:
    """Move the deal to ``stage_name`` of its pipeline if it has one and the deal is not past it."""
    stage = _stage_named(opportunity, stage_name)
    opp = Opportunity.objects.select_related("stage").get(pk=opportunity.pk)
    if stage is None or opp.stage_id == stage.pk:
        return
    if opp.stage.kind == StageKind.WON and opp.stage.position > stage.position:
        return
    opportunity_move(actor=actor, opportunity=opp, stage=stage, expected_version=None, close_reason=reason)


def order_event(*, event: str, order_id: int, actor_id: int | None) -> None:
    """Listener of ``commerce.order_events``: a quote's order fulfilled/invoiced moves its deal on."""
    quote = Quote.objects.select_related("opportunity").filter(order_id=order_id).first()
    if quote is None:
        return
    order = Order.objects.get(pk=order_id)
    actor = User.objects.filter(pk=actor_id).first() or quote.owner
    stage_name = {ORDER_FULFILLED: ORDER_FULFILLED_STAGE, ORDER_INVOICED: CUSTOMER_BILLED}[event]
    if event == ORDER_INVOICED and order.invoiced_total < order.total:
        return  # partly invoiced: the customer is billed when the whole order is
    with transaction.atomic():
        _advance(quote.opportunity, stage_name, actor=actor or quote.opportunity.owner,
                 reason=f"Order {order.number} {event.split('.')[1]}")
