"""The access profile: permissions, roles and managed teams read together, once per user object."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group

from rapport.core.choices import Role
from rapport.core.models import User
from rapport.core.permissions import managed_team_ids


def test_one_query_answers_permissions_roles_and_managed_teams(manager, team_a, django_assert_num_queries) -> None:
    user = User.objects.get(pk=manager.pk)
    with django_assert_num_queries(1):
        assert user.has_perm("parties.view_contact")
        assert not user.has_perm("core.delete_team")
        assert user.role_names == {Role.SALES_MANAGER}
        assert not user.is_administrator
        assert managed_team_ids(user) == [team_a.pk]


def test_the_profile_grants_exactly_what_djangos_model_backend_grants(manager, analyst, admin_user) -> None:
    for someone in (manager, analyst, admin_user):
        ours = User.objects.get(pk=someone.pk).get_all_permissions()
        djangos = ModelBackend().get_all_permissions(User.objects.get(pk=someone.pk))
        assert ours == djangos and ours


def test_a_role_taken_away_is_gone_on_the_next_request(rep) -> None:
    assert User.objects.get(pk=rep.pk).has_perm("parties.add_contact")
    rep.groups.remove(Group.objects.get(name=Role.SALES_REP))
    fresh = User.objects.get(pk=rep.pk)  # each request loads its user anew
    assert not fresh.has_perm("parties.add_contact")
    assert fresh.role_names == set()
