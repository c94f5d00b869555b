"""Request and response bodies of the service API.

Choices (channel, kind, priority, status) travel as their codes and are checked by the services
against ``choices`` (an unknown one is a 422 with the field named), like every other app.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Schema
from pydantic import Field

from rapport.core.schemas import Id, InSchema, Version

Code = Annotated[str, Field(max_length=10)]
Subject = Annotated[str, Field(min_length=1, max_length=300)]
LongText = Annotated[str, Field(max_length=20000)]
Satisfaction = Annotated[int, Field(ge=1, le=5)]


class CaseIn(InSchema):
    account_id: Id
    contact_id: Id | None = None
    subject: Subject
    description: LongText = ""
    channel: Code = "email"
    kind: Code = "question"
    priority: Code = "normal"
    opened_at: dt.datetime | None = None
    owner_id: Id | None = None


class CasePatchIn(InSchema):
    subject: Subject | None = None
    description: LongText | None = None
    channel: Code | None = None
    kind: Code | None = None
    priority: Code | None = None
    status: Code | None = None
    resolution: LongText | None = None
    satisfaction: Satisfaction | None = None
    owner_id: Id | None = None
    version: Version | None = None


class CaseOut(Schema):
    id: int
    account_id: int
    contact_id: int | None
    owner_id: int | None
    team_id: int | None
    subject: str
    description: str
    channel: str
    kind: str
    priority: str
    status: str
    opened_at: dt.datetime
    resolved_at: dt.datetime | None
    resolution: str
    satisfaction: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int


class CasePage(Schema):
    items: list[CaseOut]
    next: str | None
