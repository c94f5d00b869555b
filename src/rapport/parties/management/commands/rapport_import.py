"""``rapport import contacts|accounts FILE``: the same import as the UI, run in this process."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from rapport.core.choices import Role
from rapport.core.errors import DomainError
from rapport.core.models import User
from rapport.parties.choices import ImportDuplicates, ImportKind, ImportMode, ImportStatus, MatchKey
from rapport.parties.imports.services import (
    DEFAULT_AUTO_MERGE_AT,
    DEFAULT_REVIEW_AT,
    import_job_configure,
    import_job_copy_errors,
    import_job_copy_skipped,
    import_job_create,
    import_run,
)
from rapport.parties.models import ImportJob


def acting_user(username: str | None) -> User:
    """``--as USERNAME``, or the first administrator."""
    if username:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"There is no active user {username!r}.")
        return user
    admin = (
        User.objects.filter(Q(is_superuser=True) | Q(groups__name=Role.ADMINISTRATOR), is_active=True)
        .order_by("id")
        .first()
    )
    if admin is None:
        raise CommandError("There is no administrator; name the importing user with --as USERNAME.")
    return admin


class Command(BaseCommand):
    help = "Import contacts or accounts from a CSV or vCard file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("file")
        parser.add_argument("--match-key", choices=MatchKey.values, default="")
        parser.add_argument("--mode", choices=ImportMode.values, default=ImportMode.UPSERT)
        parser.add_argument("--map", action="append", default=[], metavar="'File Column=field'")
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--as", dest="username", default=None)
        parser.add_argument("--errors", default=None, help="write the rejected rows (CSV) to this path")
        parser.add_argument(
            "--duplicates",
            choices=ImportDuplicates.values,
            default=None,
            help="contacts: what to do with rows that probably duplicate a contact or another row "
            "(default review; accounts: off)",
        )
        parser.add_argument("--auto-merge-at", type=float, default=DEFAULT_AUTO_MERGE_AT,
                            help=f"auto_merge: merge pairs from this probability (default {DEFAULT_AUTO_MERGE_AT})")
        parser.add_argument("--review-at", type=float, default=DEFAULT_REVIEW_AT,
                            help=f"queue (or skip) pairs at or above this probability (default {DEFAULT_REVIEW_AT})")
        parser.add_argument("--skipped", default=None, help="write the rows skipped as duplicates (CSV) to this path")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = acting_user(options["username"])
        mapping = None
        if options["map"]:
            mapping = {}
            for item in options["map"]:
                column, sep, field = item.rpartition("=")
                if not sep:
                    raise CommandError(f"--map takes 'File Column=field', not {item!r}.")
                mapping[column.strip()] = field.strip()
        try:
            job = import_job_create(
                actor=actor,
                kind=options["kind"],
                path=options["file"],
                mode=options["mode"],
                duplicates=options["duplicates"],
                auto_merge_at=options["auto_merge_at"],
                review_at=options["review_at"],
            )
            if job.status == ImportStatus.FAILED:
                raise CommandError(job.message)
            if mapping is not None:
                # Columns not named keep the suggested field.
                mapping = {**job.mapping, **mapping}
            import_job_configure(
                actor=actor,
                job=job,
                mapping=mapping,
                match_key=options["match_key"] or job.match_key,
                mode=options["mode"],
            )
            job = self._run(job, dry_run=options["dry_run"])
        except FileNotFoundError as exc:
            raise CommandError(f"No such file: {exc.filename}") from None
        except DomainError as exc:
            details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.field_errors.items())
            raise CommandError(f"{exc.detail} {details}".strip()) from None
        if options["errors"] and job.error_file:
            import_job_copy_errors(job=job, target=options["errors"])
        if options["skipped"] and job.skip_file:
            import_job_copy_skipped(job=job, target=options["skipped"])
        if job.status == ImportStatus.FAILED:
            raise CommandError(job.message)
        where = options["errors"] or job.error_file
        prefix = "Dry run — " if options["dry_run"] else ""
        rejected = f"{job.error_count:,} rejected" + (f" (errors in {where})" if job.error_count else "")
        duplicates = ""
        if job.kind == ImportKind.CONTACTS and job.duplicates != ImportDuplicates.OFF:
            skipped_where = options["skipped"] or job.skip_file
            duplicates = (
                f"; duplicates: {job.merged_count:,} merged, {job.queued_count:,} pairs queued for review, "
                f"{job.skipped_count:,} skipped" + (f" (in {skipped_where})" if job.skipped_count else "")
                + f" [{job.matching_seconds:.1f} s matching]"
            )
        self.stdout.write(
            f"{prefix}{job.processed_rows:,} rows: {job.created_count:,} created, {job.updated_count:,} updated, "
            f"{job.unchanged_count:,} unchanged, {rejected}{duplicates}"
        )
        if job.message and not options["dry_run"]:
            self.stderr.write(job.message)

    def _run(self, job: ImportJob, *, dry_run: bool) -> ImportJob:
        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
        with Progress(*columns, transient=True, disable=not self.stdout.isatty()) as bar:
            task = bar.add_task(f"Importing {job.original_name}", total=None)

            def progress(current: ImportJob) -> None:
                description = f"Matching {job.original_name}" if current.stage == "matching" else \
                    f"Importing {job.original_name}"
                bar.update(task, completed=current.processed_rows, total=current.total_rows or None,
                           description=description)

            return import_run(job_id=job.pk, dry_run=dry_run, progress=progress)
