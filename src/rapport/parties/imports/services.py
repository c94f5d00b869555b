"""The import job's life: create (store + sniff), preview, configure, start, run.

Views, the API, the CLI and the Celery task all call these. ``import_run`` commits batch by
batch (each batch is one transaction and leaves every invariant intact), so a job stopped
half-way can simply be run again: rows already imported come back "unchanged".
"""

from __future__ import annotations

import csv
import logging
import math
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.core import permissions
from rapport.core.custom_fields import custom_field_definitions
from rapport.core.errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from rapport.core.models import User
from rapport.parties.choices import ImportDuplicates, ImportKind, ImportMode, ImportStatus, MatchKey
from rapport.parties.export import escape_cell
from rapport.parties.imports.duplicates import DuplicateStage, SkippedRow
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
SKIP_HEADER = ("line", "contact_id", "contact", "matched_line", "probability", "raw")
DEFAULT_AUTO_MERGE_AT = 0.98  # the duplicate scan's defaults (``identity_batch.dedupe_run``)
DEFAULT_REVIEW_AT = 0.8


def import_dir() -> Path:
    path = Path(settings.RAPPORT_IMPORT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _require_import_perms(actor: User, kind: str) -> None:
    permissions.require_model_perm(actor, ImportJob, "add")
    permissions.require_model_perm(actor, Contact if kind == ImportKind.CONTACTS else Account, "add")


def _threshold(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if not math.isnan(number) and 0.0 < number <= 1.0 else None


def duplicate_options_clean(
    *, actor: User, kind: str, duplicates: Any, auto_merge_at: Any, review_at: Any
) -> tuple[str, float, float]:
    """Validate an import's duplicate options: ``(duplicates, auto_merge_at, review_at)``.

    Contact imports take any of ``ImportDuplicates``; account imports only ``off`` (there is no
    account matcher yet). Thresholds are probabilities in (0, 1] with ``review_at <= auto_merge_at``.
    Auto-merge needs the merge right (``parties.merge_contact``): ``PermissionDenied`` otherwise,
    naming the field, so a form shows it beside the choice.
    """
    errors: dict[str, list[str]] = {}
    if duplicates not in ImportDuplicates.values:
        errors["duplicates"] = [_("Use one of %(values)s.") % {"values": ", ".join(ImportDuplicates.values)}]
    elif kind != ImportKind.CONTACTS and duplicates != ImportDuplicates.OFF:
        errors["duplicates"] = [_("Duplicates are looked for in contact imports only; use “off”.")]
    auto, review = _threshold(auto_merge_at), _threshold(review_at)
    for name, raw, value in (("auto_merge_at", auto_merge_at, auto), ("review_at", review_at, review)):
        if value is None:
            errors[name] = [_("Use a probability above 0 and at most 1 (not %(value)r).") % {"value": raw}]
    if auto is not None and review is not None and review > auto:
        errors["review_at"] = [_("Review from a probability at or below the one that merges.")]
    if errors:
        raise ValidationFailed(_("The duplicate options are not valid."), field_errors=errors)
    if duplicates == ImportDuplicates.AUTO_MERGE and not actor.has_perm("parties.merge_contact"):
        message = _("Your role may not merge contacts, so this import cannot merge duplicates; choose review or skip.")
        raise PermissionDenied(message, field_errors={"duplicates": [message]})
    return duplicates, auto, review  # type: ignore[return-value]


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
    duplicates: str | None = None,
    auto_merge_at: float = DEFAULT_AUTO_MERGE_AT,
    review_at: float = DEFAULT_REVIEW_AT,
) -> ImportJob:
    """Store the file under ``RAPPORT_IMPORT_DIR`` and detect encoding, delimiter, format, header.

    A file that cannot be imported at all (empty, binary) gives a job with status ``failed``
    and the reason in ``message``; nothing else is written. ``mapping`` defaults to the
    suggested one; an explicit one is validated. ``duplicates`` defaults to ``review`` for
    contacts and ``off`` for accounts (see ``duplicate_options_clean``).
    """
    if kind not in ImportKind.values:
        raise ValidationFailed("Unknown import kind.", field_errors={"kind": [f"Use one of {ImportKind.values}."]})
    _require_import_perms(actor, kind)
    if mode not in ImportMode.values:
        raise ValidationFailed("Unknown mode.", field_errors={"mode": [f"Use one of {ImportMode.values}."]})
    if (upload is None) == (path is None):
        raise ValidationFailed("Give a file.", field_errors={"file": ["Upload a file."]})
    if duplicates is None:
        duplicates = ImportDuplicates.REVIEW if kind == ImportKind.CONTACTS else ImportDuplicates.OFF
    duplicates, auto_merge_at, review_at = duplicate_options_clean(
        actor=actor, kind=kind, duplicates=duplicates, auto_merge_at=auto_merge_at, review_at=review_at
    )
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
        duplicates=duplicates,
        auto_merge_at=auto_merge_at,
        review_at=review_at,
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
    *,
    actor: User,
    job: ImportJob,
    mapping: dict[str, str] | None,
    match_key: str,
    mode: str,
    duplicates: str | None = None,
    auto_merge_at: float | None = None,
    review_at: float | None = None,
) -> ImportJob:
    """Set the mapping, match key, mode and duplicate options (validated first; ``None`` keeps one)."""
    _require_import_perms(actor, job.kind)
    _require_idle(job)
    if mode not in ImportMode.values:
        raise ValidationFailed("Unknown mode.", field_errors={"mode": [f"Use one of {ImportMode.values}."]})
    options = duplicate_options_clean(
        actor=actor,
        kind=job.kind,
        duplicates=job.duplicates if duplicates is None else duplicates,
        auto_merge_at=job.auto_merge_at if auto_merge_at is None else auto_merge_at,
        review_at=job.review_at if review_at is None else review_at,
    )
    try:
        headers = _headers(job)
    except ImportFileError as exc:
        raise ValidationFailed(exc.detail) from None
    job.mapping = mapping_validate(
        kind=job.kind, headers=headers, mapping=job.mapping if mapping is None else mapping, match_key=match_key
    )
    job.match_key, job.mode = match_key, mode
    job.duplicates, job.auto_merge_at, job.review_at = options
    job.save(update_fields=["mapping", "match_key", "mode", "duplicates", "auto_merge_at", "review_at"])
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
    duplicate_options_clean(
        actor=actor, kind=job.kind, duplicates=job.duplicates, auto_merge_at=job.auto_merge_at, review_at=job.review_at
    )
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


