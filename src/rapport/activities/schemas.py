"""Request and response bodies of the timeline API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Schema
from pydantic import Field

from rapport.core.schemas import Id, InSchema, Version


class InteractionIn(InSchema):
    contact_id: Id | None = None
    account_id: Id | None = None
    channel: Annotated[str, Field(max_length=10)]
    direction: Annotated[str, Field(max_length=10)] = "outbound"
    subject: Annotated[str, Field(max_length=300)] = ""
    body: Annotated[str, Field(max_length=100_000)] = ""
    occurred_at: dt.datetime | None = None
    duration_seconds: Annotated[int, Field(ge=0, le=10**7)] | None = None
    outcome: Annotated[str, Field(max_length=20)] = ""


class InteractionOut(Schema):
    id: int
    contact_id: int | None
    account_id: int | None
    channel: str
    direction: str
    subject: str
    body: str
    occurred_at: dt.datetime
    duration_seconds: int | None
    outcome: str
    owner_id: int | None
    related_type: str | None
    related_id: int | None
    version: int


class InteractionPatchIn(InSchema):
    channel: Annotated[str, Field(max_length=10)] | None = None
    direction: Annotated[str, Field(max_length=10)] | None = None
    subject: Annotated[str, Field(max_length=300)] | None = None
    body: Annotated[str, Field(max_length=100_000)] | None = None
    occurred_at: dt.datetime | None = None
    duration_seconds: Annotated[int, Field(ge=0, le=10**7)] | None = None
    outcome: Annotated[str, Field(max_length=20)] | None = None
    version: Version | None = None


class InteractionPage(Schema):
    items: list[InteractionOut]
    next: str | None


class NoteIn(InSchema):
    contact_id: Id | None = None
    account_id: Id | None = None
    body: Annotated[str, Field(min_length=1, max_length=100_000)]


class NoteOut(Schema):
    id: int
    contact_id: int | None
    account_id: int | None
    body: str
    created_at: dt.datetime
    created_by_id: int | None
    version: int


class NotePatchIn(InSchema):
    body: Annotated[str, Field(min_length=1, max_length=100_000)]
    version: Version | None = None


class NotePage(Schema):
    items: list[NoteOut]
    next: str | None


class TaskIn(InSchema):
    contact_id: Id | None = None
    account_id: Id | None = None
    title: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=10_000)] = ""
    due_at: dt.datetime | None = None
    priority: Annotated[str, Field(max_length=10)] = "normal"
    assignee_id: Id | None = None
    reminder_at: dt.datetime | None = None


class TaskPatchIn(InSchema):
    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    description: Annotated[str, Field(max_length=10_000)] | None = None
    due_at: dt.datetime | None = None
    priority: Annotated[str, Field(max_length=10)] | None = None
    assignee_id: Id | None = None
    reminder_at: dt.datetime | None = None
    done: bool | None = None
    version: Version | None = None


class TaskOut(Schema):
    id: int
    contact_id: int | None
    account_id: int | None
    title: str
    description: str
    due_at: dt.datetime | None
    priority: str
    assignee_id: int | None
    reminder_at: dt.datetime | None
    done_at: dt.datetime | None
    is_overdue: bool
    version: int
    created_at: dt.datetime


class TaskPage(Schema):
    items: list[TaskOut]
    next: str | None


class AttachmentOut(Schema):
    id: int
    contact_id: int | None
    account_id: int | None
    name: str
    size: int
    content_type: str
    created_at: dt.datetime
    url: str


class AttachmentPage(Schema):
    items: list[AttachmentOut]
    next: str | None


class TimelineEntryOut(Schema):
    kind: str
    at: dt.datetime
    id: int
    title: str
    body: str
    channel: str | None = None
    direction: str | None = None
    outcome: str | None = None
    by: str | None = None
    done: bool | None = None
    url: str | None = None


class TimelineOut(Schema):
    items: list[TimelineEntryOut]
    next: str | None


class Party360Out(Schema):
    type: str
    profile: dict[str, Any]
    timeline: TimelineOut
    open_tasks: list[TaskOut]
    related_contacts: list[dict[str, Any]]
    sections: dict[str, Any]
