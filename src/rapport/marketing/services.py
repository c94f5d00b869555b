"""Writes on campaigns and their members.

Every service is keyword-only and runs in one transaction: it checks everything first, then
writes the rows and their audit events, so a refused request leaves nothing behind.

Row access for members follows their campaign: whoever may read the campaign reads its members,
whoever may change it adds members and records their responses (with the model permission on
``CampaignMember`` as well). Adding members locks the campaign row, so two concurrent adds of the
same recipients cannot both insert them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from rapport.commerce.writes import clean, create, update
from rapport.core import permissions
from rapport.core.audit import audit_bulk_created, audit_record, diff, snapshot
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed
from rapport.core.models import User
from rapport.core.versioning import versioned_save
from rapport.marketing.choices import ResponseEvent
from rapport.marketing.models import Campaign, CampaignMember
from rapport.parties.models import Account, AccountMembership, Contact

CAMPAIGN_FIELDS = ("name", "channel", "status", "starts_on", "ends_on", "description")
BATCH_SIZE = 1000

# The funnel steps each event implies, earliest first (``ResponseEvent`` is in funnel order).
_IMPLIED: dict[str, tuple[str, ...]] = {
    ResponseEvent.OPENED: (),
    ResponseEvent.CLICKED: (ResponseEvent.OPENED,),
    ResponseEvent.RESPONDED: (ResponseEvent.OPENED, ResponseEvent.CLICKED),
    ResponseEvent.UNSUBSCRIBED: (),
}

Recipient = tuple[Account, Contact | None]


def _aware(value: dt.datetime) -> dt.datetime:
    """Times without a zone are taken as UTC (storage is UTC)."""
    return timezone.make_aware(value, dt.UTC) if timezone.is_naive(value) else value


def _date_range_check(starts_on: dt.date | None, ends_on: dt.date | None) -> None:
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise ValidationFailed(
            "A campaign cannot end before it starts.", field_errors={"ends_on": ["Before the start date."]}
        )


def _require_campaign_write(actor: User, campaign: Campaign, model: type, action: str) -> None:
    """The model permission, and the right to change the campaign's row (else not found/forbidden)."""
    permissions.require_model_perm(actor, model, action)
    if not permissions.can_read(actor, campaign):
        raise NotFound(f"Campaign {campaign.pk} was not found.")
    if not permissions.can_write(actor, campaign):
        raise PermissionDenied(
            f"You may see campaign {campaign.name!r} but not change it; ask its owner or their manager."
        )


# --- campaigns -----------------------------------------------------------------------------


@transaction.atomic
def campaign_create(
    *,
    actor: User,
    name: str,
    channel: str = "email",
    status: str = "planned",
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    description: str = "",
) -> Campaign:
    """A campaign owned by ``actor`` and their team."""
    permissions.require_model_perm(actor, Campaign, "add")
    _date_range_check(starts_on, ends_on)
    campaign = Campaign(
        name=name,
        channel=channel,
        status=status,
        starts_on=starts_on,
        ends_on=ends_on,
        description=description,
        owner=actor,
        team_id=actor.team_id,
    )
    create(campaign, actor=actor, what="campaign")
    return campaign


@transaction.atomic
def campaign_update(*, actor: User, campaign: Campaign, data: dict[str, Any], expected_version: int | None) -> Campaign:
    """Change the fields named in ``data`` (a PATCH) if the stored version is ``expected_version``
    (``None``: the version loaded with ``campaign``); a stale version is a ``Conflict``."""
    permissions.check_write(actor, campaign)
    _date_range_check(data.get("starts_on", campaign.starts_on), data.get("ends_on", campaign.ends_on))
    update(
        campaign,
        actor=actor,
        data=data,
        fields=CAMPAIGN_FIELDS,
        expected_version=expected_version,
        what="campaign",
    )
    return campaign


# --- members -------------------------------------------------------------------------------


def _recipients_check(actor: User, recipients: Sequence[Recipient]) -> None:
    """Every account readable by ``actor``; every contact readable and a member of its account.

    Refused as a whole, with one field error per bad recipient (``recipients.<index>.<field>``);
    an account the actor may not read is reported like a missing one."""
    account_ids = {account.pk for account, _ in recipients}
    contact_ids = {contact.pk for _, contact in recipients if contact is not None}
    readable_accounts = set(
        permissions.readable(actor, Account.objects.filter(pk__in=account_ids)).values_list("pk", flat=True)
    )
    readable_contacts: set[int] = set()
    memberships: set[tuple[int, int]] = set()
    if contact_ids:
        readable_contacts = set(
            permissions.readable(actor, Contact.objects.filter(pk__in=contact_ids)).values_list("pk", flat=True)
        )
        memberships = set(
            AccountMembership.objects.filter(contact_id__in=contact_ids, account_id__in=account_ids).values_list(
                "account_id", "contact_id"
            )
        )
    errors: dict[str, list[str]] = {}
    for index, (account, contact) in enumerate(recipients):
        if account.pk not in readable_accounts:
            errors[f"recipients.{index}.account_id"] = ["No such account."]
        elif contact is not None:
            if contact.pk not in readable_contacts:
                errors[f"recipients.{index}.contact_id"] = ["No such contact."]
            elif (account.pk, contact.pk) not in memberships:
                errors[f"recipients.{index}.contact_id"] = ["This contact does not belong to the account."]
    if errors:
        raise ValidationFailed("Some recipients cannot be added to the campaign.", field_errors=errors)


