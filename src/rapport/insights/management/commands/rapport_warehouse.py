"""``rapport warehouse build [--incremental]``: build or refresh the analytical warehouse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from rapport.insights.warehouse import warehouse_build, warehouse_info, warehouse_path


class Command(BaseCommand):
    help = "Build (or incrementally refresh) the DuckDB warehouse; `info` prints its metadata."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["build", "info"])
        parser.add_argument("--incremental", action="store_true", help="Only rows changed since the last run.")
        parser.add_argument("--path", default=None, help="Write this file instead of RAPPORT_WAREHOUSE_PATH.")

    def handle(self, *args: Any, action: str, incremental: bool, path: str | None, **options: Any) -> None:
        if action == "info":
            info = warehouse_info(path and Path(path))
            if not info:
                raise CommandError(f"no warehouse at {path or warehouse_path()}")
            for key, value in sorted(info.items()):
                self.stdout.write(f"{key}: {value}")
            return
        from rich.progress import Progress, SpinnerColumn, TextColumn

        with Progress(SpinnerColumn(), TextColumn("{task.description}"), transient=True) as bar:
            task = bar.add_task("starting", total=None)
            result = warehouse_build(
                incremental=incremental,
                path=None if path is None else Path(path),
                progress=lambda msg: bar.update(task, description=msg),
            )
        mode = "incremental refresh" if result.incremental else "full build"
        facts = ", ".join(f"{k} {v:,}" for k, v in result.facts.items())
        self.stdout.write(f"Warehouse {mode} in {result.seconds:.1f} s → {result.path} ({facts})")
