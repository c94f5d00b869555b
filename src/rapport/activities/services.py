"""Writes on the timeline: interactions, notes, tasks, attachments; and task reminders.

Upper layers (sales, service, marketing) record their touch points with
``interaction_record``; the party they hang off decides who may see them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone

from rapport.activities.models import Attachment, Interaction, Note, Task
from rapport.core import permissions
from rapport.core.audit import audit_created, audit_record, diff, snapshot
from rapport.core.errors import PermissionDenied, ValidationFailed, django_validation_to_field_errors
from rapport.core.models import User
from rapport.core.notifications import notification_send
from rapport.core.versioning import versioned_save
from rapport.parties.models import Account, Contact

MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024


def _party_fields(
    actor: User, contact: Contact | None, account: Account | None, model: type[Model], action: str
) -> dict[str, Any]:
    """Check access to the party and derive the account from the contact's primary account."""
    if contact is None and account is None:
        raise ValidationFailed(
            "Say which contact or account this is about.", field_errors={"contact_id": ["Required."]}
        )
    for party in (contact, account):
        if party is not None:
            permissions.check_write_via(actor, party, model, action)
    if account is None and contact is not None and contact.account_id:
        account = contact.account
    return {"contact": contact, "account": account}


def _clean(instance: Model, what: str) -> None:
    try:
        instance.full_clean(validate_constraints=False)
    except ValidationError as exc:
        raise ValidationFailed(
            f"The {what} is not valid.", field_errors=django_validation_to_field_errors(exc)
        ) from None


def _related(related: Model | None) -> dict[str, Any]:
    if related is None:
        return {}
    return {"related_type": ContentType.objects.get_for_model(type(related)), "related_id": related.pk}


@transaction.atomic
def interaction_record(
    *,
    actor: User,
    channel: str,
    contact: Contact | None = None,
    account: Account | None = None,
    direction: str = "outbound",
    subject: str = "",
    body: str = "",
    occurred_at: dt.datetime | None = None,
    duration_seconds: int | None = None,
    outcome: str = "",
    related: Model | None = None,
) -> Interaction:
    """Put one touch point on the timeline of ``contact`` (and its account) or ``account``."""
    interaction = Interaction(
        **_party_fields(actor, contact, account, Interaction, "add"),
        **_related(related),
        channel=channel,
        direction=direction,
        subject=(subject or "").strip(),
        body=body or "",
        occurred_at=occurred_at or timezone.now(),
        duration_seconds=duration_seconds,
        outcome=outcome or "",
        owner=actor,
        created_by=actor,
    )
    _clean(interaction, "interaction")
    interaction.save()
    audit_created(interaction, actor=actor)
    return interaction


@transaction.atomic
def note_add(
    *,
    actor: User,
    body: str,
    contact: Contact | None = None,
    account: Account | None = None,
    related: Model | None = None,
) -> Note:
    if not (body or "").strip():
        raise ValidationFailed("The note is empty.", field_errors={"body": ["Write something."]})
    note = Note(
        **_party_fields(actor, contact, account, Note, "add"), **_related(related), body=body.strip(), created_by=actor
    )
    _clean(note, "note")
    note.save()
    audit_created(note, actor=actor)
    return note


def _require_author(actor: User, row: Note | Interaction, verb: str) -> None:
    """Notes and logged interactions are someone's words: only they (or an administrator) change them."""
    author_id = row.created_by_id
    if author_id != actor.pk and not actor.is_administrator:
        raise PermissionDenied(f"Only the author (or an administrator) may {verb} this {row._meta.verbose_name}.")


def _timeline_row_delete(*, actor: User, row: Interaction | Note | Task | Attachment) -> None:
    """Delete one timeline row with its audit event (the party's readers may see it went)."""
    audit_record(actor=actor, action="delete", instance=row, changes={k: [v, None] for k, v in snapshot(row).items()})
    row.delete()