@transaction.atomic
def campaign_members_add(
    *,
    actor: User,
    campaign: Campaign,
    recipients: Sequence[Recipient],
    sent_at: dt.datetime | None = None,
) -> int:
    """Add ``recipients`` (account, contact or ``None``) to ``campaign``, sent at ``sent_at``
    (default now), and return how many were added.

    A recipient is one contact, or an account without a contact; recipients that are already
    members (or repeated in ``recipients``) are skipped, not duplicated. Needs the right to
    change the campaign and to add members."""
    permissions.require_model_perm(actor, Campaign, "change")
    _require_campaign_write(actor, campaign, CampaignMember, "add")
    recipients = list(recipients)
    if not recipients:
        return 0
    _recipients_check(actor, recipients)
    when = _aware(sent_at) if sent_at is not None else timezone.now()
    Campaign.objects.select_for_update().get(pk=campaign.pk)  # serialise adds to one campaign

    contact_ids = {contact.pk for _, contact in recipients if contact is not None}
    account_only_ids = {account.pk for account, contact in recipients if contact is None}
    existing_contacts = set(
        CampaignMember.objects.filter(campaign=campaign, contact_id__in=contact_ids).values_list(
            "contact_id", flat=True
        )
    )
    existing_accounts = set(
        CampaignMember.objects.filter(
            campaign=campaign, contact__isnull=True, account_id__in=account_only_ids
        ).values_list("account_id", flat=True)
    )
    new: list[CampaignMember] = []
    for account, contact in recipients:
        if contact is not None:
            if contact.pk in existing_contacts:
                continue
            existing_contacts.add(contact.pk)
        else:
            if account.pk in existing_accounts:
                continue
            existing_accounts.add(account.pk)
        new.append(
            CampaignMember(
                campaign=campaign,
                account_id=account.pk,
                contact_id=contact.pk if contact is not None else None,
                sent_at=when,
                created_by=actor,
            )
        )
    context = {"campaign_id": campaign.pk, "service": "campaign_members_add"}
    for start in range(0, len(new), BATCH_SIZE):
        batch = CampaignMember.objects.bulk_create(new[start : start + BATCH_SIZE])
        audit_bulk_created(batch, actor=actor, context=context)
    return len(new)


@transaction.atomic
def campaign_response_record(
    *, actor: User, member: CampaignMember, event: str, at: dt.datetime | None = None
) -> CampaignMember:
    """Record that ``member`` did ``event`` (a ``ResponseEvent``) at ``at`` (default now).

    The earlier funnel steps the event implies (a click implies an open; a response an open and
    a click) are set to the same time where they are missing. A step already recorded keeps its
    first time, so recording an event twice changes nothing (no new version, no audit event).
    A time before the member was sent to is refused."""
    if event not in ResponseEvent.values:
        raise ValidationFailed(
            f"{event!r} is not a response event.",
            field_errors={"event": [f"Choose one of: {', '.join(ResponseEvent.values)}."]},
        )
    when = _aware(at) if at is not None else timezone.now()
    _require_campaign_write(actor, member.campaign, CampaignMember, "change")
    locked = CampaignMember.objects.select_for_update().get(pk=member.pk)
    if when < locked.sent_at:
        raise ValidationFailed(
            "A response cannot come before the campaign reached the member.",
            field_errors={"at": [f"Before the member was sent to ({locked.sent_at.isoformat()})."]},
        )
    before = snapshot(locked)
    changed = []
    for step in (*_IMPLIED[event], event):
        field = f"{step}_at"
        if getattr(locked, field) is None:
            setattr(locked, field, when)
            changed.append(field)
    if changed:
        clean(locked, "campaign member")
        versioned_save(locked, expected_version=None, fields=changed)
        audit_record(
            actor=actor,
            action="update",
            instance=locked,
            changes=diff(before, snapshot(locked)),
            context={"event": event},
        )
    return locked


__all__ = [
    "CAMPAIGN_FIELDS",
    "campaign_create",
    "campaign_members_add",
    "campaign_response_record",
    "campaign_update",
]
