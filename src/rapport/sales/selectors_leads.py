"""Reads of leads, narrowed to what the actor may see (``core.permissions``)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from rapport.core import permissions
from rapport.core.errors import ValidationFailed
from rapport.core.models import User
from rapport.sales.choices import LeadStatus
from rapport.sales.models import Lead
from rapport.sales.models_leads import AssignmentRule, LeadEvent, LeadScoringRule, WebForm

# What the list shows; selecting only these keeps a page cheap at 100k+ leads.
LIST_COLUMNS = ("id", "first_name", "last_name", "company", "email", "status", "source", "campaign", "score",
                "owner_id", "created_at", "version", "team_id")


def lead_list(*, actor: User, filters: dict[str, Any] | None = None) -> QuerySet[Lead]:
    """Leads ``actor`` may read, filtered by status / owner / source / campaign (exact values).

    The (status|owner, created_at, id) indexes serve the filtered, newest-first keyset pages.
    """
    qs = permissions.readable(actor, Lead.objects.all())
    filters = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
    if "status" in filters:
        if filters["status"] not in LeadStatus.values:
            raise ValidationFailed("Unknown status.",
                                   field_errors={"status": [f"One of: {', '.join(LeadStatus.values)}."]})
        qs = qs.filter(status=filters["status"])
    if "owner" in filters:
        owner = filters["owner"]
        qs = qs.filter(owner_id=actor.pk) if owner == "me" else qs.filter(owner_id=_int(owner, "owner"))
    for name in ("source", "campaign"):
        if name in filters:
            qs = qs.filter(**{name: str(filters[name])})
    return qs


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{name} must be a user id or 'me'.", field_errors={name: ["Not an id."]}) from None


def lead_get(*, actor: User, pk: Any) -> Lead:
    return permissions.get_readable(actor, Lead.objects.select_related("owner"), pk)


def lead_timeline(*, lead: Lead, limit: int = 200) -> list[LeadEvent]:
    return list(LeadEvent.objects.filter(lead=lead).select_related("actor", "rule", "assignee")[:limit])


def lead_filter_choices(*, actor: User) -> dict[str, list[str]]:
    """The sources and campaigns to filter by. Company-wide labels (not customer data), so they
    are read once for everyone and cached for five minutes: two DISTINCT scans of a 100k-row
    table cost more than the whole list page otherwise."""
    from django.core.cache import cache

    permissions.require_model_perm(actor, Lead, "view")
    cached = cache.get(FILTER_CHOICES_KEY)
    if cached is None:
        cached = {
            "sources": sorted(s for s in Lead.objects.values_list("source", flat=True).distinct()[:100] if s),
            "campaigns": sorted(c for c in Lead.objects.values_list("campaign", flat=True).distinct()[:100] if c),
        }
        cache.set(FILTER_CHOICES_KEY, cached, 300)
    return cached


FILTER_CHOICES_KEY = "sales:lead-filter-choices"


# Rules and forms are the company's lead set-up, not owned rows: the role decides, not the row.


def scoring_rules(*, actor: User) -> QuerySet[LeadScoringRule]:
    permissions.require_model_perm(actor, LeadScoringRule, "view")
    return LeadScoringRule.objects.order_by("position", "id")


def assignment_rules(*, actor: User) -> QuerySet[AssignmentRule]:
    permissions.require_model_perm(actor, AssignmentRule, "view")
    return AssignmentRule.objects.select_related("user", "team").order_by("position", "id")


def webforms(*, actor: User) -> QuerySet[WebForm]:
    permissions.require_model_perm(actor, WebForm, "view")
    return WebForm.objects.select_related("owner").order_by("name", "id")
