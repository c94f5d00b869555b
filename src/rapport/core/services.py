"""Writes on users and teams (the admin, the CLI and the demo call these)."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction

from rapport.core.choices import Role
from rapport.core.errors import ValidationFailed, django_validation_to_field_errors
from rapport.core.models import Team, User


@transaction.atomic
def team_create(*, name: str, manager: User | None = None) -> Team:
    team = Team(name=name, manager=manager)
    try:
        team.full_clean()
    except ValidationError as exc:
        raise ValidationFailed("The team is not valid.", field_errors=django_validation_to_field_errors(exc)) from None
    team.save()
    if manager is not None and manager.team_id is None:
        manager.team = team
        manager.save(update_fields=["team"])
    return team


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    roles: Iterable[str] = (),
    team: Team | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    is_superuser: bool = False,
) -> User:
    """Create a user with roles (group names from ``Role``)."""
    roles = list(roles)
    unknown = [r for r in roles if r not in Role.values]
    if unknown:
        raise ValidationFailed("Unknown role.", field_errors={"roles": [f"Not a role: {', '.join(unknown)}"]})
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        team=team,
        is_superuser=is_superuser,
        is_staff=is_superuser or Role.ADMINISTRATOR in roles,
    )
    user.set_password(password)
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        raise ValidationFailed("The user is not valid.", field_errors=django_validation_to_field_errors(exc)) from None
    user.save()
    if roles:
        user.groups.set(Group.objects.filter(name__in=roles))
    return user
