"""The import job's life: create (store + sniff), preview, configure, start, run.

Views, the API, the CLI and the Celery task all call these. ``import_run`` commits batch by
batch (each batch is one transaction and leaves every invariant intact), so a job stopped
half-way can simply be run again: rows already imported come back "unchanged".
"""

from __future__ import annotations

import csv
import logging
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rapport.core import permissions
from rapport.core.custom_fields import custom_field_definitions
from rapport.core.errors import Conflict, ValidationFailed
from rapport.core.models import User
from rapport.parties.choices import ImportKind, ImportMode, ImportStatus, MatchKey
from rapport.parties.export import escape_cell
from rapport.parties.imports.engine import BATCH_SIZE, AccountEngine, ContactEngine, Counts
from rapport.parties.imports.errors import ImportFileError, RowError
from rapport.parties.imports.mapping import detect_source, field_choices, mapping_validate, suggest_mapping
from rapport.parties.imports.records import CsvRecordReader
from rapport.parties.imports.rows import RowParser
from rapport.parties.imports.sniff import sniff_file
from rapport.parties.imports.vcard import VCardReader
from rapport.parties.models import Account, Contact, ImportJob

logger = logging.getLogger(__name__)
ProgressCallback = Callable[[ImportJob], None]
ERROR_HEADER = ("line", "column", "reason", "raw")


