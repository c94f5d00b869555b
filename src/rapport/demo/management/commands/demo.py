"""``rapport demo``: load the demo data set (see ``rapport.demo.generate``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from rich.console import Console

from rapport.demo.generate import DemoOptions, demo_generate
from rapport.demo.progress import RichPhases, rich_progress
from rapport.demo.users import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Load a realistic, reproducible demo data set (accounts, contacts, timeline, orders) and the demo users."

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = DemoOptions()
        parser.add_argument("--accounts", type=int, default=defaults.accounts, help="number of accounts")
        parser.add_argument("--contacts", type=int, default=defaults.contacts, help="number of contacts")
        parser.add_argument("--interactions", type=int, default=defaults.interactions, help="number of interactions")
        parser.add_argument("--orders", type=int, default=defaults.orders, help="number of orders (with invoices)")
        parser.add_argument("--leads", type=int, default=defaults.leads, help="number of sales leads")
        parser.add_argument("--opportunities", type=int, default=defaults.opportunities,
                            help="number of opportunities (with stage history, quotes, and quotas for the reps)")
        parser.add_argument("--seed", type=int, default=defaults.seed, help="random seed (same seed, same data)")
        parser.add_argument("--reset", action="store_true", help="delete existing party and timeline data first")
        parser.add_argument(
            "--fast", action="store_true",
            help="PostgreSQL: drop indexes and foreign keys during the load, rebuild after (implied for big sizes)",
        )
        parser.add_argument(
            "--today", type=dt.date.fromisoformat, default=None,
            help="anchor date YYYY-MM-DD (default today); data lies before its midnight UTC",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for name in ("accounts", "contacts", "interactions", "orders", "leads", "opportunities"):
            if options[name] < 0:
                self.stderr.write(f"--{name} cannot be negative.")
                raise SystemExit(2)
        demo_options = DemoOptions(
            accounts=options["accounts"], contacts=options["contacts"], interactions=options["interactions"],
            orders=options["orders"], leads=options["leads"], opportunities=options["opportunities"],
            seed=options["seed"], reset=options["reset"], fast=options["fast"], today=options["today"],
        )
        console = Console(file=self.stdout._out, highlight=False)
        with rich_progress(console) as progress:
            summary = demo_generate(demo_options, RichPhases(progress))
        console.print(summary.line(), soft_wrap=True)
        console.print(
            f"Open {settings.RAPPORT_BASE_URL}/ and sign in as (password [bold]{DEMO_PASSWORD}[/bold]):", soft_wrap=True
        )
        for user in DEMO_USERS:
            team = f", team {user.team}" if user.team else ""
            console.print(f"  {user.username:<16} {user.role.label}{team}", soft_wrap=True)
