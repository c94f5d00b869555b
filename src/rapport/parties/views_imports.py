"""Import and export pages: upload, mapping preview, dry run, progress (htmx polling), downloads.

Every view calls the import services/selectors; access is decided there (``core.permissions``)
and a ``DomainError`` becomes a message beside the form, a 403 or a 404.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseForbidden, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapport.core.errors import DomainError, NotFound, PermissionDenied
from rapport.parties.choices import ImportDuplicates, ImportKind, ImportMode, ImportStatus, MatchKey
from rapport.parties.export import FORMATS, export_stream
from rapport.parties.imports.mapping import ACCOUNT_MATCH_KEYS, CONTACT_MATCH_KEYS
from rapport.parties.imports.selectors import import_job_get, import_jobs
from rapport.parties.imports.services import (
    import_job_configure,
    import_job_create,
    import_job_start,
    import_preview,
)
from rapport.parties.models import ImportJob


def _forbidden(exc: DomainError) -> HttpResponse:
    return HttpResponseForbidden(exc.detail)


@login_required
@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    try:
        jobs = list(import_jobs(actor=request.user)[:50])  # type: ignore[arg-type]
    except PermissionDenied as exc:
        return _forbidden(exc)
    return render(request, "parties/imports/list.html", {"jobs": jobs, "kinds": ImportKind.choices})


@login_required
@require_POST
def import_new(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    kind = request.POST.get("kind", ImportKind.CONTACTS)
    if upload is None:
        messages.error(request, _("Choose a file to upload."))
        return redirect("import_list")
    try:
        job = import_job_create(actor=request.user, kind=kind, upload=upload, original_name=upload.name or "")  # type: ignore[arg-type]
    except PermissionDenied as exc:
        return _forbidden(exc)
    except DomainError as exc:
        messages.error(request, exc.detail)
        return redirect("import_list")
    return redirect("import_detail", job_id=job.pk)


def _job(request: HttpRequest, job_id: int) -> ImportJob:
    try:
        return import_job_get(actor=request.user, job_id=job_id)  # type: ignore[arg-type]
    except NotFound:
        raise Http404 from None


@login_required
@require_http_methods(["GET", "POST"])
def import_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    try:
        job = _job(request, job_id)
    except PermissionDenied as exc:
        return _forbidden(exc)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        preview = import_preview(actor=request.user, job=job)  # type: ignore[arg-type]
        mapping = {header: request.POST.get(f"map_{i}", "") for i, header in enumerate(preview.headers)}
        try:
            import_job_configure(
                actor=request.user,  # type: ignore[arg-type]
                job=job,
                mapping=mapping,
                match_key=request.POST.get("match_key", job.match_key),
                mode=request.POST.get("mode", job.mode),
                duplicates=request.POST.get("duplicates") or None,
                auto_merge_at=request.POST.get("auto_merge_at") or None,  # type: ignore[arg-type]
                review_at=request.POST.get("review_at") or None,  # type: ignore[arg-type]
            )
            import_job_start(actor=request.user, job=job, dry_run=request.POST.get("action") == "dry_run")  # type: ignore[arg-type]
            return redirect("import_detail", job_id=job.pk)
        except PermissionDenied as exc:
            if not exc.field_errors:
                return _forbidden(exc)
            errors = exc.field_errors  # a choice this user may not make (auto-merge): beside the field
            job.refresh_from_db()
        except DomainError as exc:
            errors = exc.field_errors or {"__all__": [exc.detail]}
            job.refresh_from_db()
    active = job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)
    context = {"job": job, "active": active}
    if request.htmx and request.GET.get("partial"):  # type: ignore[attr-defined]
        return render(request, "parties/imports/partials/progress.html", context)
    preview = import_preview(actor=request.user, job=job)  # type: ignore[arg-type]
    keys = CONTACT_MATCH_KEYS if job.kind == ImportKind.CONTACTS else ACCOUNT_MATCH_KEYS
    context.update(
        preview=preview,
        columns=[
            {"index": i, "name": h, "field": preview.mapping.get(h, ""), "samples": [r[i] for r in preview.samples]}
            for i, h in enumerate(preview.headers)
        ],
        fields=sorted(((k, str(v)) for k, v in preview.fields.items()), key=lambda kv: kv[1]),
        match_keys=[(k.value, k.label) for k in MatchKey if k in keys],
        modes=ImportMode.choices,
        # What the form shows: the values just sent when they were refused (nothing typed is lost).
        duplicate_values={
            "duplicates": request.POST.get("duplicates", job.duplicates) if errors else job.duplicates,
            "review_at": request.POST.get("review_at", "") if errors else f"{job.review_at:g}",
            "auto_merge_at": request.POST.get("auto_merge_at", "") if errors else f"{job.auto_merge_at:g}",
        },
        duplicate_choices=[
            (value, label)
            for value, label in ImportDuplicates.choices
            if value != ImportDuplicates.AUTO_MERGE or request.user.has_perm("parties.merge_contact")
        ],
        errors=errors,
        can_start=bool(job.encoding) and not active,
    )
    return render(request, "parties/imports/detail.html", context)


@login_required
@require_GET
def import_errors(request: HttpRequest, job_id: int) -> HttpResponse:
    try:
        job = _job(request, job_id)
    except PermissionDenied as exc:
        return _forbidden(exc)
    if not job.error_file or not Path(job.error_file).exists():
        raise Http404
    return FileResponse(
        open(job.error_file, "rb"),  # noqa: SIM115  (FileResponse closes it)
        as_attachment=True,
        filename=f"import-{job.pk}-errors.csv",
        content_type="text/csv; charset=utf-8",
    )


@login_required
@require_GET
def import_skipped(request: HttpRequest, job_id: int) -> HttpResponse:
    try:
        job = _job(request, job_id)
    except PermissionDenied as exc:
        return _forbidden(exc)
    if not job.skip_file or not Path(job.skip_file).exists():
        raise Http404
    return FileResponse(
        open(job.skip_file, "rb"),  # noqa: SIM115  (FileResponse closes it)
        as_attachment=True,
        filename=f"import-{job.pk}-skipped.csv",
        content_type="text/csv; charset=utf-8",
    )


def _export(request: HttpRequest, kind: str) -> HttpResponse:
    fmt = request.GET.get("format", "csv")
    if fmt not in FORMATS:
        fmt = "csv"
    try:
        export = export_stream(actor=request.user, kind=kind, fmt=fmt, params=request.GET)  # type: ignore[arg-type]
    except PermissionDenied as exc:
        return _forbidden(exc)
    except DomainError as exc:
        return HttpResponse(exc.detail, status=400, content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(export.chunks, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response


@login_required
@require_GET
def export_contacts(request: HttpRequest) -> HttpResponse:
    return _export(request, "contacts")


@login_required
@require_GET
def export_accounts(request: HttpRequest) -> HttpResponse:
    return _export(request, "accounts")
