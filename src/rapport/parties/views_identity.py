"""Web pages of identity: the duplicate review queue, one pair side by side, bulk accept, undo.

Every page needs the merge right; a pair with a contact the user may not read is "not found".
Decisions post plain forms (the pages work without JavaScript); ``duplicates.js`` adds the
keyboard shortcuts (m merge, n not a duplicate, s skip, j/k next/previous).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from rapport.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from rapport.core.views import domain_view, htmx_partial
from rapport.parties.details import contact_details
from rapport.parties.duplicates import (
    DECISIONS,
    EVIDENCE_FIELDS,
    duplicate_bulk_accept,
    duplicate_decide,
    duplicate_get,
    duplicate_neighbours,
    duplicate_queue,
    survivor_pick,
)
from rapport.parties.identity_batch import dedupe_schedule
from rapport.parties.merge import CHOICES, contact_merge_get, contact_merge_plan, contact_merge_undo
from rapport.parties.models import ContactMerge

PAGE_SIZE = 50
MATCHER_LABELS = {
    "given_name": gettext_lazy("First name"),
    "surname": gettext_lazy("Last name"),
    "email": gettext_lazy("Email"),
    "phone": gettext_lazy("Phone"),
    "date_of_birth": gettext_lazy("Birthday"),
    "location": gettext_lazy("Address"),
}


def _probability_param(raw: str | None) -> float | None:
    try:
        value = float(raw) if raw not in (None, "") else None
    except ValueError:
        return None
    return value if value is not None and 0.0 <= value <= 1.0 else None


def _merged_banner(request: HttpRequest) -> ContactMerge | None:
    """The merge named by ``?merged=`` (just done), if the user may still undo it."""
    raw = request.GET.get("merged", "")
    if not raw.isdigit():
        return None
    try:
        merge = contact_merge_get(actor=request.user, merge_id=int(raw))
    except DomainError:
        return None
    return None if merge.is_undone else merge


@domain_view
def duplicate_queue_view(request: HttpRequest) -> HttpResponse:
    min_probability = _probability_param(request.GET.get("min_probability"))
    cursor = request.GET.get("cursor") or None
    try:
        page = duplicate_queue(actor=request.user, min_probability=min_probability, cursor=cursor, limit=PAGE_SIZE)
    except ValidationFailed:
        messages.error(request, _("That page link is no longer valid; showing the first page."))
        page = duplicate_queue(actor=request.user, min_probability=min_probability, limit=PAGE_SIZE)
        cursor = None
    query = f"min_probability={min_probability}" if min_probability is not None else ""
    context = {
        "page": page,
        "pairs": page.items,
        "min_probability": min_probability,
        "is_first_page": cursor is None,
        "first_url": f"?{query}" if query else "?",
        "next_url": (f"?{query}&cursor={page.next_cursor}" if query else f"?cursor={page.next_cursor}")
        if page.next_cursor
        else "",
        "merged": _merged_banner(request),
        "accept_default": min_probability if min_probability is not None else 0.95,
    }
    if htmx_partial(request, "results"):
        return render(request, "parties/identity/partials/queue_results.html", context)
    return render(request, "parties/identity/queue.html", context)


def _choices_from(post: Any, names: list[str]) -> dict[str, str]:
    return {name: post[f"choice_{name}"] for name in names if post.get(f"choice_{name}") in CHOICES}


def _pair_context(request: HttpRequest, pair: Any, survivor_id: int | None) -> dict[str, Any]:
    first, second = pair.contact_a, pair.contact_b
    if survivor_id in (first.pk, second.pk):
        survivor, duplicate = (first, second) if survivor_id == first.pk else (second, first)
    else:
        survivor, duplicate = survivor_pick(first, second)
    levels = (pair.evidence or {}).get("fields", {})
    rows = []
    for item in contact_merge_plan(survivor=survivor, duplicate=duplicate):
        matcher = EVIDENCE_FIELDS.get(item.name)
        rows.append({"item": item, "evidence": levels.get(matcher) if matcher else None})
    previous, following = duplicate_neighbours(actor=request.user, pair=pair)
    evidence = [
        {"label": MATCHER_LABELS.get(name, name), "level": info.get("level"), "text": info.get("label", "")}
        for name, info in levels.items()
    ]
    return {
        "pair": pair,
        "survivor": survivor,
        "duplicate": duplicate,
        "survivor_details": contact_details(survivor.pk),
        "duplicate_details": contact_details(duplicate.pk),
        "rows": rows,
        "evidence": evidence,
        "exact_copy": bool((pair.evidence or {}).get("exact_copy")),
        "previous_id": previous,
        "next_id": following,
        "merged": _merged_banner(request),
    }


@domain_view
@require_http_methods(["GET", "POST"])
def duplicate_pair_view(request: HttpRequest, pk: int) -> HttpResponse:
    pair = duplicate_get(actor=request.user, pair_id=pk)
    raw_survivor = request.POST.get("survivor_id") or request.GET.get("survivor") or ""
    survivor_id = int(raw_survivor) if raw_survivor.isdigit() else None
    context = _pair_context(request, pair, survivor_id)
    status = 200
    if request.method == "POST":
        decision = request.POST.get("decision", "")
        if decision not in DECISIONS:
            messages.error(request, _("Choose merge, not a duplicate or skip."))
            return redirect("duplicate_pair", pair.pk)
        names = [row["item"].name for row in context["rows"]]
        versions = {
            str(contact.pk): request.POST.get(f"version_{contact.pk}") or None
            for contact in (pair.contact_a, pair.contact_b)
        }
        try:
            result = duplicate_decide(
                actor=request.user,
                pair=pair,
                decision=decision,
                field_choices=_choices_from(request.POST, names) if decision == "merge" else None,
                survivor_id=context["survivor"].pk,
                versions=versions,
                context={"via": "web"},
            )
        except PermissionDenied:
            raise
        except (Conflict, ValidationFailed, NotFound) as exc:
            context["error"] = exc.detail
            status = 409 if isinstance(exc, Conflict) else 422
        else:
            target = reverse("duplicate_pair", args=[context["next_id"]]) if context["next_id"] else reverse(
                "duplicate_queue"
            )
            if result.merge is not None:
                messages.success(
                    request,
                    _("“%(duplicate)s” was merged into “%(survivor)s”.")
                    % {"duplicate": result.merge.duplicate_repr, "survivor": str(context["survivor"])},
                )
                return redirect(f"{target}?merged={result.merge.pk}")
            done = _("Marked as not a duplicate.") if decision == "not_duplicate" else _("Skipped for now.")
            messages.success(request, done)
            return redirect(target)
    return render(request, "parties/identity/pair.html", context, status=status)


@domain_view
@require_POST
def duplicates_accept_view(request: HttpRequest) -> HttpResponse:
    threshold = _probability_param(request.POST.get("min_probability"))
    if threshold is None:
        messages.error(request, _("Give a probability between 0 and 1."))
        return redirect("duplicate_queue")
    result = duplicate_bulk_accept(actor=request.user, min_probability=threshold, context={"via": "web"})
    messages.success(
        request,
        _("%(merged)s pairs merged, %(skipped)s skipped.") % {"merged": result.merged, "skipped": result.skipped},
    )
    return redirect(reverse("duplicate_queue"))


@domain_view
@require_POST
def duplicates_scan_view(request: HttpRequest) -> HttpResponse:
    """Start a duplicate scan of the contacts the user may read (a background task)."""
    dedupe_schedule(actor=request.user)
    messages.success(request, _("A duplicate scan was started; new pairs appear here when it is done."))
    return redirect("duplicate_queue")


@domain_view
@require_POST
def merge_undo_view(request: HttpRequest, pk: int) -> HttpResponse:
    merge = contact_merge_get(actor=request.user, merge_id=pk)
    try:
        contact = contact_merge_undo(actor=request.user, merge=merge, context={"via": "web"})
    except Conflict as exc:
        messages.error(request, exc.detail)
        return redirect("duplicate_queue")
    merge.refresh_from_db()
    messages.success(request, _("The merge was undone: “%(name)s” is back.") % {"name": str(contact)})
    kept = merge.undo_report.get("kept", {})
    if kept:
        messages.warning(
            request,
            _("Kept on the other contact because they were changed after the merge: %(fields)s.")
            % {"fields": ", ".join(sorted(kept))},
        )
    return redirect("contact_detail", contact.pk)
