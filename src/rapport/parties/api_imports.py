"""REST API of imports and exports.

``POST /imports`` stores the file and answers 202 with the job; unless ``start`` is false the
job is queued at once (``dry_run`` for a validation-only pass). ``duplicates`` (contacts:
``auto_merge``, ``review`` — the default —, ``skip`` or ``off``) with ``auto_merge_at`` and
``review_at`` says what to do with rows that probably duplicate a contact. Clients poll
``GET /imports/{id}`` and download ``/imports/{id}/errors`` and ``/imports/{id}/skipped``. Exports stream the list the
caller may read, with the list's filters.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from django.urls import reverse
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from rapport.core.errors import NotFound, ValidationFailed
from rapport.parties.choices import ImportMode
from rapport.parties.export import export_stream
from rapport.parties.imports.selectors import import_job_get, import_jobs
from rapport.parties.imports.services import (
    DEFAULT_AUTO_MERGE_AT,
    DEFAULT_REVIEW_AT,
    import_job_configure,
    import_job_create,
    import_job_start,
)
from rapport.parties.models import ImportJob

router = Router(tags=["imports and exports"])


class ImportJobOut(Schema):
    id: int
    kind: str
    status: str
    original_name: str
    file_format: str
    encoding: str
    delimiter: str
    match_key: str
    mode: str
    mapping: dict[str, str]
    total_rows: int
    processed_rows: int
    progress_percent: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    duplicates: str
    auto_merge_at: float
    review_at: float
    merged: int
    queued: int
    skipped: int
    stage: str
    matching_seconds: float
    message: str
    created_at: str
    started_at: str | None
    finished_at: str | None
    links: dict[str, str]


class ImportListOut(Schema):
    items: list[ImportJobOut]


class StartIn(Schema):
    dry_run: bool = False
    mapping: dict[str, str] | None = None
    match_key: str | None = None
    mode: str | None = None
    duplicates: str | None = None
    auto_merge_at: float | None = None
    review_at: float | None = None


class ExportQuery(Schema):
    format: str = "csv"
    q: str = ""
    lifecycle_stage: str = ""
    owner_id: int | None = None
    team_id: int | None = None
    account_id: int | None = None
    tag: str = ""
    source: str = ""
    industry: str = ""
    tier: str = ""
    size: str = ""
    domain: str = ""


def job_out(job: ImportJob) -> dict[str, Any]:
    base = reverse("api:imports_get", kwargs={"job_id": job.pk})
    links = {"self": base, "start": base + "/start"}
    if job.error_file and job.error_count:
        links["errors"] = base + "/errors"
    if job.skip_file and job.skipped_count:
        links["skipped"] = base + "/skipped"
    if job.queued_count:
        # The review queue (API and page); the identity router names no URL of its own.
        links["duplicates"] = reverse("api:imports_list").rsplit("/", 1)[0] + "/duplicates"
        links["duplicates_page"] = reverse("duplicate_queue")
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "original_name": job.original_name,
        "file_format": job.file_format,
        "encoding": job.encoding,
        "delimiter": job.delimiter,
        "match_key": job.match_key,
        "mode": job.mode,
        "mapping": job.mapping,
        "total_rows": job.total_rows,
        "processed_rows": job.processed_rows,
        "progress_percent": job.progress_percent,
        "created": job.created_count,
        "updated": job.updated_count,
        "unchanged": job.unchanged_count,
        "rejected": job.error_count,
        "duplicates": job.duplicates,
        "auto_merge_at": job.auto_merge_at,
        "review_at": job.review_at,
        "merged": job.merged_count,
        "queued": job.queued_count,
        "skipped": job.skipped_count,
        "stage": job.stage,
        "matching_seconds": round(job.matching_seconds, 3),
        "message": job.message,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "links": links,
    }


def _mapping(raw: str) -> dict[str, str] | None:
    if not raw.strip():
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise ValidationFailed("mapping is not JSON.", field_errors={"mapping": ["Send a JSON object."]}) from None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValidationFailed(
            "mapping must map column names to field names.", field_errors={"mapping": ['{"Column": "field"}']}
        )
    return value


@router.post("/imports", response={202: ImportJobOut}, url_name="imports_create")
def imports_create(
    request: HttpRequest,
    file: File[UploadedFile],
    kind: Form[str],
    match_key: Form[str] = "",
    mode: Form[str] = ImportMode.UPSERT,
    mapping: Form[str] = "",
    dry_run: Form[bool] = False,
    start: Form[bool] = True,
    duplicates: Form[str] = "",
    auto_merge_at: Form[float] = DEFAULT_AUTO_MERGE_AT,
    review_at: Form[float] = DEFAULT_REVIEW_AT,
) -> Status:
    job = import_job_create(
        actor=request.user,  # type: ignore[arg-type]
        kind=kind,
        upload=file,
        original_name=file.name or "upload",
        match_key=match_key,
        mode=mode,
        mapping=_mapping(mapping),
        duplicates=duplicates or None,
        auto_merge_at=auto_merge_at,
        review_at=review_at,
    )
    if start and job.encoding:
        job = import_job_start(actor=request.user, job=job, dry_run=dry_run)  # type: ignore[arg-type]
        job.refresh_from_db()
    return Status(202, job_out(job))


@router.get("/imports", response=ImportListOut, url_name="imports_list")
def imports_list(request: HttpRequest) -> dict[str, Any]:
    jobs = import_jobs(actor=request.user)[:100]  # type: ignore[arg-type]
    return {"items": [job_out(job) for job in jobs]}


@router.get("/imports/{job_id}", response=ImportJobOut, url_name="imports_get")
def imports_get(request: HttpRequest, job_id: int) -> dict[str, Any]:
    return job_out(import_job_get(actor=request.user, job_id=job_id))  # type: ignore[arg-type]


@router.post("/imports/{job_id}/start", response={202: ImportJobOut}, url_name="imports_start")
def imports_start(request: HttpRequest, job_id: int, payload: StartIn | None = None) -> Status:
    actor = request.user
    job = import_job_get(actor=actor, job_id=job_id)  # type: ignore[arg-type]
    payload = payload or StartIn()
    options = (payload.duplicates, payload.auto_merge_at, payload.review_at)
    if payload.mapping is not None or payload.match_key or payload.mode or any(o is not None for o in options):
        import_job_configure(
            actor=actor,  # type: ignore[arg-type]
            job=job,
            mapping=payload.mapping,
            match_key=payload.match_key or job.match_key,
            mode=payload.mode or job.mode,
            duplicates=payload.duplicates,
            auto_merge_at=payload.auto_merge_at,
            review_at=payload.review_at,
        )
    import_job_start(actor=actor, job=job, dry_run=payload.dry_run)  # type: ignore[arg-type]
    job.refresh_from_db()
    return Status(202, job_out(job))


@router.get("/imports/{job_id}/errors", url_name="imports_errors")
def imports_errors(request: HttpRequest, job_id: int) -> FileResponse:
    job = import_job_get(actor=request.user, job_id=job_id)  # type: ignore[arg-type]
    if not job.error_file or not Path(job.error_file).exists():
        raise NotFound("This import has no error file (it has not run yet).")
    return FileResponse(
        open(job.error_file, "rb"),  # noqa: SIM115  (FileResponse closes it)
        as_attachment=True,
        filename=f"import-{job.pk}-errors.csv",
        content_type="text/csv; charset=utf-8",
    )


@router.get("/imports/{job_id}/skipped", url_name="imports_skipped")
def imports_skipped(request: HttpRequest, job_id: int) -> FileResponse:
    """The rows skipped as probable duplicates: line, the contact (or line) matched, probability, raw row."""
    job = import_job_get(actor=request.user, job_id=job_id)  # type: ignore[arg-type]
    if not job.skip_file or not Path(job.skip_file).exists():
        raise NotFound("This import has no skip report (it skips no duplicates, or has not run yet).")
    return FileResponse(
        open(job.skip_file, "rb"),  # noqa: SIM115  (FileResponse closes it)
        as_attachment=True,
        filename=f"import-{job.pk}-skipped.csv",
        content_type="text/csv; charset=utf-8",
    )


def _export(request: HttpRequest, kind: str, query: ExportQuery) -> StreamingHttpResponse:
    params = {k: v for k, v in query.dict().items() if v not in (None, "") and k != "format"}
    export = export_stream(actor=request.user, kind=kind, fmt=query.format, params=params)  # type: ignore[arg-type]
    response = StreamingHttpResponse(export.chunks, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response


@router.get("/exports/contacts", url_name="exports_contacts")
def exports_contacts(request: HttpRequest, query: Query[ExportQuery]) -> StreamingHttpResponse:
    return _export(request, "contacts", query)


@router.get("/exports/accounts", url_name="exports_accounts")
def exports_accounts(request: HttpRequest, query: Query[ExportQuery]) -> StreamingHttpResponse:
    return _export(request, "accounts", query)
