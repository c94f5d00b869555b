"""Reads on the timeline: the merged, paginated 360° timeline of a contact or an account."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, Q, QuerySet

from rapport.activities.choices import TimelineKind
from rapport.activities.models import Attachment, Interaction, Note, Task
from rapport.core import permissions
from rapport.core.errors import NotFound, ValidationFailed
from rapport.core.models import User
from rapport.core.pagination import cursor_decode, cursor_encode
from rapport.parties.models import Account, Contact

# Kinds in the order ties on time are broken, and their time column.
_SOURCES: dict[str, tuple[type[Model], str]] = {
    TimelineKind.INTERACTION: (Interaction, "occurred_at"),
    TimelineKind.NOTE: (Note, "created_at"),
    TimelineKind.TASK: (Task, "created_at"),
    TimelineKind.ATTACHMENT: (Attachment, "created_at"),
}
_KIND_RANK = {kind: rank for rank, kind in enumerate(_SOURCES)}


@dataclass(frozen=True)
class TimelineEntry:
    kind: str
    at: dt.datetime
    item: Any


@dataclass(frozen=True)
class TimelinePage:
    entries: list[TimelineEntry]
    next_cursor: str | None


def timeline(
    *,
    party: Contact | Account,
    channels: list[str] | None = None,
    kinds: list[str] | None = None,
    cursor: str | None = None,
    limit: int = 25,
) -> TimelinePage:
    """Newest first: interactions, notes, tasks and attachments of one party, merged.

    Each source is read with its own ``(party, time desc, id desc)`` index for at most
    ``limit + 1`` rows after the cursor; the merge then keeps the first ``limit``. Cost per page is
    therefore independent of how long the history is. Filtering by ``channels`` keeps only
    interactions on those channels. The caller has checked the actor may read ``party``.
    """
    party_field = "contact" if isinstance(party, Contact) else "account"
    wanted = list(kinds or _SOURCES)
    if channels:
        wanted = [TimelineKind.INTERACTION]
    position = cursor_decode(cursor, 3) if cursor else None
    if position is not None:
        position[0] = dt.datetime.fromisoformat(position[0]) if isinstance(position[0], str) else position[0]
        if position[1] not in _KIND_RANK:
            raise ValidationFailed("The cursor is not valid.", field_errors={"cursor": ["Unknown kind."]})
    entries: list[TimelineEntry] = []
    for kind in wanted:
        if kind not in _SOURCES:
            raise ValidationFailed("Unknown timeline kind.", field_errors={"kind": [f"Use {', '.join(_SOURCES)}."]})
        model, time_field = _SOURCES[kind]
        qs: QuerySet[Any] = model._default_manager.filter(**{party_field: party})
        if kind == TimelineKind.INTERACTION:
            qs = qs.select_related("owner")
            if channels:
                qs = qs.filter(channel__in=channels)
        elif kind == TimelineKind.TASK:
            qs = qs.select_related("assignee")
        else:
            qs = qs.select_related("created_by")
        if position is not None:
            qs = qs.filter(_before(time_field, kind, position))
        # One more than a page from each source, so a history of one kind still knows there is more.
        for row in qs.order_by(f"-{time_field}", "-id")[: limit + 1]:
            entries.append(TimelineEntry(kind=kind, at=getattr(row, time_field), item=row))
    entries.sort(key=lambda e: (e.at, -_KIND_RANK[e.kind], e.item.pk), reverse=True)
    page = entries[:limit]
    next_cursor = None
    if len(entries) > limit:
        last = page[-1]
        next_cursor = cursor_encode([last.at, last.kind, last.item.pk])
    return TimelinePage(entries=page, next_cursor=next_cursor)


def _before(time_field: str, kind: str, position: list[Any]) -> Q:
    """Rows of ``kind`` strictly after ``position`` in (time desc, kind rank asc, id desc)."""
    at, cursor_kind, cursor_id = position
    earlier = Q(**{f"{time_field}__lt": at})
    rank, cursor_rank = _KIND_RANK[kind], _KIND_RANK[cursor_kind]
    if rank > cursor_rank:
        same_time = Q(**{time_field: at})
    elif rank == cursor_rank:
        same_time = Q(**{time_field: at, "id__lt": cursor_id})
    else:
        same_time = Q(pk__in=[])
    return earlier | same_time


def open_tasks(*, party: Contact | Account, limit: int = 20) -> list[Task]:
    party_field = "contact" if isinstance(party, Contact) else "account"
    return list(
        Task.objects.filter(**{party_field: party, "done_at__isnull": True})
        .select_related("assignee")
        .order_by("due_at", "id")[:limit]
    )


def my_tasks(*, actor: User, include_done: bool = False, limit: int = 100) -> list[Task]:
    qs = Task.objects.filter(assignee=actor).select_related("contact", "account")
    if not include_done:
        qs = qs.filter(done_at__isnull=True)
    return list(qs.order_by("due_at", "id")[:limit])


_PARTY_VIAS = ("contact", "account")


def timeline_rows(*, actor: User, model: type[Model]) -> QuerySet[Any]:
    """Rows of one timeline model the actor may read (through their contact, else their account)."""
    return permissions.readable_via_first(actor, model._default_manager.all(), vias=_PARTY_VIAS)


def timeline_item_get(*, actor: User, model: type[Model], pk: Any) -> Any:
    """A note/task/attachment/interaction the actor may read, else ``NotFound``."""
    try:
        return timeline_rows(actor=actor, model=model).select_related("contact", "account").get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"{model._meta.verbose_name.capitalize()} {pk} was not found.") from None


def task_list(
    *,
    actor: User,
    assignee_id: int | None = None,
    contact: Contact | None = None,
    account: Account | None = None,
    done: bool | None = None,
) -> QuerySet[Task]:
    """Tasks the actor may read, narrowed by assignee, party and state."""
    qs = timeline_rows(actor=actor, model=Task)
    if assignee_id is not None:
        qs = qs.filter(assignee_id=assignee_id)
    if contact is not None:
        qs = qs.filter(contact=contact)
    if account is not None:
        qs = qs.filter(account=account)
    if done is not None:
        qs = qs.filter(done_at__isnull=not done)
    return qs
