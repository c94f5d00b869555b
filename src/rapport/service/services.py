"""Writes on service cases: open one, then work it (status, resolution, satisfaction, owner).

Every service is keyword-only and runs in one transaction: it checks everything first, then
writes the row and its audit event, so a refused request leaves nothing behind. The invariants
of ``models.Case`` are kept here:

- moving into a done status (``choices.DONE``) stamps ``resolved_at``; moving from one done
  status to the other keeps it; moving back out of done clears it and the satisfaction answer
  (that answer was about a resolution that no longer stands);
- ``satisfaction`` (1 to 5) is accepted only for a case that is, or with the same change
  becomes, done.

There is no delete service: cases are kept (the warehouse never looks for deletions).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from rapport.commerce.writes import create, update
from rapport.core import permissions
from rapport.core.errors import NotFound, ValidationFailed
from rapport.core.models import User
from rapport.parties.models import Account, AccountMembership, Contact
from rapport.service.choices import DONE
from rapport.service.models import Case

# What ``case_update`` lets a caller change; ``team_id`` follows the owner, ``resolved_at`` the status.
CASE_FIELDS = (
    "subject", "description", "channel", "kind", "priority", "status", "resolution", "satisfaction", "owner_id",
)  # fmt: skip
_DERIVED_FIELDS = ("team_id", "resolved_at")
SATISFACTION_MIN, SATISFACTION_MAX = 1, 5
# Older is a typo, and near year 1 a time zone offset cannot even be converted to UTC for storage.
EARLIEST_OPENED_AT = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)


def _active_owner(owner: User | None) -> User:
    if owner is None or not owner.is_active:
        raise ValidationFailed("Choose an active user as owner.", field_errors={"owner_id": ["Unknown user."]})
    return owner


def _check_satisfaction(value: Any, *, done: bool) -> None:
    if value is None:
        return
    if not done:
        raise ValidationFailed(
            "Satisfaction is asked once a case is resolved or closed.",
            field_errors={"satisfaction": ["Only for a resolved or closed case."]},
        )
    if isinstance(value, bool) or not isinstance(value, int) or not SATISFACTION_MIN <= value <= SATISFACTION_MAX:
        raise ValidationFailed(
            "Satisfaction is a whole number from 1 to 5.",
            field_errors={"satisfaction": [f"Between {SATISFACTION_MIN} and {SATISFACTION_MAX}."]},
        )


@transaction.atomic
def case_open(
    *,
    actor: User,
    account: Account,
    subject: str,
    contact: Contact | None = None,
    description: str = "",
    channel: str = "email",
    kind: str = "question",
    priority: str = "normal",
    opened_at: dt.datetime | None = None,
    owner: User | None = None,
) -> Case:
    """Open a case for ``account`` (status ``new``), optionally from one of its ``contact`` people.

    Owned by ``owner`` (default the actor) and the owner's team. Refused, with nothing written,
    when the actor may not add cases or read the account or contact, the contact is not a member
    of the account (``AccountMembership``), ``opened_at`` is in the future or before 1900, or a
    choice or the subject is not valid. A naive ``opened_at`` is read in the current time zone.
    """
    permissions.require_model_perm(actor, Case, "add")
    if not permissions.can_read(actor, account):
        raise NotFound(f"Account {account.pk} was not found.")
    if contact is not None:
        if not permissions.can_read(actor, contact):
            raise NotFound(f"Contact {contact.pk} was not found.")
        if not AccountMembership.objects.filter(contact=contact, account=account).exists():
            raise ValidationFailed(
                f"{contact} is not a contact of {account}.",
                field_errors={"contact_id": ["Not a contact of this account."]},
            )
    now = timezone.now()
    if opened_at is not None and timezone.is_naive(opened_at):
        opened_at = timezone.make_aware(opened_at)  # in the current time zone, as Django's forms read it
    if opened_at is not None and opened_at > now:
        raise ValidationFailed("A case cannot be opened in the future.", field_errors={"opened_at": ["In the future."]})
    if opened_at is not None and opened_at < EARLIEST_OPENED_AT:
        raise ValidationFailed(
            "A case cannot be opened before 1900 (is the year a typo?).", field_errors={"opened_at": ["Before 1900."]}
        )
    owner = _active_owner(owner or actor)
    case = Case(
        account=account,
        contact=contact,
        subject=(subject or "").strip(),
        description=description or "",
        channel=channel,
        kind=kind,
        priority=priority,
        opened_at=opened_at or now,
        owner=owner,
        team_id=owner.team_id,
    )
    create(case, actor=actor, what="case")
    return case


@transaction.atomic
def case_update(*, actor: User, case: Case, data: dict[str, Any], expected_version: int | None) -> Case:
    """Change the fields named in ``data`` (see ``CASE_FIELDS``), refusing a stale version.

    Resolving or closing stamps ``resolved_at`` (now); reopening clears it and ``satisfaction``.
    ``satisfaction`` is refused unless the case is or becomes done, and must be 1 to 5. A new
    ``owner_id`` brings the owner's team along.
    """
    permissions.check_write(actor, case)
    unknown = sorted(set(data) - set(CASE_FIELDS))
    if unknown:
        raise ValidationFailed(
            f"These fields cannot be changed here: {', '.join(unknown)}.",
            field_errors={name: ["Cannot be changed."] for name in unknown},
        )
    data = dict(data)
    status = data.get("status", case.status)
    was_done, done = case.status in DONE, status in DONE
    if "satisfaction" in data:
        _check_satisfaction(data["satisfaction"], done=done)
    if done and not was_done:
        data["resolved_at"] = max(timezone.now(), case.opened_at)
    elif was_done and not done:
        data.update(resolved_at=None, satisfaction=None)
    if "owner_id" in data:
        owner_id = data["owner_id"]
        owner = User.objects.filter(pk=owner_id, is_active=True).first() if owner_id is not None else None
        data["team_id"] = _active_owner(owner).team_id
    update(
        case,
        actor=actor,
        data=data,
        fields=(*CASE_FIELDS, *_DERIVED_FIELDS),
        expected_version=expected_version,
        what="case",
    )
    return case
