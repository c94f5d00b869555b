"""REST API of the timeline (interactions, notes, tasks, attachments) and the 360° views.

The 360° endpoints live here rather than in ``parties`` because they compose the party with
its timeline, and only this layer may see both.
"""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpRequest
from django.urls import reverse
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from rapport.activities import selectors, services
from rapport.activities.models import Attachment, Interaction, Note, Task
from rapport.activities.schemas import (
    AttachmentOut,
    InteractionIn,
    InteractionOut,
    NoteIn,
    NoteOut,
    Party360Out,
    TaskIn,
    TaskOut,
    TaskPatchIn,
    TimelineOut,
)
from rapport.core.api_support import expected_version
from rapport.core.errors import ValidationFailed
from rapport.core.models import User
from rapport.core.schemas import Id, Limit
from rapport.parties import selectors as party_selectors
from rapport.parties.api import account_out, contact_list_item, contact_out
from rapport.parties.models import Account, Contact

router = Router(tags=["timeline"])


def _parties(actor: User, contact_id: int | None, account_id: int | None) -> dict[str, Any]:
    contact = party_selectors.contact_get(actor=actor, contact_id=contact_id) if contact_id else None
    account = party_selectors.account_get(actor=actor, account_id=account_id) if account_id else None
    if contact is None and account is None:
        raise ValidationFailed(
            "Say which contact or account.", field_errors={"contact_id": ["contact_id or account_id"]}
        )
    return {"contact": contact, "account": account}


def interaction_out(item: Interaction) -> dict[str, Any]:
    return {
        **{
            name: getattr(item, name)
            for name in (
                "id",
                "contact_id",
                "account_id",
                "channel",
                "direction",
                "subject",
                "body",
                "occurred_at",
                "duration_seconds",
                "outcome",
                "owner_id",
                "related_id",
            )
        },
        "related_type": item.related_type.model if item.related_type_id else None,
    }


def task_out(task: Task) -> dict[str, Any]:
    return {
        **{
            name: getattr(task, name)
            for name in (
                "id",
                "contact_id",
                "account_id",
                "title",
                "description",
                "due_at",
                "priority",
                "assignee_id",
                "reminder_at",
                "done_at",
                "version",
                "created_at",
            )
        },
        "is_overdue": task.is_overdue,
    }


def attachment_out(item: Attachment) -> dict[str, Any]:
    return {
        **{
            name: getattr(item, name)
            for name in ("id", "contact_id", "account_id", "name", "size", "content_type", "created_at")
        },
        "url": reverse("api:attachments_download", args=[item.pk]),
    }


def _entry_out(entry: selectors.TimelineEntry) -> dict[str, Any]:
    item = entry.item
    base: dict[str, Any] = {"kind": entry.kind, "at": entry.at, "id": item.pk}
    if entry.kind == "interaction":
        return {
            **base,
            "title": item.subject or item.get_channel_display(),
            "body": item.body[:2000],
            "channel": item.channel,
            "direction": item.direction,
            "outcome": item.outcome,
            "by": str(item.owner) if item.owner_id else None,
        }
    if entry.kind == "note":
        return {
            **base,
            "title": "Note",
            "body": item.body[:2000],
            "by": str(item.created_by) if item.created_by_id else None,
        }
    if entry.kind == "task":
        return {
            **base,
            "title": item.title,
            "body": item.description[:2000],
            "done": item.done_at is not None,
            "by": str(item.assignee) if item.assignee_id else None,
        }
    return {
        **base,
        "title": item.name,
        "body": "",
        "url": reverse("api:attachments_download", args=[item.pk]),
        "by": str(item.created_by) if item.created_by_id else None,
    }


def _timeline_out(party: Contact | Account, channel: list[str], cursor: str | None, limit: int) -> dict[str, Any]:
    page = selectors.timeline(party=party, channels=channel or None, cursor=cursor, limit=limit)
    return {"items": [_entry_out(e) for e in page.entries], "next": page.next_cursor}


_TimelineCursor = Query(None, max_length=1000)
_Channels = Query([], description="Only interactions on these channels")


# --- 360 and timelines ---------------------------------------------------------------------


def _sections() -> dict[str, Any]:
    # Filled by later capabilities (sales, commerce, service, marketing, insights).
    return {"opportunities": [], "orders": [], "cases": [], "consent": [], "scores": {}}


@router.get("/contacts/{contact_id}/360", response=Party360Out)
def contact_360(request: HttpRequest, contact_id: Id, limit: Limit = 25) -> dict[str, Any]:
    """Everything about one contact: profile, merged timeline (first page), open tasks, colleagues."""
    contact = party_selectors.contact_get(actor=request.user, contact_id=contact_id)
    related = []
    if contact.account_id:
        colleagues = (
            party_selectors.contact_queryset(actor=request.user)
            .filter(account_id=contact.account_id)
            .exclude(pk=contact.pk)
            .select_related("account")
            .order_by("last_name", "first_name", "id")[:20]
        )
        related = [contact_list_item(c) for c in colleagues]
    return {
        "type": "contact",
        "profile": contact_out(contact),
        "timeline": _timeline_out(contact, [], None, limit),
        "open_tasks": [task_out(t) for t in selectors.open_tasks(party=contact)],
        "related_contacts": related,
        "sections": _sections(),
    }


