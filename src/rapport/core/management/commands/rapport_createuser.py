"""``rapport createuser USERNAME --role ROLE [--team NAME] [--email E]``: add a user from the shell."""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from rapport.core.choices import Role
from rapport.core.errors import ValidationFailed
from rapport.core.models import Team
from rapport.core.services import team_create, user_create


class Command(BaseCommand):
    help = "Create a user with a role (and a team, created if new). The password is asked for."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", action="append", choices=Role.values, required=True)
        parser.add_argument("--team", default="")
        parser.add_argument("--email", default="")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--manager", action="store_true", help="Make the user the manager of --team")

    def handle(self, *args: Any, **opts: Any) -> None:
        password = os.environ.get("RAPPORT_PASSWORD") or getpass.getpass("Password: ")
        team = None
        if opts["team"]:
            team = Team.objects.filter(name=opts["team"]).first() or team_create(name=opts["team"])
        try:
            user = user_create(
                username=opts["username"],
                password=password,
                roles=opts["role"],
                team=team,
                email=opts["email"],
                first_name=opts["first_name"],
                last_name=opts["last_name"],
            )
        except ValidationFailed as exc:
            raise CommandError(f"{exc.detail} {exc.field_errors}") from None
        if team is not None and opts["manager"]:
            team.manager = user
            team.save(update_fields=["manager"])
        self.stdout.write(
            f"Created {user.username} ({', '.join(opts['role'])}{', team ' + team.name if team else ''})."
        )
