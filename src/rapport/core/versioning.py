"""Optimistic concurrency: a write names the version it read; a stale one is refused.

``versioned_save`` issues ``UPDATE ... WHERE id = %s AND version = %s``. The database decides
atomically, so two writers holding the same version cannot both succeed, on SQLite or
PostgreSQL, with or without row locks.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.utils import timezone

from rapport.core.errors import Conflict


def versioned_save(
    instance: models.Model,
    *,
    expected_version: int | None,
    fields: Iterable[str],
) -> None:
    """Write ``fields`` of ``instance`` if its stored version is ``expected_version``.

    ``expected_version=None`` means "the version loaded with the instance" (a service that
    loaded and changed the row in one transaction). On success ``instance.version`` grows by 1.
    """
    model = type(instance)
    current = instance.version if expected_version is None else expected_version
    now = timezone.now()
    values = {}
    for name in fields:
        field = model._meta.get_field(name)
        values[field.attname] = getattr(instance, field.attname)
    updated = model._default_manager.filter(pk=instance.pk, version=current).update(
        **values, version=current + 1, updated_at=now
    )
    if updated == 0:
        stored = model._default_manager.filter(pk=instance.pk).values_list("version", flat=True).first()
        raise Conflict(
            f"This {model._meta.verbose_name} was changed since version {current} "
            f"(it is now at version {stored}). Reload it and apply your change again.",
            current_version=stored,
        )
    instance.version = current + 1
    instance.updated_at = now