@router.get("/accounts/{account_id}/360", response=Party360Out)
def account_360(request: HttpRequest, account_id: Id, limit: Limit = 25) -> dict[str, Any]:
    account = party_selectors.account_get(actor=request.user, account_id=account_id)
    contacts = (
        party_selectors.contact_queryset(actor=request.user)
        .filter(account=account)
        .select_related("account")
        .order_by("last_name", "first_name", "id")[:50]
    )
    return {
        "type": "account",
        "profile": account_out(account),
        "timeline": _timeline_out(account, [], None, limit),
        "open_tasks": [task_out(t) for t in selectors.open_tasks(party=account)],
        "related_contacts": [contact_list_item(c) for c in contacts],
        "sections": _sections(),
    }


@router.get("/contacts/{contact_id}/timeline", response=TimelineOut)
def contact_timeline(
    request: HttpRequest,
    contact_id: Id,
    channel: list[str] = _Channels,
    cursor: str | None = _TimelineCursor,
    limit: Limit = 25,
) -> dict[str, Any]:
    contact = party_selectors.contact_get(actor=request.user, contact_id=contact_id)
    return _timeline_out(contact, channel, cursor, limit)


@router.get("/accounts/{account_id}/timeline", response=TimelineOut)
def account_timeline(
    request: HttpRequest,
    account_id: Id,
    channel: list[str] = _Channels,
    cursor: str | None = _TimelineCursor,
    limit: Limit = 25,
) -> dict[str, Any]:
    account = party_selectors.account_get(actor=request.user, account_id=account_id)
    return _timeline_out(account, channel, cursor, limit)


# --- interactions, notes, tasks, attachments -----------------------------------------------


@router.post("/interactions", response={201: InteractionOut})
def interactions_create(request: HttpRequest, payload: InteractionIn) -> Status:
    data = payload.dict(exclude={"contact_id", "account_id"})
    interaction = services.interaction_record(
        actor=request.user, **_parties(request.user, payload.contact_id, payload.account_id), **data
    )
    return Status(201, interaction_out(interaction))


@router.get("/interactions/{interaction_id}", response=InteractionOut)
def interactions_get(request: HttpRequest, interaction_id: Id) -> dict:
    return interaction_out(selectors.timeline_item_get(actor=request.user, model=Interaction, pk=interaction_id))


@router.post("/notes", response={201: NoteOut})
def notes_create(request: HttpRequest, payload: NoteIn) -> Status:
    note = services.note_add(
        actor=request.user, body=payload.body, **_parties(request.user, payload.contact_id, payload.account_id)
    )
    return Status(201, note)


@router.delete("/notes/{note_id}", response={204: None})
def notes_delete(request: HttpRequest, note_id: Id) -> Status:
    note = selectors.timeline_item_get(actor=request.user, model=Note, pk=note_id)
    services.note_delete(actor=request.user, note=note)
    return Status(204, None)


@router.get("/tasks", response=list[TaskOut])
def tasks_mine(request: HttpRequest, include_done: bool = False) -> list[dict]:
    """Tasks assigned to you, soonest due first."""
    return [task_out(t) for t in selectors.my_tasks(actor=request.user, include_done=include_done)]


@router.post("/tasks", response={201: TaskOut})
def tasks_create(request: HttpRequest, payload: TaskIn) -> Status:
    assignee = None
    if payload.assignee_id:
        assignee = User.objects.filter(pk=payload.assignee_id, is_active=True).first()
        if assignee is None:
            raise ValidationFailed(
                "No such user.", field_errors={"assignee_id": ["There is no active user with this id."]}
            )
    task = services.task_create(
        actor=request.user,
        assignee=assignee,
        **_parties(request.user, payload.contact_id, payload.account_id),
        **payload.dict(include={"title", "description", "due_at", "priority", "reminder_at"}),
    )
    return Status(201, task_out(task))


@router.get("/tasks/{task_id}", response=TaskOut)
def tasks_get(request: HttpRequest, task_id: Id) -> dict:
    return task_out(selectors.timeline_item_get(actor=request.user, model=Task, pk=task_id))


@router.patch("/tasks/{task_id}", response=TaskOut)
def tasks_update(request: HttpRequest, task_id: Id, payload: TaskPatchIn) -> dict:
    task = selectors.timeline_item_get(actor=request.user, model=Task, pk=task_id)
    version = expected_version(request, task, payload.version)
    data = payload.dict(exclude_unset=True)
    data.pop("version", None)
    return task_out(services.task_update(actor=request.user, task=task, data=data, expected_version=version))


@router.post("/attachments", response={201: AttachmentOut})
def attachments_create(
    request: HttpRequest,
    file: File[UploadedFile],
    contact_id: Form[Id | None] = None,
    account_id: Form[Id | None] = None,
) -> Status:
    attachment = services.attachment_add(
        actor=request.user, upload=file, **_parties(request.user, contact_id, account_id)
    )
    return Status(201, attachment_out(attachment))


@router.get("/attachments/{attachment_id}/download", url_name="attachments_download")
def attachments_download(request: HttpRequest, attachment_id: Id) -> FileResponse:
    attachment = selectors.timeline_item_get(actor=request.user, model=Attachment, pk=attachment_id)
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)
