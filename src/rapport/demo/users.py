"""The demo's teams and users: one user per role, all with the password ``rapport-demo``.

Idempotent: an existing user of the same username gets its password, roles and team set back
to the demo's, so ``rapport demo`` always ends with working logins. Teams and new users are
created by ``core.services``; the password is then hashed once and the hash given to every
demo user, because a memory-hard Argon2 hash costs half a second and the demo has nine users
sharing one published password.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from rapport.core.choices import Role
from rapport.core.models import Team, User
from rapport.core.roles import roles_sync
from rapport.core.services import team_create, user_create
from rapport.demo.world import DemoUsers

DEMO_PASSWORD = "rapport-demo"  # noqa: S105 - a published password for a local demo
TEAMS = ("East", "West", "Enterprise", "Service")


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    team: str | None
    first_name: str
    last_name: str
    manages: tuple[str, ...] = ()


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", Role.ADMINISTRATOR, None, "Morgan", "Reyes"),
    DemoUser("manager", Role.SALES_MANAGER, "East", "Priya", "Natarajan", manages=("East", "West", "Enterprise")),
    DemoUser("rep", Role.SALES_REP, "East", "Sam", "Becker"),
    DemoUser("rep2", Role.SALES_REP, "West", "Lucía", "Ortega"),
    DemoUser("rep3", Role.SALES_REP, "Enterprise", "Tom", "Whitaker"),
    DemoUser("marketer", Role.MARKETER, None, "Chloé", "Martin"),
    DemoUser("service_manager", Role.SERVICE_MANAGER, "Service", "Kwame", "Mensah", manages=("Service",)),
    DemoUser("agent", Role.SERVICE_AGENT, "Service", "Mia", "Schulz"),
    DemoUser("analyst", Role.ANALYST, None, "Ken", "Watanabe"),
)


def demo_users_ensure() -> DemoUsers:
    roles_sync()
    teams = {}
    for name in TEAMS:
        teams[name] = Team.objects.filter(name=name).first() or team_create(name=name)
    users: dict[str, User] = {}
    hashed = make_password(DEMO_PASSWORD)
    for spec in DEMO_USERS:
        team = teams[spec.team] if spec.team else None
        user = User.objects.filter(username=spec.username).first()
        if user is None:
            user = user_create(
                username=spec.username,
                password=None,  # type: ignore[arg-type]  # unusable (no hashing); the shared hash follows
                roles=[spec.role],
                team=team,
                email=f"{spec.username}@rapport.example",
                first_name=spec.first_name,
                last_name=spec.last_name,
                is_superuser=spec.role == Role.ADMINISTRATOR,
            )
        else:
            user.groups.set(Group.objects.filter(name=spec.role))
        user.password = hashed
        user.team = team
        user.is_active = True
        user.save(update_fields=["password", "team", "is_active"])
        users[spec.username] = user
    for spec in DEMO_USERS:
        for team_name in spec.manages:
            Team.objects.filter(pk=teams[team_name].pk).update(manager=users[spec.username])
    ids = {name: user.pk for name, user in users.items()}
    return DemoUsers(
        by_username=ids,
        team_of={user.pk: user.team_id for user in users.values()},
        teams={name: team.pk for name, team in teams.items()},
        sales_owners=(ids["rep"], ids["rep2"], ids["manager"]),
        sales_owner_weights=(0.45, 0.45, 0.10),
        enterprise_owners=(ids["rep3"], ids["manager"]),
        service_owners=(ids["agent"], ids["service_manager"], ids["marketer"]),
        everyone=tuple(ids.values()),
    )
