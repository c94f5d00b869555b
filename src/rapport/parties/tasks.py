"""Background work of the parties app. Tasks take ids and call a service (idempotent)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="rapport.parties.tasks.import_run_task")
def import_run_task(job_id: int, dry_run: bool = False) -> str:
    """Run one import job; re-running a finished job changes nothing (rows come back unchanged)."""
    from rapport.parties.imports.services import import_run

    return import_run(job_id=job_id, dry_run=dry_run).status
