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


def version_check(instance: models.Model, expected_version: int | None) -> None:
    """Refuse to act on a row whose version is not the one the caller saw (``None``: no check).

    For writes that do not go through :func:`versioned_save` (a delete), or that must refuse a
    stale version before deciding there is nothing to write (a move to the stage a deal is in).
    """
    current = instance.version  # type: ignore[attr-defined]
    if expected_version is not None and expected_version != current:
        raise Conflict(
            f"This {instance._meta.verbose_name} was changed since version {expected_version} "
            f"(it is now at version {current}). Reload it and apply your change again.",
            current_version=current,
        )


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