def _timeline_row_update(
    *,
    actor: User,
    row: Interaction | Note | Task,
    fields: tuple[str, ...],
    data: dict[str, Any],
    expected_version: int | None,
    extra_fields: tuple[str, ...] = (),
    before: dict[str, Any] | None = None,
) -> None:
    """Set ``fields`` from ``data``, validate, write if the version still matches, audit the diff.

    ``before`` is the snapshot to diff against when the caller changed ``extra_fields`` itself.
    """
    before = before if before is not None else snapshot(row)
    for name in fields:
        if name in data:
            setattr(row, name, data[name])
    _clean(row, row._meta.verbose_name)
    versioned_save(row, expected_version=expected_version, fields=[*fields, *extra_fields])
    changes = diff(before, snapshot(row))
    if changes:
        audit_record(actor=actor, action="update", instance=row, changes=changes)


@transaction.atomic
def note_update(*, actor: User, note: Note, body: str, expected_version: int | None) -> Note:
    permissions.check_write_via(actor, note.party, Note, "change")
    _require_author(actor, note, "change")
    if not (body or "").strip():
        raise ValidationFailed("The note is empty.", field_errors={"body": ["Write something."]})
    _timeline_row_update(
        actor=actor, row=note, fields=("body",), data={"body": body.strip()}, expected_version=expected_version
    )
    return note


@transaction.atomic
def note_delete(*, actor: User, note: Note) -> None:
    permissions.check_write_via(actor, note.party, Note, "delete")
    _require_author(actor, note, "delete")
    _timeline_row_delete(actor=actor, row=note)


_INTERACTION_FIELDS = ("channel", "direction", "subject", "body", "occurred_at", "duration_seconds", "outcome")


@transaction.atomic
def interaction_update(
    *, actor: User, interaction: Interaction, data: dict[str, Any], expected_version: int | None
) -> Interaction:
    """Correct a logged interaction (its author, or an administrator)."""
    permissions.check_write_via(actor, interaction.party, Interaction, "change")
    _require_author(actor, interaction, "change")
    _timeline_row_update(
        actor=actor, row=interaction, fields=_INTERACTION_FIELDS, data=data, expected_version=expected_version
    )
    return interaction


@transaction.atomic
def interaction_delete(*, actor: User, interaction: Interaction) -> None:
    permissions.check_write_via(actor, interaction.party, Interaction, "delete")
    _require_author(actor, interaction, "delete")
    _timeline_row_delete(actor=actor, row=interaction)


@transaction.atomic
def task_delete(*, actor: User, task: Task) -> None:
    permissions.check_write_via(actor, task.party, Task, "delete")
    _timeline_row_delete(actor=actor, row=task)


@transaction.atomic
def attachment_delete(*, actor: User, attachment: Attachment) -> None:
    """Delete the row now and the stored file once the deletion is committed."""
    permissions.check_write_via(actor, attachment.party, Attachment, "delete")
    storage, name = attachment.file.storage, attachment.file.name
    _timeline_row_delete(actor=actor, row=attachment)
    transaction.on_commit(lambda: storage.delete(name))


def _notify_assignee(task: Task, actor: User) -> None:
    if task.assignee_id and task.assignee_id != actor.pk:
        notification_send(
            user=task.assignee,
            kind="task_assigned",
            message=f"{actor} assigned you a task: {task.title}",
            url=_task_url(task),
        )


def _task_url(task: Task) -> str:
    if task.contact_id:
        return reverse("contact_detail", args=[task.contact_id])
    return reverse("account_detail", args=[task.account_id])


_TASK_FIELDS = ("title", "description", "due_at", "priority", "reminder_at")


@transaction.atomic
def task_create(
    *,
    actor: User,
    title: str,
    contact: Contact | None = None,
    account: Account | None = None,
    assignee: User | None = None,
    related: Model | None = None,
    **fields: Any,
) -> Task:
    """Create a task; the assignee (default: the actor) is notified unless they made it."""
    task = Task(
        **_party_fields(actor, contact, account, Task, "add"),
        **_related(related),
        title=(title or "").strip(),
        assignee=assignee or actor,
        created_by=actor,
        **{k: v for k, v in fields.items() if k in _TASK_FIELDS},
    )
    _clean(task, "task")
    task.save()
    audit_created(task, actor=actor)
    _notify_assignee(task, actor)
    return task


