"""Admin-defined custom fields: definitions per object type, validation of submitted values.

Values are stored in the object's ``custom`` JSON column under each definition's ``key``:
text as str, number as a decimal string (exact), date as ISO ``YYYY-MM-DD``, choice as one of
the listed values, boolean as true/false. Unknown keys are refused, so a typo never creates a
silent new field.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model

from rapport.core.choices import CustomFieldType
from rapport.core.errors import ValidationFailed
from rapport.core.models import CustomFieldDefinition

_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


def custom_field_definitions(model: type[Model]) -> list[CustomFieldDefinition]:
    ct = ContentType.objects.get_for_model(model)
    return list(CustomFieldDefinition.objects.filter(content_type=ct))


def custom_value_parse(definition: CustomFieldDefinition, raw: Any) -> Any:
    """Parse one value for ``definition``; ``None`` for empty. Raises ``ValueError`` with a message."""
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None
    kind = definition.field_type
    if kind == CustomFieldType.TEXT:
        text = str(raw).strip()
        if len(text) > 1000:
            raise ValueError("at most 1000 characters")
        return text
    if kind == CustomFieldType.NUMBER:
        if isinstance(raw, bool):
            raise ValueError("not a number")
        try:
            number = decimal.Decimal(str(raw).strip())
        except decimal.InvalidOperation:
            raise ValueError("not a number") from None
        if not number.is_finite():
            raise ValueError("not a finite number")
        return str(number)
    if kind == CustomFieldType.DATE:
        if isinstance(raw, dt.date):
            return raw.isoformat()
        try:
            return dt.date.fromisoformat(str(raw).strip()).isoformat()
        except ValueError:
            raise ValueError("not a date (use YYYY-MM-DD)") from None
    if kind == CustomFieldType.CHOICE:
        text = str(raw).strip()
        if text not in definition.choices:
            raise ValueError(f"must be one of: {', '.join(map(str, definition.choices))}")
        return text
    if kind == CustomFieldType.BOOLEAN:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError("not yes/no")
    raise ValueError(f"unknown field type {kind}")


def custom_values_clean(
    model: type[Model],
    submitted: dict[str, Any] | None,
    *,
    current: dict[str, Any] | None = None,
    partial: bool = False,
    definitions: list[CustomFieldDefinition] | None = None,
) -> dict[str, Any]:
    """Validate ``submitted`` against the type's definitions and merge into ``current``.

    With ``partial`` (PATCH), keys not submitted keep their current value. Raises
    ``ValidationFailed`` with errors keyed ``custom.<key>``.
    """
    defs = {d.key: d for d in (definitions if definitions is not None else custom_field_definitions(model))}
    submitted = submitted or {}
    result = dict(current or {}) if partial else {}
    errors: dict[str, list[str]] = {}
    for key in submitted:
        if key not in defs:
            errors[f"custom.{key}"] = [f"There is no custom field {key!r} on this object type."]
    for key, definition in defs.items():
        if key in submitted:
            try:
                value = custom_value_parse(definition, submitted[key])
            except ValueError as exc:
                errors[f"custom.{key}"] = [f"{definition.label}: {exc}."]
                continue
            if value is None:
                result.pop(key, None)
            else:
                result[key] = value
        elif not partial:
            result.pop(key, None)
        if definition.required and result.get(key) is None:
            errors.setdefault(f"custom.{key}", [f"{definition.label} is required."])
    if errors:
        raise ValidationFailed("Some custom fields are not valid.", field_errors=errors)
    return result
