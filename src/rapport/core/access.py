"""A user's access profile (permissions, roles, managed teams), loaded in one query per request.

Every page and endpoint asks three things of its actor before it reads a row: the model
permissions its roles grant (``has_perm``), its role names (``is_administrator``) and the teams
it manages (row scope). Django would answer them with four queries (user permissions, group
permissions, groups, teams); here one ``UNION ALL`` answers all three and the result is kept on
the user object, which lives for one request. Nothing is cached across requests, so a role
taken away is gone on the user's next request.

Invariant: after ``access_profile_load(user)``, ``user._perm_cache`` holds exactly what
``ModelBackend.get_all_permissions`` would return for an active non-superuser, and
``user._role_names`` / ``user._managed_team_ids`` what ``User.role_names`` and
``permissions.managed_team_ids`` would read.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

if TYPE_CHECKING:
    from rapport.core.models import User


@functools.cache  # the same statement for every request; built once per process
def _profile_sql() -> str:
    from rapport.core.models import Team, User

    groups_through = User.groups.through._meta.db_table
    perms_through = User.user_permissions.through._meta.db_table
    group_perms = Group.permissions.through._meta.db_table
    perm, ct = Permission._meta.db_table, ContentType._meta.db_table
    # Every branch yields (kind, a, b): 'p' (app_label, codename), 'g' (role name, ''), 't' (team id, '').
    return (
        f"SELECT 'p', ct.app_label, p.codename FROM {perm} p JOIN {ct} ct ON ct.id = p.content_type_id "
        f"WHERE p.id IN (SELECT permission_id FROM {perms_through} WHERE user_id = %s "
        f"UNION SELECT gp.permission_id FROM {group_perms} gp "
        f"JOIN {groups_through} ug ON ug.group_id = gp.group_id WHERE ug.user_id = %s) "
        f"UNION ALL SELECT 'g', g.name, '' FROM {Group._meta.db_table} g "
        f"JOIN {groups_through} ug ON ug.group_id = g.id WHERE ug.user_id = %s "
        f"UNION ALL SELECT 't', CAST(t.id AS VARCHAR(20)), '' FROM {Team._meta.db_table} t WHERE t.manager_id = %s"
    )


def access_profile_load(user: User) -> None:
    """Fill the user's permission, role and managed-team caches with one query."""
    perms: set[str] = set()
    roles: set[str] = set()
    teams: list[int] = []
    with connection.cursor() as cursor:
        cursor.execute(_profile_sql(), [user.pk] * 4)
        for kind, first, second in cursor.fetchall():
            if kind == "p":
                perms.add(f"{first}.{second}")
            elif kind == "g":
                roles.add(first)
            else:
                teams.append(int(first))
    if user.is_active and not user.is_superuser:
        user._perm_cache = perms  # type: ignore[attr-defined]
    user._role_names = roles  # type: ignore[attr-defined]
    user._managed_team_ids = sorted(teams)  # type: ignore[attr-defined]


class RoleBackend(ModelBackend):
    """Django's ModelBackend, with a user's permissions read together with roles and teams."""

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            access_profile_load(user_obj)
        return user_obj._perm_cache  # type: ignore[no-any-return]
