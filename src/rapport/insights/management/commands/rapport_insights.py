"""``rapport insights score [--no-alerts]``: score every customer of the warehouse (insights.scoring)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from rapport.core.errors import DomainError


class Command(BaseCommand):
    help = "Score every customer from the warehouse (RFM, tier, clusters, CLV, churn) and raise churn alerts."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["score"])
        parser.add_argument("--no-alerts", action="store_true", help="Store the scores but raise no churn alert.")
        parser.add_argument("--path", default=None, help="Read this warehouse file instead of RAPPORT_WAREHOUSE_PATH.")

    def handle(self, *args: Any, action: str, no_alerts: bool, path: str | None, **options: Any) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn

        from rapport.insights.scoring import customers_score

        try:
            with Progress(SpinnerColumn(), TextColumn("{task.description}"), transient=True) as bar:
                task = bar.add_task("starting", total=None)
                result = customers_score(path=None if path is None else Path(path), raise_alerts=not no_alerts,
                                         progress=lambda msg: bar.update(task, description=msg))
        except DomainError as exc:
            raise CommandError(exc.detail) from None
        for reason in result.notes.get("fallbacks", []):
            self.stderr.write(f"note: {reason}")
        self.stdout.write(f"Scored {result.customers:,} customers in {result.seconds:.1f} s; "
                          f"{result.alerts:,} churn alerts raised (run {result.run_id}).")
