"""Field-level audit: snapshots of a row before and after a change, and the event that records them.

Services call ``snapshot`` before changing a row and ``audit_record`` after, in the same
transaction, so an audit event exists if and only if the change was committed.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from rapport.core.models import AuditEvent

# Bookkeeping columns that change on every write and say nothing to a reader.
_SKIP = {"version", "updated_at", "created_at", "created_by", "search_text"}


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if hasattr(value, "name"):  # FieldFile
        return value.name or None
    return str(value)


def snapshot(instance: models.Model, *, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Concrete field values as JSON (foreign keys as ids; ``custom`` JSON flattened)."""
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in _SKIP:
            continue
        value = getattr(instance, field.attname)
        if field.name == "custom" and isinstance(value, dict):
            for key, item in value.items():
                data[f"custom.{key}"] = _jsonable(item)
            continue
        data[field.attname] = _jsonable(value)
    if extra:
        data.update({key: _jsonable(value) for key, value in extra.items()})
    return data


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for every key whose value differs."""
    keys = list(dict.fromkeys([*before, *after]))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


def audit_record(
    *,
    actor: Any,
    action: str,
    instance: models.Model,
    changes: dict[str, Any],
    context: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        content_type=ContentType.objects.get_for_model(type(instance)),
        object_id=instance.pk,
        object_repr=str(instance)[:200],
        changes=changes,
        context=context or {},
    )


def audit_created(
    instance: models.Model, *, actor: Any, extra: dict[str, Any] | None = None, context: dict[str, Any] | None = None
) -> AuditEvent:
    after = snapshot(instance, extra=extra)
    changes = {key: [None, value] for key, value in after.items() if value not in (None, "", [], {})}
    return audit_record(actor=actor, action="create", instance=instance, changes=changes, context=context)


def audit_bulk_created(instances: Iterable[models.Model], *, actor: Any, context: dict[str, Any]) -> None:
    """Audit many creations in one INSERT (imports)."""
    rows = []
    content_types: dict[type, ContentType] = {}
    for instance in instances:
        model = type(instance)
        if model not in content_types:
            content_types[model] = ContentType.objects.get_for_model(model)
        after = snapshot(instance)
        rows.append(
            AuditEvent(
                actor=actor if getattr(actor, "pk", None) else None,
                action="create",
                content_type=content_types[model],
                object_id=instance.pk,
                object_repr=str(instance)[:200],
                changes={k: [None, v] for k, v in after.items() if v not in (None, "", [], {})},
                context=context,
            )
        )
    AuditEvent.objects.bulk_create(rows, batch_size=2000)


def audit_history(instance: models.Model, limit: int = 100) -> list[AuditEvent]:
    ct = ContentType.objects.get_for_model(type(instance))
    return list(
        AuditEvent.objects.filter(content_type=ct, object_id=instance.pk)
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )
