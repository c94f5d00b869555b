"""``rapport dedupe [--accounts] [--auto-merge-at P] [--review-at P] [--dry-run] [--as USERNAME]``: scan for duplicates.

Contacts by default; ``--accounts`` scans accounts (companies) with the organisation matcher.

The same scan as the Celery task (``parties.identity_batch.dedupe_run``), in this process, with a
progress bar on stderr and a one-line summary on stdout.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from rapport.core.errors import DomainError
from rapport.parties.identity_batch import dedupe_run
from rapport.parties.management.commands.rapport_import import acting_user

_STAGES = {"read": "Reading records", "match": "Matching", "merge": "Merging sure duplicates",
           "queue": "Queueing pairs for review", "done": "Done"}


class Command(BaseCommand):
    help = "Find duplicate contacts (or, with --accounts, accounts): merge the sure ones, queue the doubtful ones."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--auto-merge-at", type=float, default=0.98,
                            help="merge pairs at or above this probability (default 0.98)")
        parser.add_argument("--review-at", type=float, default=0.8,
                            help="queue pairs at or above this probability for review (default 0.8)")
        parser.add_argument("--dry-run", action="store_true", help="count what would happen; change nothing")
        parser.add_argument("--accounts", action="store_true", help="scan accounts (companies) instead of contacts")
        parser.add_argument("--as", dest="username", default=None, help="the acting user (default: an administrator)")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = acting_user(options["username"])
        console = Console(file=getattr(self.stderr, "_out", sys.stderr))
        columns = [TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                   TimeElapsedColumn()]
        with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
            task = bar.add_task(_STAGES["read"], total=1.0)

            def progress(stage: str, fraction: float) -> None:
                bar.update(task, completed=fraction, description=_STAGES.get(stage, stage))

            try:
                summary = dedupe_run(
                    actor=actor,
                    auto_merge_at=options["auto_merge_at"],
                    review_at=options["review_at"],
                    dry_run=options["dry_run"],
                    progress=progress,
                    kind="account" if options["accounts"] else "contact",
                )
            except DomainError as exc:
                details = "; ".join(f"{key}: {' '.join(msgs)}" for key, msgs in exc.field_errors.items())
                raise CommandError(f"{exc.detail} {details}".strip()) from None
        for warning in summary.warnings:
            self.stderr.write(f"Warning: {warning}")
        self.stdout.write(("Dry run: " if summary.dry_run else "") + summary.line())
