"""Reads on service cases, always narrowed to what the actor may see (``core.permissions``):
cases are owned records, read by their owner, their team and the team's manager (by default)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from rapport.core import permissions
from rapport.core.errors import ValidationFailed
from rapport.core.models import User
from rapport.service.choices import CaseKind, CaseStatus
from rapport.service.models import Case


def _choice(value: str, choices: type[CaseKind] | type[CaseStatus], field: str) -> str:
    if value and value not in choices.values:
        raise ValidationFailed(
            f"{value!r} is not a case {field}.",
            field_errors={field: [f"Choose one of: {', '.join(choices.values)}."]},
        )
    return value


def case_list(*, actor: User, account_id: int | None = None, status: str = "", kind: str = "") -> QuerySet[Case]:
    """Cases ``actor`` may read, optionally of one account, in one status, of one kind."""
    qs = permissions.readable(actor, Case.objects.all())
    _choice(status, CaseStatus, "status")
    _choice(kind, CaseKind, "kind")
    if account_id:
        qs = qs.filter(account_id=account_id)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def case_get(*, actor: User, case_id: Any) -> Case:
    """The case if ``actor`` may read it, else ``NotFound`` (never a hint that it exists)."""
    return permissions.get_readable(actor, Case.objects.select_related("account", "contact"), case_id)