def import_dir() -> Path:
    path = Path(settings.RAPPORT_IMPORT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _require_import_perms(actor: User, kind: str) -> None:
    permissions.require_model_perm(actor, ImportJob, "add")
    permissions.require_model_perm(actor, Contact if kind == ImportKind.CONTACTS else Account, "add")


def _open_reader(job: ImportJob, stream: BinaryIO) -> CsvRecordReader | VCardReader:
    if job.file_format == "vcard":
        return VCardReader(stream, encoding=job.encoding)
    return CsvRecordReader(stream, encoding=job.encoding, delimiter=job.delimiter)


def _store(upload: IO[bytes] | None, path: str | Path | None, original_name: str) -> Path:
    suffix = Path(original_name).suffix.lower()[:10] if original_name else ""
    target = import_dir() / f"{uuid.uuid4().hex}{suffix}"
    limit = settings.RAPPORT_MAX_UPLOAD_BYTES
    source: IO[bytes] = upload if upload is not None else open(path, "rb")  # type: ignore[arg-type]  # noqa: SIM115
    try:
        with open(target, "wb") as out:
            written = 0
            for chunk in iter(lambda: source.read(1024 * 1024), b""):
                written += len(chunk)
                if written > limit:
                    raise ValidationFailed(
                        f"The file is larger than {limit // (1024 * 1024)} MB.", field_errors={"file": ["Too large."]}
                    )
                out.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    finally:
        if upload is None:
            source.close()
    return target


@transaction.atomic
def import_job_create(
    *,
    actor: User,
    kind: str,
    path: str | Path | None = None,
    upload: IO[bytes] | None = None,
    original_name: str = "",
    match_key: str = "",
    mode: str = ImportMode.UPSERT,
    mapping: dict[str, str] | None = None,
    default_owner: User | None = None,
) -> ImportJob:
    """Store the file under ``RAPPORT_IMPORT_DIR`` and detect encoding, delimiter, format, header.

    A file that cannot be imported at all (empty, binary) gives a job with status ``failed``
    and the reason in ``message``; nothing else is written. ``mapping`` defaults to the
    suggested one; an explicit one is validated.
    """
    if kind not in ImportKind.values:
        raise ValidationFailed("Unknown import kind.", field_errors={"kind": [f"Use one of {ImportKind.values}."]})
    _require_import_perms(actor, kind)
    if mode not in ImportMode.values:
        raise ValidationFailed("Unknown mode.", field_errors={"mode": [f"Use one of {ImportMode.values}."]})
    if (upload is None) == (path is None):
        raise ValidationFailed("Give a file.", field_errors={"file": ["Upload a file."]})
    original_name = original_name or (Path(path).name if path else "upload")
    stored = _store(upload, path, original_name)
    job = ImportJob(
        kind=kind,
        file_path=str(stored),
        original_name=original_name[:255],
        match_key=match_key or (MatchKey.EMAIL if kind == ImportKind.CONTACTS else MatchKey.NAME),
        mode=mode,
        created_by=actor,
        default_owner=default_owner,
    )
    try:
        sniffed = sniff_file(stored)
        job.encoding, job.delimiter, job.file_format = sniffed.encoding, sniffed.delimiter, sniffed.file_format
        with open(stored, "rb") as stream:
            reader = _open_reader(job, stream)
            headers = reader.header
        job.file_format = detect_source(headers, job.file_format)
        job.mapping = suggest_mapping(kind, headers)
    except ImportFileError as exc:
        job.status, job.message, job.finished_at = ImportStatus.FAILED, exc.detail, timezone.now()
        job.save()
        return job
    job.save()
    if mapping is not None or match_key:
        import_job_configure(actor=actor, job=job, mapping=mapping, match_key=job.match_key, mode=mode)
    return job


@dataclass(frozen=True)
class Preview:
    encoding: str
    delimiter: str
    file_format: str
    headers: list[str]
    mapping: dict[str, str]
    samples: list[list[str]]
    fields: dict[str, Any]


def import_preview(*, actor: User, job: ImportJob, rows: int = 5) -> Preview:
    """What the mapping form shows: detected format, headers, mapping, the first valid rows."""
    samples: list[list[str]] = []
    headers: list[str] = []
    if job.status != ImportStatus.FAILED or job.encoding:
        try:
            with open(job.file_path, "rb") as stream:
                reader = _open_reader(job, stream)
                headers = reader.header
                for record in reader:
                    if record.cells is not None:
                        samples.append(record.cells)
                    if len(samples) >= rows:
                        break
        except (ImportFileError, OSError):
            headers = []
    return Preview(
        encoding=job.encoding,
        delimiter=job.delimiter,
        file_format=job.file_format,
        headers=headers,
        mapping=dict(job.mapping),
        samples=samples,
        fields=field_choices(job.kind),
    )


def _headers(job: ImportJob) -> list[str]:
    with open(job.file_path, "rb") as stream:
        return _open_reader(job, stream).header


@transaction.atomic
def import_job_configure(
    *, actor: User, job: ImportJob, mapping: dict[str, str] | None, match_key: str, mode: str
) -> ImportJob:
    """Set the mapping, match key and mode (validated against the file's header)."""
    _require_import_perms(actor, job.kind)
    _require_idle(job)
    if mode not in ImportMode.values:
        raise ValidationFailed("Unknown mode.", field_errors={"mode": [f"Use one of {ImportMode.values}."]})
    try:
        headers = _headers(job)
    except ImportFileError as exc:
        raise ValidationFailed(exc.detail) from None
    job.mapping = mapping_validate(
        kind=job.kind, headers=headers, mapping=job.mapping if mapping is None else mapping, match_key=match_key
    )
    job.match_key, job.mode = match_key, mode
    job.save(update_fields=["mapping", "match_key", "mode"])
    return job


def _require_idle(job: ImportJob) -> None:
    if job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        raise Conflict("This import is already queued or running; wait for it to finish.")


@transaction.atomic
def import_job_start(*, actor: User, job: ImportJob, dry_run: bool = False) -> ImportJob:
    """Queue the job (the task runs after commit). A finished job may run again: idempotent."""
    _require_import_perms(actor, job.kind)
    _require_idle(job)
    if job.status == ImportStatus.FAILED and not job.encoding:
        raise ValidationFailed(job.message or "This file cannot be imported.")
    mapping_validate(kind=job.kind, headers=_headers(job), mapping=job.mapping, match_key=job.match_key)
    job.status, job.message = ImportStatus.QUEUED, ""
    job.save(update_fields=["status", "message"])
    from rapport.parties.tasks import import_run_task

    transaction.on_commit(lambda: import_run_task.delay(job.pk, dry_run))
    return job


def _count_lines(path: str) -> int:
    count = 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            count += chunk.count(b"\n")
    return count


class _ErrorFile:
    """The downloadable error report, written as rows are rejected (CSV: line,column,reason,raw)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._writer = csv.writer(self._handle)
        self._writer.writerow(ERROR_HEADER)

    def __call__(self, errors: list[RowError]) -> None:
        for e in errors:
            self._writer.writerow((e.line, escape_cell(e.column), escape_cell(e.reason), escape_cell(e.raw)))

    def close(self) -> None:
        self._handle.close()


def import_run(*, job_id: int, dry_run: bool = False, progress: ProgressCallback | None = None) -> ImportJob:
    """Read the whole file and import it batch by batch; the job ends ``done`` or ``failed``.

    Counts and ``processed_rows`` are saved after every batch (the progress bar). A dry run
    validates and matches every row and writes nothing but the job and its error file.
    """
    job = ImportJob.objects.select_related("created_by", "default_owner").get(pk=job_id)
    actor = job.created_by
    job.status, job.started_at, job.finished_at = ImportStatus.RUNNING, timezone.now(), None
    job.processed_rows = job.created_count = job.updated_count = job.unchanged_count = job.error_count = 0
    job.total_rows = max(0, _count_lines(job.file_path) - 1) if job.file_format != "vcard" else 0
    job.error_file = str(import_dir() / f"job-{job.pk}-errors.csv")
    job.message = ""
    job.save()
    errors = _ErrorFile(Path(job.error_file))
    try:
        if actor is None or not actor.is_active:
            raise ImportFileError("The user who uploaded this file no longer exists or is inactive.")
        _require_import_perms(actor, job.kind)
        counts = _run(job, actor, errors, dry_run=dry_run, progress=progress)
    except ValidationFailed as exc:
        errors.close()
        job.status, job.message = ImportStatus.FAILED, exc.detail
    except Exception as exc:
        errors.close()
        logger.exception("Import job %s failed", job.pk)
        job.status, job.message = ImportStatus.FAILED, f"The import stopped on an unexpected error: {exc}"
    else:
        errors.close()
        job.status = ImportStatus.DONE
        job.total_rows = counts.processed
        job.message = "Dry run: nothing was written." if dry_run else ""
    job.finished_at = timezone.now()
    job.save()
    if progress:
        progress(job)
    return job


def _run(
    job: ImportJob, actor: User, report: _ErrorFile, *, dry_run: bool, progress: ProgressCallback | None
) -> Counts:
    model = Contact if job.kind == ImportKind.CONTACTS else Account
    definitions = custom_field_definitions(model)
    owner = job.default_owner or actor
    engine_class = ContactEngine if job.kind == ImportKind.CONTACTS else AccountEngine
    engine = engine_class(
        actor=actor,
        owner=owner,
        job_id=job.pk,
        mode=job.mode,
        match_key=job.match_key,
        dry_run=dry_run,
        custom_definitions=definitions,
        report=report,
    )
    with open(job.file_path, "rb") as stream:
        reader = _open_reader(job, stream)
        mapping = mapping_validate(kind=job.kind, headers=reader.header, mapping=job.mapping, match_key=job.match_key)
        parser = RowParser(
            kind=job.kind,
            header=reader.header,
            mapping=mapping,
            match_key=job.match_key,
            custom_definitions=definitions,
        )
        counts = engine.counts
        batch = []
        for record in reader:
            counts.processed += 1
            row, row_errors = parser.parse(record)
            if row is None:
                counts.rejected += 1
                report(row_errors)
                continue
            batch.append(row)
            if len(batch) >= BATCH_SIZE:
                engine.process(batch)
                batch = []
                _save_progress(job, counts, progress)
        engine.process(batch)
        engine.finish()
    _save_progress(job, counts, progress)
    return counts


def _save_progress(job: ImportJob, counts: Counts, progress: ProgressCallback | None) -> None:
    job.processed_rows = counts.processed
    job.total_rows = max(job.total_rows, counts.processed)
    job.created_count, job.updated_count = counts.created, counts.updated
    job.unchanged_count, job.error_count = counts.unchanged, counts.rejected
    ImportJob.objects.filter(pk=job.pk).update(
        processed_rows=job.processed_rows,
        total_rows=job.total_rows,
        created_count=job.created_count,
        updated_count=job.updated_count,
        unchanged_count=job.unchanged_count,
        error_count=job.error_count,
    )
    if progress:
        progress(job)


def import_job_copy_errors(*, job: ImportJob, target: str | Path) -> None:
    if job.error_file and Path(job.error_file).exists():
        shutil.copyfile(job.error_file, target)
