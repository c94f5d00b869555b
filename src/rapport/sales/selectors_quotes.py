"""Reads of quotes for the staff pages: the list (filtered, narrowed to what the actor may see),
one quote, its family of revisions and its status timeline.

Row access is ``core.permissions``'s: a rep sees their own and their team's quotes, a manager
their teams'. A quote the actor may not read is *not found*, never forbidden (ids do not leak).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from rapport.core import permissions
from rapport.core.errors import NotFound, ValidationFailed
from rapport.core.models import User
from rapport.sales.models_quotes import Quote, QuoteStatus

# What the list shows: nothing else is read for it.
LIST_COLUMNS = ("id", "number", "revision", "status", "opportunity_id", "account_id", "currency", "total",
                "valid_until", "sent_at", "accepted_at", "declined_at", "owner_id", "created_at", "opportunity__name",
                "account__name")


def quote_list(*, actor: User, filters: dict[str, Any] | None = None) -> QuerySet[Quote]:
    """Quotes ``actor`` may see, filtered by ``status``, ``owner`` (id or ``me``), ``account``,
    ``opportunity``, ``q`` (number or account name) and ``current`` (hide superseded revisions)."""
    permissions.require_model_perm(actor, Quote, "view")
    qs = permissions.readable(actor, Quote.objects.all())
    filters = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
    if "status" in filters:
        if filters["status"] not in QuoteStatus.values:
            raise ValidationFailed("Unknown status.", field_errors={"status": [", ".join(QuoteStatus.values)]})
        qs = qs.filter(status=filters["status"])
    if "owner" in filters:
        qs = qs.filter(owner_id=actor.pk if filters["owner"] == "me" else _int(filters["owner"], "owner"))
    for key in ("account", "opportunity"):
        if key in filters:
            qs = qs.filter(**{f"{key}_id": _int(filters[key], key)})
    if "q" in filters:
        term = str(filters["q"])[:100]
        qs = qs.filter(number__icontains=term) | qs.filter(account__name__icontains=term)
    if filters.get("current") in ("1", "on", True):
        qs = qs.exclude(status=QuoteStatus.SUPERSEDED)
    return qs


def _int(value: Any, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{field} must be an id.", field_errors={field: ["An id."]}) from None
    if not 0 < number < 2**63:
        raise ValidationFailed(f"{field} must be an id.", field_errors={field: ["An id."]})
    return number


def quote_get(*, actor: User, pk: int) -> Quote:
    permissions.require_model_perm(actor, Quote, "view")
    return permissions.get_readable(
        actor, Quote.objects.select_related("account", "opportunity", "contact", "price_book", "order", "owner"), pk)


def quote_versions(*, actor: User, quote: Quote) -> list[Quote]:
    """Every revision of the quote's number that ``actor`` may read, newest first."""
    return list(permissions.readable(actor, Quote.objects.filter(number=quote.number))
                .only("id", "number", "revision", "status", "total", "currency", "created_at")
                .order_by("-revision"))


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime | dt.date
    status: str
    label: str
    detail: str = ""


def quote_timeline(quote: Quote) -> list[TimelineEntry]:
    """The quote's life from its own dates, oldest first: made, sent, answered, replaced or expired.

    The dates are written once by the services (``sent_at`` keeps the first sending), so the
    timeline needs no audit query and cannot disagree with the quote's status."""
    entries = [TimelineEntry(quote.created_at, QuoteStatus.DRAFT, "Drafted",
                             f"revision {quote.revision}" + (f" of {quote.number}" if quote.revision > 1 else ""))]
    if quote.sent_at:
        entries.append(TimelineEntry(quote.sent_at, QuoteStatus.SENT, "Sent", quote.sent_to))
    if quote.accepted_at:
        entries.append(TimelineEntry(quote.accepted_at, QuoteStatus.ACCEPTED, "Accepted", quote.decided_by_name))
    if quote.declined_at:
        entries.append(TimelineEntry(quote.declined_at, QuoteStatus.DECLINED, "Declined", quote.decided_by_name))
    if quote.status == QuoteStatus.SUPERSEDED:
        newer = Quote.objects.filter(supersedes_id=quote.pk).only("created_at", "revision").first()
        if newer is not None:
            entries.append(TimelineEntry(newer.created_at, QuoteStatus.SUPERSEDED, "Superseded",
                                         f"by revision {newer.revision}"))
    if quote.status == QuoteStatus.EXPIRED:
        entries.append(TimelineEntry(quote.valid_until, QuoteStatus.EXPIRED, "Expired",
                                     f"valid until {quote.valid_until.isoformat()}"))
    return entries


def quote_public_get(token: str) -> Quote:
    """The quote a customer's signed link names (``NotFound`` for a forged link or an unsent draft)."""
    from rapport.sales.services_quotes import quote_from_token

    quote = quote_from_token(token[:500])
    if quote.status == QuoteStatus.DRAFT:
        raise NotFound("This quote link is not valid.")  # never sent: nobody outside should see it
    return quote


def quote_public_state(quote: Quote, today: dt.date) -> str:
    """What the customer's page shows: ``open`` (buttons), ``expired``, ``accepted``, ``declined``
    or ``superseded``. A sent quote past its validity reads as expired before the job marks it."""
    if quote.status == QuoteStatus.SENT:
        return "expired" if quote.valid_until < today else "open"
    return str(quote.status)
