"""Reads on import jobs: a user sees their own jobs; administrators see every job."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from rapport.core import permissions
from rapport.core.errors import NotFound
from rapport.core.models import User
from rapport.parties.models import ImportJob


def import_jobs(*, actor: User) -> QuerySet[ImportJob]:
    permissions.require_model_perm(actor, ImportJob, "view")
    qs = ImportJob.objects.select_related("created_by")
    return qs if actor.is_administrator else qs.filter(created_by=actor)


def import_job_get(*, actor: User, job_id: Any) -> ImportJob:
    try:
        return import_jobs(actor=actor).get(pk=job_id)
    except (ImportJob.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"Import {job_id} was not found.") from None
