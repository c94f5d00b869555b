"""Run the periodic jobs of ``CELERY_BEAT_SCHEDULE`` in this process (installs without a broker)."""

from __future__ import annotations

import time
from typing import Any

from celery import current_app as app
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run periodic jobs in-process; used by `rapport serve` when no Celery broker is configured."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="Run every job once and exit.")

    def handle(self, *args: Any, once: bool = False, **options: Any) -> None:
        app.loader.import_default_modules()
        schedule = settings.CELERY_BEAT_SCHEDULE
        due = dict.fromkeys(schedule, 0.0)
        while True:
            now = time.monotonic()
            for name, entry in schedule.items():
                if now >= due[name]:
                    try:
                        app.tasks[entry["task"]].apply()
                    except Exception as exc:  # noqa: BLE001 - one failing job must not stop the others
                        self.stderr.write(f"{name} failed: {exc}")
                    due[name] = now + float(entry["schedule"])
            if once:
                return
            time.sleep(max(1.0, min(due.values()) - time.monotonic()))
