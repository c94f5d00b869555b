"""Reads on campaigns, always narrowed to what the actor may see.

Campaigns are owned rows (owner and team, the type's visibility); their members follow the
campaign: whoever may read a campaign reads its members. All of it through ``core.permissions``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from rapport.core import permissions
from rapport.core.errors import ValidationFailed
from rapport.core.models import User
from rapport.marketing.choices import CampaignStatus
from rapport.marketing.models import Campaign, CampaignMember


def campaign_list(*, actor: User, status: str = "") -> QuerySet[Campaign]:
    """Campaigns the actor may read (unordered; callers paginate), optionally of one status."""
    qs = permissions.readable(actor, Campaign.objects.all())
    if status:
        if status not in CampaignStatus.values:
            raise ValidationFailed(
                f"{status!r} is not a campaign status.",
                field_errors={"status": [f"Choose one of: {', '.join(CampaignStatus.values)}."]},
            )
        qs = qs.filter(status=status)
    return qs


def campaign_get(*, actor: User, campaign_id: Any) -> Campaign:
    """The campaign if ``actor`` may read it, else ``NotFound``."""
    return permissions.get_readable(actor, Campaign.objects.all(), campaign_id)


def campaign_member_list(*, actor: User, campaign: Campaign) -> QuerySet[CampaignMember]:
    """The members of ``campaign`` (none if the actor may not read the campaign)."""
    return permissions.readable(actor, CampaignMember.objects.filter(campaign=campaign), via="campaign")


def campaign_member_get(*, actor: User, member_id: Any) -> CampaignMember:
    """The member if ``actor`` may read its campaign, else ``NotFound``."""
    return permissions.get_readable(actor, CampaignMember.objects.select_related("campaign"), member_id, via="campaign")


@dataclass(frozen=True)
class CampaignStats:
    """Counts of members by funnel step; rates are shares of ``sent`` (0 when nothing was sent).

    ``members`` counts every member, ``sent`` those whose send time has come."""

    members: int
    sent: int
    opened: int
    clicked: int
    responded: int
    unsubscribed: int
    open_rate: float
    click_rate: float
    response_rate: float
    unsubscribe_rate: float
    click_to_open_rate: float


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def campaign_stats(*, actor: User, campaign: Campaign) -> CampaignStats:
    """The funnel of ``campaign`` in one aggregate query (conditional counts)."""
    counts = campaign_member_list(actor=actor, campaign=campaign).aggregate(
        members=Count("id"),
        sent=Count("id", filter=Q(sent_at__lte=timezone.now())),
        opened=Count("id", filter=Q(opened_at__isnull=False)),
        clicked=Count("id", filter=Q(clicked_at__isnull=False)),
        responded=Count("id", filter=Q(responded_at__isnull=False)),
        unsubscribed=Count("id", filter=Q(unsubscribed_at__isnull=False)),
    )
    sent = counts["sent"]
    return CampaignStats(
        **counts,
        open_rate=_rate(counts["opened"], sent),
        click_rate=_rate(counts["clicked"], sent),
        response_rate=_rate(counts["responded"], sent),
        unsubscribe_rate=_rate(counts["unsubscribed"], sent),
        click_to_open_rate=_rate(counts["clicked"], counts["opened"]),
    )