class _SkipFile(_ErrorFile):
    """The downloadable skip report: rows not imported as probable duplicates, and what they matched."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._writer = csv.writer(self._handle)
        self._writer.writerow(SKIP_HEADER)

    def __call__(self, rows: list[SkippedRow]) -> None:  # type: ignore[override]
        for r in rows:
            self._writer.writerow(
                (
                    r.line,
                    r.contact_id if r.contact_id is not None else "",
                    escape_cell(r.contact),
                    r.matched_line if r.matched_line is not None else "",
                    f"{r.probability:.4f}",
                    escape_cell(r.raw[:500]),
                )
            )


class _NoFile:
    def __call__(self, rows: list[SkippedRow]) -> None:
        return None

    def close(self) -> None:
        return None


def import_run(*, job_id: int, dry_run: bool = False, progress: ProgressCallback | None = None) -> ImportJob:
    """Read the whole file and import it batch by batch; the job ends ``done`` or ``failed``.

    Counts and ``processed_rows`` are saved after every batch (the progress bar), ``stage``
    says whether the batch is being matched for duplicates or written. A dry run validates and
    matches every row and writes nothing but the job, its error file and its skip report.
    """
    job = ImportJob.objects.select_related("created_by", "default_owner").get(pk=job_id)
    actor = job.created_by
    job.status, job.started_at, job.finished_at = ImportStatus.RUNNING, timezone.now(), None
    job.processed_rows = job.created_count = job.updated_count = job.unchanged_count = job.error_count = 0
    job.merged_count = job.queued_count = job.skipped_count = 0
    job.matching_seconds, job.stage = 0.0, ""
    job.total_rows = max(0, _count_lines(job.file_path) - 1) if job.file_format != "vcard" else 0
    job.error_file = str(import_dir() / f"job-{job.pk}-errors.csv")
    skipping = job.kind == ImportKind.CONTACTS and job.duplicates == ImportDuplicates.SKIP
    job.skip_file = str(import_dir() / f"job-{job.pk}-skipped.csv") if skipping else ""
    job.message = ""
    job.save()
    errors = _ErrorFile(Path(job.error_file))
    skips: _SkipFile | _NoFile = _SkipFile(Path(job.skip_file)) if skipping else _NoFile()
    stage: DuplicateStage | None = None
    try:
        if actor is None or not actor.is_active:
            raise ImportFileError("The user who uploaded this file no longer exists or is inactive.")
        _require_import_perms(actor, job.kind)
        if job.kind == ImportKind.CONTACTS and job.duplicates != ImportDuplicates.OFF:
            # Rights are checked again: the importer's role may have changed since the job was set up.
            duplicate_options_clean(
                actor=actor,
                kind=job.kind,
                duplicates=job.duplicates,
                auto_merge_at=job.auto_merge_at,
                review_at=job.review_at,
            )
            stage = DuplicateStage(
                actor=actor,
                mode=job.duplicates,
                auto_merge_at=job.auto_merge_at,
                review_at=job.review_at,
                dry_run=dry_run,
                job_id=job.pk,
                skip_report=skips,
            )
        counts = _run(job, actor, errors, dry_run=dry_run, progress=progress, duplicates=stage)
    except DomainError as exc:
        job.status, job.message = ImportStatus.FAILED, exc.detail
    except Exception as exc:
        logger.exception("Import job %s failed", job.pk)
        job.status, job.message = ImportStatus.FAILED, f"The import stopped on an unexpected error: {exc}"
    else:
        job.status = ImportStatus.DONE
        job.total_rows = counts.processed
        notes = ["Dry run: nothing was written."] if dry_run else []
        if stage is not None and stage.warnings:
            notes += stage.warnings[:5]
            if len(stage.warnings) > 5:
                notes.append(_("… and %(n)s more warnings.") % {"n": len(stage.warnings) - 5})
        job.message = " ".join(notes)
    finally:
        errors.close()
        skips.close()
    job.stage = ""
    job.matching_seconds = stage.seconds if stage is not None else 0.0
    job.finished_at = timezone.now()
    job.save()
    if progress:
        progress(job)
    return job


def _run(
    job: ImportJob,
    actor: User,
    report: _ErrorFile,
    *,
    dry_run: bool,
    progress: ProgressCallback | None,
    duplicates: DuplicateStage | None = None,
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
        duplicates=duplicates,
        on_stage=lambda stage: _save_stage(job, stage, progress),
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


def _save_stage(job: ImportJob, stage: str, progress: ProgressCallback | None) -> None:
    job.stage = stage
    ImportJob.objects.filter(pk=job.pk).update(stage=stage)
    if progress:
        progress(job)


def _save_progress(job: ImportJob, counts: Counts, progress: ProgressCallback | None) -> None:
    job.processed_rows = counts.processed
    job.total_rows = max(job.total_rows, counts.processed)
    job.created_count, job.updated_count = counts.created, counts.updated
    job.unchanged_count, job.error_count = counts.unchanged, counts.rejected
    job.merged_count, job.queued_count, job.skipped_count = counts.merged, counts.queued, counts.skipped
    ImportJob.objects.filter(pk=job.pk).update(
        processed_rows=job.processed_rows,
        total_rows=job.total_rows,
        created_count=job.created_count,
        updated_count=job.updated_count,
        unchanged_count=job.unchanged_count,
        error_count=job.error_count,
        merged_count=job.merged_count,
        queued_count=job.queued_count,
        skipped_count=job.skipped_count,
    )
    if progress:
        progress(job)


def import_job_copy_errors(*, job: ImportJob, target: str | Path) -> None:
    if job.error_file and Path(job.error_file).exists():
        shutil.copyfile(job.error_file, target)


def import_job_copy_skipped(*, job: ImportJob, target: str | Path) -> None:
    if job.skip_file and Path(job.skip_file).exists():
        shutil.copyfile(job.skip_file, target)
