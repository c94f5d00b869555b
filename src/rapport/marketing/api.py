"""REST API of marketing: campaigns, their members and responses, and the funnel of each.

Reads go through ``selectors`` (narrowed to what the caller may see), writes through the
services; errors are problem+json (``core.api_support``)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from rapport.core.api_support import etag_set, expected_version, patch_data
from rapport.core.errors import ValidationFailed
from rapport.core.pagination import page_out
from rapport.core.schemas import Id, Limit
from rapport.marketing import selectors, services
from rapport.marketing.models import Campaign, CampaignMember
from rapport.marketing.schemas import (
    CampaignIn,
    CampaignMemberOut,
    CampaignMemberPage,
    CampaignOut,
    CampaignPage,
    CampaignPatchIn,
    CampaignStatsOut,
    MembersAddedOut,
    MembersAddIn,
    ResponseIn,
)
from rapport.parties import selectors as party_selectors

router = Router(tags=["marketing"])
_Cursor = Query(None, max_length=1000)

_CAMPAIGN_FIELDS = (
    "id", "name", "channel", "status", "starts_on", "ends_on", "description", "owner_id", "team_id",
    "created_at", "updated_at", "version",
)  # fmt: skip
_MEMBER_FIELDS = (
    "id", "campaign_id", "account_id", "contact_id", "sent_at", "opened_at", "clicked_at", "responded_at",
    "unsubscribed_at", "version",
)  # fmt: skip


def campaign_out(campaign: Campaign) -> dict[str, Any]:
    return {f: getattr(campaign, f) for f in _CAMPAIGN_FIELDS}


def member_out(member: CampaignMember) -> dict[str, Any]:
    return {f: getattr(member, f) for f in _MEMBER_FIELDS}


# --- campaigns -----------------------------------------------------------------------------


@router.get("/campaigns", response=CampaignPage)
def campaigns_list(
    request: HttpRequest,
    status: str = Query("", max_length=20),
    cursor: str | None = _Cursor,
    limit: Limit = 50,
) -> dict[str, Any]:
    """Campaigns the caller may see, newest first; `status` filters."""
    qs = selectors.campaign_list(actor=request.user, status=status)
    return page_out(qs, ["-created_at"], cursor, limit, campaign_out)


@router.post("/campaigns", response={201: CampaignOut})
def campaigns_create(request: HttpRequest, payload: CampaignIn, response: HttpResponse) -> Status:
    campaign = services.campaign_create(actor=request.user, **payload.dict())
    etag_set(response, campaign)
    return Status(201, campaign_out(campaign))


@router.get("/campaigns/{campaign_id}", response=CampaignOut)
def campaigns_get(request: HttpRequest, campaign_id: Id, response: HttpResponse) -> dict[str, Any]:
    campaign = selectors.campaign_get(actor=request.user, campaign_id=campaign_id)
    etag_set(response, campaign)
    return campaign_out(campaign)


@router.patch("/campaigns/{campaign_id}", response=CampaignOut)
def campaigns_update(
    request: HttpRequest, campaign_id: Id, payload: CampaignPatchIn, response: HttpResponse
) -> dict[str, Any]:
    """Change some fields; send `version` in the body or the ETag as `If-Match`."""
    campaign = selectors.campaign_get(actor=request.user, campaign_id=campaign_id)
    version = expected_version(request, campaign, payload.version)
    campaign = services.campaign_update(
        actor=request.user, campaign=campaign, data=patch_data(payload), expected_version=version
    )
    etag_set(response, campaign)
    return campaign_out(campaign)


@router.get("/campaigns/{campaign_id}/stats", response=CampaignStatsOut)
def campaigns_stats(request: HttpRequest, campaign_id: Id) -> dict[str, Any]:
    """Members per funnel step (sent, opened, clicked, responded, unsubscribed) and the rates."""
    campaign = selectors.campaign_get(actor=request.user, campaign_id=campaign_id)
    stats = selectors.campaign_stats(actor=request.user, campaign=campaign)
    return {"campaign_id": campaign.pk, **stats.__dict__}


# --- members -------------------------------------------------------------------------------


@router.get("/campaigns/{campaign_id}/members", response=CampaignMemberPage)
def campaign_members_list(
    request: HttpRequest, campaign_id: Id, cursor: str | None = _Cursor, limit: Limit = 50
) -> dict[str, Any]:
    campaign = selectors.campaign_get(actor=request.user, campaign_id=campaign_id)
    qs = selectors.campaign_member_list(actor=request.user, campaign=campaign)
    return page_out(qs, [], cursor, limit, member_out)


def _by_id(qs: QuerySet[Any], ids: list[int | None], field: str, label: str) -> dict[int, Any]:
    found = qs.only("id").in_bulk({pk for pk in ids if pk is not None})
    missing = [index for index, pk in enumerate(ids) if pk is not None and pk not in found]
    if missing:
        raise ValidationFailed(
            f"Some {label}s do not exist.",
            field_errors={f"recipients.{index}.{field}": [f"No such {label}."] for index in missing},
        )
    return found


@router.post("/campaigns/{campaign_id}/members", response=MembersAddedOut)
def campaign_members_add(request: HttpRequest, campaign_id: Id, payload: MembersAddIn) -> dict[str, Any]:
    """Add recipients (an account, or a contact at that account); existing members are skipped."""
    actor = request.user
    campaign = selectors.campaign_get(actor=actor, campaign_id=campaign_id)
    accounts = _by_id(
        party_selectors.account_queryset(actor=actor),
        [r.account_id for r in payload.recipients],
        "account_id",
        "account",
    )
    contact_ids = [r.contact_id for r in payload.recipients]
    contacts = (
        _by_id(party_selectors.contact_queryset(actor=actor), contact_ids, "contact_id", "contact")
        if any(contact_ids)
        else {}
    )
    recipients = [
        (accounts[r.account_id], contacts[r.contact_id] if r.contact_id is not None else None)
        for r in payload.recipients
    ]
    added = services.campaign_members_add(
        actor=actor, campaign=campaign, recipients=recipients, sent_at=payload.sent_at
    )
    return {"added": added, "skipped": len(recipients) - added}


@router.get("/campaign-members/{member_id}", response=CampaignMemberOut)
def campaign_members_get(request: HttpRequest, member_id: Id, response: HttpResponse) -> dict[str, Any]:
    member = selectors.campaign_member_get(actor=request.user, member_id=member_id)
    etag_set(response, member)
    return member_out(member)


@router.post("/campaign-members/{member_id}/responses", response=CampaignMemberOut)
def campaign_members_respond(request: HttpRequest, member_id: Id, payload: ResponseIn) -> dict[str, Any]:
    """Record an open, click, response or unsubscribe (idempotent: a step keeps its first time)."""
    member = selectors.campaign_member_get(actor=request.user, member_id=member_id)
    member = services.campaign_response_record(actor=request.user, member=member, event=payload.event, at=payload.at)
    return member_out(member)


__all__ = ["router"]
