"""Writes a user makes on their own things: profile and preferences, saved list views.

The settings page and the list pages call these; nothing else writes these rows.
"""

from __future__ import annotations

import zoneinfo
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Model, Q

from rapport.core.errors import NotFound, ValidationFailed
from rapport.core.models import SavedView, User

PROFILE_FIELDS = ("first_name", "last_name", "email", "language", "time_zone", "email_notifications")


@lru_cache(maxsize=1)
def time_zone_names() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


@transaction.atomic
def user_profile_update(*, actor: User, data: dict[str, Any]) -> User:
    """Change the actor's own name, email, language, time zone and email preference.

    Only the keys present in ``data`` change. Raises ``ValidationFailed`` with every field
    error at once; nothing is written then.
    """
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name in ("first_name", "last_name"):
        if name in data:
            text = str(data[name] or "").strip()
            if len(text) > 150:
                errors[name] = ["At most 150 characters."]
            values[name] = text
    if "email" in data:
        email = str(data["email"] or "").strip().lower()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                errors["email"] = ["Enter a valid email address."]
        values["email"] = email
    if "language" in data:
        language = str(data["language"] or "")
        if language and language not in language_codes():
            errors["language"] = [f"Use one of {', '.join(language_codes())}."]
        values["language"] = language
    if "time_zone" in data:
        zone = str(data["time_zone"] or "")
        if zone and zone not in time_zone_names():
            errors["time_zone"] = ["Not a known time zone."]
        values["time_zone"] = zone
    if "email_notifications" in data:
        values["email_notifications"] = bool(data["email_notifications"])
    if errors:
        raise ValidationFailed("The profile is not valid.", field_errors=errors)
    for name, value in values.items():
        setattr(actor, name, value)
    if values:
        actor.save(update_fields=list(values))
    return actor


# --- saved views ------------------------------------------------------------------------------


def saved_views_for(*, actor: User, model: type[Model]) -> list[SavedView]:
    """The actor's own saved views of ``model``'s list plus everyone's shared ones."""
    ct = ContentType.objects.get_for_model(model)
    return list(
        SavedView.objects.filter(Q(user=actor) | Q(is_shared=True), content_type=ct)
        .select_related("user")
        .order_by("name", "id")
    )


@transaction.atomic
def saved_view_create(*, actor: User, model: type[Model], name: str, query: str, is_shared: bool = False) -> SavedView:
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Name the view."]
    elif len(name) > 100:
        errors["name"] = ["At most 100 characters."]
    query = (query or "").lstrip("?")
    if len(query) > 2000:
        errors["query"] = ["The filter is too long to save."]
    if errors:
        raise ValidationFailed("The saved view is not valid.", field_errors=errors)
    return SavedView.objects.create(
        user=actor,
        content_type=ContentType.objects.get_for_model(model),
        name=name,
        query=query,
        is_shared=bool(is_shared),
    )


@transaction.atomic
def saved_view_delete(*, actor: User, saved_view_id: Any) -> None:
    """Delete one of the actor's own saved views (others' shared views are not theirs to delete)."""
    try:
        view = SavedView.objects.get(pk=int(saved_view_id), user=actor)
    except (SavedView.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"Saved view {saved_view_id} was not found.") from None
    view.delete()
