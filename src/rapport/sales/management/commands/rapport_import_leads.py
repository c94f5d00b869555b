"""``rapport import leads FILE``: leads from a CSV file; rejected rows are printed with their line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rapport.core.errors import DomainError
from rapport.parties.management.commands.rapport_import import acting_user
from rapport.sales.imports_leads import leads_import_csv


class Command(BaseCommand):
    help = "Import leads from a CSV file (header row of lead fields)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--source", default="import")
        parser.add_argument("--campaign", default="")
        parser.add_argument("--as", dest="username", default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        actor = acting_user(options["username"])
        try:
            report = leads_import_csv(actor=actor, text=path.read_text(encoding="utf-8-sig", errors="replace"),
                                      source=options["source"], campaign=options["campaign"])
        except DomainError as exc:
            raise CommandError(f"{exc.detail} {exc.field_errors or ''}".strip()) from None
        for error in report.errors:
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in error["errors"].items())
            self.stderr.write(f"line {error['line']}: {problems}")
        self.stdout.write(f"{report.created} leads imported, {len(report.errors)} rows rejected.")
