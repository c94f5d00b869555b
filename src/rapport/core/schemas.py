"""Schema building blocks shared by every API router."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Schema
from pydantic import Field, model_validator

MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Limit = Annotated[int, Field(ge=1, le=200)]
Version = Annotated[int, Field(ge=1, le=2**31 - 1)]


def _reject_nul(value: Any, path: str = "") -> None:
    """NUL characters cannot be stored in PostgreSQL text and are never meaningful in a CRM."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{path or 'value'} contains a NUL character")
    elif isinstance(value, dict):
        for key, item in value.items():
            _reject_nul(key, path)
            _reject_nul(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _reject_nul(item, f"{path}.{index}" if path else str(index))


class InSchema(Schema):
    """Base of every request body: unknown keys are refused, NUL characters rejected."""

    model_config = {"extra": "forbid"}

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        _reject_nul(data)
        return data


class UserRef(Schema):
    id: int
    username: str
    name: str


class TeamOut(Schema):
    id: int
    name: str
    manager_id: int | None


class MeOut(Schema):
    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    team_id: int | None
    roles: list[str]
    time_zone: str
    language: str


class TokenIn(InSchema):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    scope: str = "read"


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scope: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreatedOut(TokenOut):
    token: str = Field(description="The secret. Shown once: store it now.")


class NotificationOut(Schema):
    id: int
    kind: str
    message: str
    url: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class NotificationsReadIn(InSchema):
    ids: list[Id] | None = None


class AuditEventOut(Schema):
    id: int
    at: dt.datetime
    actor_id: int | None
    actor: str | None
    action: str
    changes: dict[str, Any]
    context: dict[str, Any]


class CustomFieldOut(Schema):
    key: str
    label: str
    field_type: str
    choices: list[Any]
    required: bool


def audit_out(event: Any) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at,
        "actor_id": event.actor_id,
        "actor": str(event.actor) if event.actor_id else None,
        "action": event.action,
        "changes": event.changes,
        "context": event.context,
    }
