"""What every commerce service does around its own rule: validate, save, audit."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model

from rapport.core.audit import audit_created, audit_record, diff, snapshot
from rapport.core.errors import ValidationFailed, django_validation_to_field_errors
from rapport.core.versioning import versioned_save


def clean(instance: Model, what: str, *, exclude: Iterable[str] = ()) -> None:
    """``full_clean`` as a ``ValidationFailed`` (constraints too, so nothing half-written reaches the DB)."""
    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        raise ValidationFailed(
            f"The {what} is not valid.", field_errors=django_validation_to_field_errors(exc)
        ) from None


def create(
    instance: Model,
    *,
    actor: Any,
    what: str,
    exclude: Iterable[str] = (),
    context: dict | None = None,
    extra: dict[str, Any] | None = None,
) -> Model:
    """Validate, insert, and audit the creation (``extra``: values of related rows, e.g. lines)."""
    if hasattr(instance, "created_by_id") and getattr(actor, "pk", None):
        instance.created_by = actor  # type: ignore[attr-defined]
    clean(instance, what, exclude=exclude)
    instance.save()
    audit_created(instance, actor=actor, context=context, extra=extra)
    return instance


def update(
    instance: Model,
    *,
    actor: Any,
    data: dict[str, Any],
    fields: tuple[str, ...],
    expected_version: int | None,
    what: str,
) -> Model:
    """Set the allowed ``fields`` present in ``data``, validate, write if the version matches, audit."""
    before = snapshot(instance)
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValidationFailed(
            f"These fields cannot be changed here: {', '.join(unknown)}.",
            field_errors={name: ["Cannot be changed."] for name in unknown},
        )
    for name, value in data.items():
        setattr(instance, name, value)
    clean(instance, what)
    versioned_save(instance, expected_version=expected_version, fields=[*data])
    changes = diff(before, snapshot(instance))
    if changes:
        audit_record(actor=actor, action="update", instance=instance, changes=changes)
    return instance


def decimal_field_errors(errors: dict[str, list[str]], prefix: str) -> dict[str, list[str]]:
    return {f"{prefix}.{key}": value for key, value in errors.items()}