@transaction.atomic
def task_create_for_job(
    *,
    job: str,
    title: str,
    account: Account,
    assignee: User,
    notification: str,
    url: str = "",
    related: Model | None = None,
    **fields: Any,
) -> Task:
    """A task raised by a background job (no signed-in actor), e.g. a churn alert's retention task.

    There is no permission check: the job decided who should act. The audit event names ``job`` as
    its context and has no actor; the assignee is notified with ``notification`` (linking to ``url``,
    default the account's 360° page), as an assignment by a colleague would be.
    """
    task = Task(
        account=account,
        **_related(related),
        title=(title or "").strip(),
        assignee=assignee,
        created_by=None,
        **{k: v for k, v in fields.items() if k in _TASK_FIELDS},
    )
    _clean(task, "task")
    task.save()
    audit_created(task, actor=None, context={"job": job})
    notification_send(user=assignee, kind=f"{job}_task", message=notification, url=url or _task_url(task))
    return task


@transaction.atomic
def task_update(*, actor: User, task: Task, data: dict[str, Any], expected_version: int | None) -> Task:
    """Change a task; ``done`` true/false completes or reopens it; a new assignee is notified."""
    permissions.check_write_via(actor, task.party, Task, "change")
    before = snapshot(task)
    old_assignee = task.assignee_id
    if "assignee_id" in data:
        task.assignee = (
            User.objects.filter(pk=data["assignee_id"], is_active=True).first() if data["assignee_id"] else None
        )
        if data["assignee_id"] and task.assignee is None:
            raise ValidationFailed(
                "No such user.", field_errors={"assignee_id": ["There is no active user with this id."]}
            )
    if "done" in data:
        task.done_at = (task.done_at or timezone.now()) if data["done"] else None
    if "reminder_at" in data:
        task.reminder_sent_at = None
    _timeline_row_update(
        actor=actor,
        row=task,
        fields=_TASK_FIELDS,
        data=data,
        expected_version=expected_version,
        extra_fields=("assignee", "done_at", "reminder_sent_at"),
        before=before,
    )
    if task.assignee_id != old_assignee:
        _notify_assignee(task, actor)
    return task


def task_reminders_send(*, now: dt.datetime | None = None) -> int:
    """Notify assignees of every open task whose reminder time has come. Idempotent.

    Each task is claimed with a conditional UPDATE, so two schedulers running at once never
    send the same reminder twice.
    """
    now = now or timezone.now()
    sent = 0
    due = Task.objects.filter(reminder_at__lte=now, reminder_sent_at__isnull=True, done_at__isnull=True)
    for task in due.select_related("assignee").iterator(chunk_size=200):
        with transaction.atomic():
            claimed = Task.objects.filter(pk=task.pk, reminder_sent_at__isnull=True).update(reminder_sent_at=now)
            if not claimed or task.assignee is None:
                continue
            when = f" (due {timezone.localtime(task.due_at):%Y-%m-%d %H:%M})" if task.due_at else ""
            notification_send(
                user=task.assignee, kind="task_reminder", message=f"Reminder: {task.title}{when}", url=_task_url(task)
            )
            sent += 1
    return sent


@transaction.atomic
def attachment_add(
    *, actor: User, upload: UploadedFile, contact: Contact | None = None, account: Account | None = None
) -> Attachment:
    if upload.size is not None and upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed(
            "The file is too large.", field_errors={"file": [f"At most {MAX_ATTACHMENT_BYTES // 2**20} MB."]}
        )
    name = (upload.name or "file").rsplit("/", 1)[-1][:255]
    attachment = Attachment(
        **_party_fields(actor, contact, account, Attachment, "add"),
        name=name,
        size=upload.size or 0,
        content_type=(getattr(upload, "content_type", "") or "")[:100],
        created_by=actor,
    )
    attachment.file.save(name, upload, save=False)
    attachment.save()
    audit_created(attachment, actor=actor)
    return attachment
