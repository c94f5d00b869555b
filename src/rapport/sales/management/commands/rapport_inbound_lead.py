"""``rapport inbound-lead < message.eml``: one lead from an RFC 822 message on stdin (e.g. from a
mail server's pipe transport or fetchmail's ``mda`` option)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rapport.core.errors import DomainError
from rapport.parties.management.commands.rapport_import import acting_user
from rapport.sales.webforms import inbound_lead


class Command(BaseCommand):
    help = "Create a lead from an email message read on standard input."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as", dest="username", default=None, help="the user the lead is created as")
        parser.add_argument("--source", default="email")
        parser.add_argument("--campaign", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        raw = sys.stdin.buffer.read()
        actor = acting_user(options["username"])
        try:
            lead = inbound_lead(raw=raw, actor=actor, source=options["source"], campaign=options["campaign"])
        except DomainError as exc:
            raise CommandError(exc.detail) from None
        self.stdout.write(f"Lead {lead.pk} created for {lead.email}, owned by {lead.owner}.")
