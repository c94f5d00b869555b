"""REST API of the timeline (interactions, notes, tasks, attachments) and the 360° views.

The 360° endpoints live here rather than in ``parties`` because they compose the party with
its timeline, and only this layer may see both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest
from django.urls import reverse
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from rapport.activities import selectors, services
from rapport.activities.models import Attachment, Interaction, Note, Task
from rapport.activities.schemas import (
    AttachmentOut,
    AttachmentPage,
    InteractionIn,
    InteractionOut,
    InteractionPage,
    InteractionPatchIn,
    NoteIn,
    NoteOut,
    NotePage,
    NotePatchIn,
    Party360Out,
    TaskIn,
    TaskOut,
    TaskPage,
    TaskPatchIn,
    TimelineOut,
)
from rapport.core.api_support import expected_version, patch_data
from rapport.core.errors import ValidationFailed
from rapport.core.models import User
from rapport.core.pagination import keyset_page, page_out
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
                "version",
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
    out: dict[str, Any] = {"kind": entry.kind, "at": entry.at, "id": entry.id, "body": entry.body, "by": entry.by}
    if entry.kind == "interaction":
        out.update(title=entry.title or entry.channel_label, channel=entry.channel, direction=entry.direction,
                   outcome=entry.outcome)
    elif entry.kind == "note":
        out["title"] = "Note"
    elif entry.kind == "task":
        out.update(title=entry.title, done=entry.is_done)
    else:
        out.update(title=entry.title, url=reverse("api:attachments_download", args=[entry.id]))
    return out


def _timeline_out(party: Contact | Account, channel: list[str], cursor: str | None, limit: int) -> dict[str, Any]:
    page = selectors.timeline(party=party, channels=channel or None, cursor=cursor, limit=limit, body_chars=2000)
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
    contact = party_selectors.contact_get(actor=request.user, contact_id=contact_id, related=("account",))
    related = [contact_list_item(c) for c in party_selectors.contact_colleagues(actor=request.user, contact=contact)]
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
#
# Lists are per party (``contact_id`` or ``account_id``), newest first, cursor-paginated; tasks can
# also be listed by assignee. Writes name the version they read (``version`` or If-Match).

_PartyId = Query(None, description="The contact whose rows to list")
_AccountId = Query(None, description="The account whose rows to list")
_Cursor = Query(None, max_length=1000)
_Direction = Query("", max_length=10)
_Assignee = Query(None, description="Default: you, unless a contact or account is given")
_Done = Query(None, description="Default: open tasks only")


def _party_page(
    request: HttpRequest,
    model: type[Any],
    contact_id: int | None,
    account_id: int | None,
    *,
    time_field: str,
    cursor: str | None,
    limit: int,
    narrow: Callable[[QuerySet[Any]], QuerySet[Any]] = lambda qs: qs,
    to_out: Callable[[Any], Any] = lambda row: row,
) -> dict[str, Any]:
    parties = _parties(request.user, contact_id, account_id)
    qs = selectors.timeline_rows(actor=request.user, model=model)
    for field, party in parties.items():
        if party is not None:
            qs = qs.filter(**{field: party})
    return page_out(narrow(qs), [f"-{time_field}"], cursor, limit, to_out)


@router.get("/interactions", response=InteractionPage)
def interactions_list(
    request: HttpRequest,
    contact_id: Id | None = _PartyId,
    account_id: Id | None = _AccountId,
    channel: list[str] = _Channels,
    direction: str = _Direction,
    cursor: str | None = _Cursor,
    limit: Limit = 50,
) -> dict[str, Any]:
    def narrow(qs: QuerySet[Any]) -> QuerySet[Any]:
        if channel:
            qs = qs.filter(channel__in=channel)
        return qs.filter(direction=direction) if direction else qs

    return _party_page(
        request,
        Interaction,
        contact_id,
        account_id,
        time_field="occurred_at",
        cursor=cursor,
        limit=limit,
        narrow=narrow,
        to_out=interaction_out,
    )


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


@router.patch("/interactions/{interaction_id}", response=InteractionOut)
def interactions_update(request: HttpRequest, interaction_id: Id, payload: InteractionPatchIn) -> dict:
    interaction = selectors.timeline_item_get(actor=request.user, model=Interaction, pk=interaction_id)
    version = expected_version(request, interaction, payload.version)
    interaction = services.interaction_update(
        actor=request.user, interaction=interaction, data=patch_data(payload), expected_version=version
    )
    return interaction_out(interaction)


@router.delete("/interactions/{interaction_id}", response={204: None})
def interactions_delete(request: HttpRequest, interaction_id: Id) -> Status:
    interaction = selectors.timeline_item_get(actor=request.user, model=Interaction, pk=interaction_id)
    services.interaction_delete(actor=request.user, interaction=interaction)
    return Status(204, None)


@router.get("/notes", response=NotePage)
def notes_list(
    request: HttpRequest,
    contact_id: Id | None = _PartyId,
    account_id: Id | None = _AccountId,
    cursor: str | None = _Cursor,
    limit: Limit = 50,
) -> dict[str, Any]:
    return _party_page(request, Note, contact_id, account_id, time_field="created_at", cursor=cursor, limit=limit)


@router.post("/notes", response={201: NoteOut})
def notes_create(request: HttpRequest, payload: NoteIn) -> Status:
    note = services.note_add(
        actor=request.user, body=payload.body, **_parties(request.user, payload.contact_id, payload.account_id)
    )
    return Status(201, note)


@router.get("/notes/{note_id}", response=NoteOut)
def notes_get(request: HttpRequest, note_id: Id) -> Note:
    return selectors.timeline_item_get(actor=request.user, model=Note, pk=note_id)


@router.patch("/notes/{note_id}", response=NoteOut)
def notes_update(request: HttpRequest, note_id: Id, payload: NotePatchIn) -> Note:
    note = selectors.timeline_item_get(actor=request.user, model=Note, pk=note_id)
    version = expected_version(request, note, payload.version)
    return services.note_update(actor=request.user, note=note, body=payload.body, expected_version=version)


@router.delete("/notes/{note_id}", response={204: None})
def notes_delete(request: HttpRequest, note_id: Id) -> Status:
    note = selectors.timeline_item_get(actor=request.user, model=Note, pk=note_id)
    services.note_delete(actor=request.user, note=note)
    return Status(204, None)


@router.get("/tasks", response=TaskPage)
def tasks_list(
    request: HttpRequest,
    assignee_id: Id | None = _Assignee,
    contact_id: Id | None = None,
    account_id: Id | None = None,
    done: bool | None = _Done,
    cursor: str | None = _Cursor,
    limit: Limit = 50,
) -> dict[str, Any]:
    """Tasks you may see: yours by default, or another user's, or a contact's/account's; soonest due first."""
    parties = _parties(request.user, contact_id, account_id) if (contact_id or account_id) else {}
    if assignee_id is None and not parties:
        assignee_id = request.user.pk
    qs = selectors.task_list(actor=request.user, assignee_id=assignee_id, done=bool(done), **parties)
    page = keyset_page(qs.select_related("assignee"), ordering=["-created_at"], cursor=cursor, limit=limit)
    return {"items": [task_out(t) for t in page.items], "next": page.next_cursor}


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
    return task_out(
        services.task_update(actor=request.user, task=task, data=patch_data(payload), expected_version=version)
    )


