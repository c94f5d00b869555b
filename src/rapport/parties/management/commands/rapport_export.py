"""``rapport export contacts|accounts --format csv|vcard|parquet --output PATH``."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.progress import Progress, SpinnerColumn, TextColumn

from rapport.core.errors import DomainError
from rapport.parties.export import FORMATS, export_stream
from rapport.parties.management.commands.rapport_import import acting_user


class Command(BaseCommand):
    help = "Export contacts or accounts (what the user may read) to CSV, vCard or Parquet."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=("contacts", "accounts"))
        parser.add_argument("--format", choices=FORMATS, default="csv")
        parser.add_argument("--output", default="-", help="file path, or - for standard output")
        parser.add_argument("--as", dest="username", default=None)
        parser.add_argument("--filter", action="append", default=[], metavar="name=value")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = acting_user(options["username"])
        params = dict(item.split("=", 1) for item in options["filter"] if "=" in item)
        try:
            export = export_stream(actor=actor, kind=options["kind"], fmt=options["format"], params=params)
            out = sys.stdout.buffer if options["output"] == "-" else open(options["output"], "wb")  # noqa: SIM115
            written = 0
            with Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                transient=True,
                disable=options["output"] == "-" or not sys.stderr.isatty(),
            ) as bar:
                task = bar.add_task("Exporting", total=None)
                for chunk in export.chunks:
                    out.write(chunk)
                    written += len(chunk)
                    bar.update(task, description=f"Exporting: {written:,} bytes")
            if out is not sys.stdout.buffer:
                out.close()
        except DomainError as exc:
            raise CommandError(exc.detail) from None
        except OSError as exc:
            raise CommandError(f"Cannot write {options['output']}: {exc.strerror}") from None
        if options["output"] != "-":
            self.stderr.write(f"Exported {options['kind']} to {options['output']} ({written:,} bytes).")
