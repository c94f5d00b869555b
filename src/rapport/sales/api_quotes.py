"""REST API of quotes: make one from an opportunity, revise, send, PDF, and the customer's public
accept/decline by signed token (no login; the token is the credential). Problem+json errors."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Status

from rapport.commerce.models import PriceBook, Product
from rapport.core import permissions
from rapport.core.api_support import etag_set, expected_version
from rapport.core.errors import NotFound
from rapport.core.schemas import Id, Version
from rapport.sales import selectors, services_quotes
from rapport.sales.models_quotes import Quote
from rapport.sales.quote_render import quote_pdf
from rapport.sales.schemas import QuoteDecisionIn, QuoteIn, QuoteSendIn

router = Router(tags=["quotes"])

_OUT = ("id", "opportunity_id", "account_id", "contact_id", "number", "revision", "supersedes_id", "status",
        "currency", "price_book_id", "quote_date", "valid_until", "tax_country", "notes", "subtotal",
        "discount_total", "tax_total", "total", "sent_at", "sent_to", "accepted_at", "declined_at",
        "decided_by_name", "order_id", "owner_id", "created_at", "version")


def quote_out(quote: Quote) -> dict[str, Any]:
    body = {name: getattr(quote, name) for name in _OUT}
    body["lines"] = [{name: getattr(ln, name) for name in (
        "position", "product_id", "description", "quantity", "unit_price", "discount_kind", "discount_value",
        "discount_amount", "tax_rate", "net", "tax", "total")} for ln in quote.lines.all()]
    return body


def public_out(quote: Quote) -> dict[str, Any]:
    """What the customer sees: no internal ids of owners or deals."""
    body = quote_out(quote)
    for name in ("opportunity_id", "owner_id", "account_id", "contact_id", "price_book_id", "supersedes_id"):
        body.pop(name)
    return body


def quote_get(actor: Any, pk: int) -> Quote:
    permissions.require_model_perm(actor, Quote, "view")
    return permissions.get_readable(actor, Quote.objects.select_related("account", "opportunity"), pk)


def line_specs(payload: QuoteIn) -> list[services_quotes.QuoteLineSpec]:
    products = {p.pk: p for p in Product.objects.filter(pk__in=[ln.product_id for ln in payload.lines])}
    return [services_quotes.QuoteLineSpec(product=products.get(ln.product_id), quantity=ln.quantity,
                                          unit_price=ln.unit_price, discount_kind=ln.discount_kind,
                                          discount_value=ln.discount_value, description=ln.description)
            for ln in payload.lines]


def _price_book(pk: int | None) -> PriceBook | None:
    if pk is None:
        return None
    book = PriceBook.objects.filter(pk=pk).first()
    if book is None:
        raise NotFound(f"Price book {pk} was not found.")
    return book


class QuoteReviseIn(QuoteIn):
    version: Version | None = None


@router.get("/opportunities/{int:opportunity_id}/quotes")
def quotes_of_opportunity(request: HttpRequest, opportunity_id: Id) -> dict[str, Any]:
    opp = selectors.opportunity_get(actor=request.user, pk=opportunity_id)
    permissions.require_model_perm(request.user, Quote, "view")
    qs = permissions.readable(request.user, Quote.objects.filter(opportunity=opp)).order_by("-revision", "-id")
    return {"items": [quote_out(q) for q in qs.prefetch_related("lines")]}


@router.post("/opportunities/{int:opportunity_id}/quotes", response={201: dict})
def quotes_create(request: HttpRequest, opportunity_id: Id, payload: QuoteIn, response: HttpResponse) -> Status:
    """A draft quote priced from the price book (`price_book_id`, whose currency must be the quote's)."""
    opp = selectors.opportunity_get(actor=request.user, pk=opportunity_id)
    quote = services_quotes.quote_create(
        actor=request.user, opportunity=opp, lines=line_specs(payload), currency=payload.currency,
        price_book=_price_book(payload.price_book_id), valid_until=payload.valid_until,
        tax_country=payload.tax_country, notes=payload.notes)
    etag_set(response, quote)
    return Status(201, quote_out(quote))


@router.get("/quotes/{int:quote_id}")
def quotes_get(request: HttpRequest, quote_id: Id, response: HttpResponse) -> dict[str, Any]:
    quote = quote_get(request.user, quote_id)
    etag_set(response, quote)
    return quote_out(quote)


@router.post("/quotes/{int:quote_id}/revise", response={201: dict})
def quotes_revise(request: HttpRequest, quote_id: Id, payload: QuoteReviseIn) -> Status:
    """Revision n+1 with these lines; the current one becomes superseded."""
    quote = quote_get(request.user, quote_id)
    fields: dict[str, Any] = {"valid_until": payload.valid_until, "notes": payload.notes,
                              "tax_country": payload.tax_country}
    if payload.price_book_id is not None:
        fields["price_book"] = _price_book(payload.price_book_id)
    if payload.currency:
        fields["currency"] = payload.currency
    new = services_quotes.quote_revise(actor=request.user, quote=quote, lines=line_specs(payload),
                                       expected_version=expected_version(request, quote, payload.version), **fields)
    return Status(201, quote_out(new))


@router.post("/quotes/{int:quote_id}/send")
def quotes_send(request: HttpRequest, quote_id: Id, payload: QuoteSendIn) -> dict[str, Any]:
    """Email the quote (PDF attached) with its signed acceptance link to `to` or the deal's contact."""
    quote = quote_get(request.user, quote_id)
    quote = services_quotes.quote_send(actor=request.user, quote=quote, to=payload.to or "", message=payload.message)
    return {**quote_out(quote), "acceptance_url": services_quotes.acceptance_url(quote)}


@router.get("/quotes/{int:quote_id}/pdf")
def quotes_pdf(request: HttpRequest, quote_id: Id) -> HttpResponse:
    quote = quote_get(request.user, quote_id)
    response = HttpResponse(quote_pdf(quote), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{quote.number}-v{quote.revision}.pdf"'
    return response


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


@router.get("/public/quotes/{token}", auth=None)
def public_quote(request: HttpRequest, token: str) -> dict[str, Any]:
    """The quote a signed link names (for the customer; no login)."""
    return public_out(services_quotes.quote_from_token(token[:500]))


@router.post("/public/quotes/{token}/accept", auth=None)
def public_accept(request: HttpRequest, token: str, payload: QuoteDecisionIn) -> dict[str, Any]:
    quote = services_quotes.quote_accept(quote=services_quotes.quote_from_token(token[:500]), name=payload.name,
                                         ip=_ip(request))
    return {**public_out(quote), "order_number": quote.order.number if quote.order else None}


@router.post("/public/quotes/{token}/decline", auth=None)
def public_decline(request: HttpRequest, token: str, payload: QuoteDecisionIn) -> dict[str, Any]:
    quote = services_quotes.quote_decline(quote=services_quotes.quote_from_token(token[:500]), name=payload.name,
                                          ip=_ip(request))
    return public_out(quote)
