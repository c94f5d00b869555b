"""Background work of the parties app. Tasks take ids and call a service (idempotent)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="rapport.parties.tasks.import_run_task")
def import_run_task(job_id: int, dry_run: bool = False) -> str:
    """Run one import job; re-running a finished job changes nothing (rows come back unchanged)."""
    from rapport.parties.imports.services import import_run

    return import_run(job_id=job_id, dry_run=dry_run).status


@shared_task(name="rapport.parties.tasks.dedupe_run_task")
def dedupe_run_task(actor_id: int, auto_merge_at: float = 0.98, review_at: float = 0.8, kind: str = "contact") -> dict:
    """Scan for duplicate contacts (or accounts) as ``actor_id``; re-running changes nothing already decided."""
    from dataclasses import asdict

    from rapport.core.models import User
    from rapport.parties.identity_batch import dedupe_run

    actor = User.objects.get(pk=actor_id, is_active=True)
    summary = dedupe_run(actor=actor, auto_merge_at=auto_merge_at, review_at=review_at, kind=kind)
    return {**asdict(summary), "warnings": list(summary.warnings)}