@router.delete("/tasks/{task_id}", response={204: None})
def tasks_delete(request: HttpRequest, task_id: Id) -> Status:
    task = selectors.timeline_item_get(actor=request.user, model=Task, pk=task_id)
    services.task_delete(actor=request.user, task=task)
    return Status(204, None)


@router.get("/attachments", response=AttachmentPage)
def attachments_list(
    request: HttpRequest,
    contact_id: Id | None = _PartyId,
    account_id: Id | None = _AccountId,
    cursor: str | None = _Cursor,
    limit: Limit = 50,
) -> dict[str, Any]:
    return _party_page(
        request,
        Attachment,
        contact_id,
        account_id,
        time_field="created_at",
        cursor=cursor,
        limit=limit,
        to_out=attachment_out,
    )


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


@router.get("/attachments/{attachment_id}", response=AttachmentOut)
def attachments_get(request: HttpRequest, attachment_id: Id) -> dict:
    return attachment_out(selectors.timeline_item_get(actor=request.user, model=Attachment, pk=attachment_id))


@router.delete("/attachments/{attachment_id}", response={204: None})
def attachments_delete(request: HttpRequest, attachment_id: Id) -> Status:
    attachment = selectors.timeline_item_get(actor=request.user, model=Attachment, pk=attachment_id)
    services.attachment_delete(actor=request.user, attachment=attachment)
    return Status(204, None)


@router.get("/attachments/{attachment_id}/download", url_name="attachments_download")
def attachments_download(request: HttpRequest, attachment_id: Id) -> FileResponse:
    attachment = selectors.timeline_item_get(actor=request.user, model=Attachment, pk=attachment_id)
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)
