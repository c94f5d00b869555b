"""Web pages of identity: the duplicate review queue, one pair side by side, bulk accept, undo.

The same views and templates serve contacts (``/contacts/duplicates/``) and accounts
(``/accounts/duplicates/``): the URL passes ``kind`` and :data:`URL_NAMES` gives each kind's
routes. Every page needs the kind's merge right; a pair with a record the user may not read is
"not found".
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
from rapport.parties.details import account_details, contact_details
from rapport.parties.duplicates import (
    DECISIONS,
    duplicate_bulk_accept,
    duplicate_decide,
    duplicate_get,
    duplicate_neighbours,
    duplicate_queue,
    survivor_pick,
)
from rapport.parties.identity_batch import dedupe_schedule
from rapport.parties.identity_kinds import IdentityKind, kind_named
from rapport.parties.merge_engine import CHOICES

PAGE_SIZE = 50
MATCHER_LABELS = {
    "given_name": gettext_lazy("First name"),
    "surname": gettext_lazy("Last name"),
    "email": gettext_lazy("Email"),
    "phone": gettext_lazy("Phone"),
    "date_of_birth": gettext_lazy("Birthday"),
    "location": gettext_lazy("Address"),
    "organisation": gettext_lazy("Employer"),
    "name": gettext_lazy("Name"),
    "domain": gettext_lazy("Website domain"),
    "identifier": gettext_lazy("External id"),
}
# Per kind: the routes its pages link to (contacts keep their original names).
URL_NAMES: dict[str, dict[str, str]] = {
    "contact": {"queue": "duplicate_queue", "accept": "duplicates_accept", "scan": "duplicates_scan",
                "pair": "duplicate_pair", "undo": "merge_undo", "detail": "contact_detail", "list": "contact_list"},
    "account": {"queue": "account_duplicate_queue", "accept": "account_duplicates_accept",
                "scan": "account_duplicates_scan", "pair": "account_duplicate_pair", "undo": "account_merge_undo",
                "detail": "account_detail", "list": "account_list"},
}
_DETAILS = {"contact": contact_details, "account": account_details}


def _kind_context(kind: IdentityKind) -> dict[str, Any]:
    return {"kind": kind.name, "names": URL_NAMES[kind.name], "kind_label": kind.label,
            "kind_label_plural": kind.label_plural}


def _probability_param(raw: str | None) -> float | None:
    try:
        value = float(raw) if raw not in (None, "") else None
    except ValueError:
        return None
    return value if value is not None and 0.0 <= value <= 1.0 else None


def _merged_banner(request: HttpRequest, kind: IdentityKind) -> Any:
    """The merge named by ``?merged=`` (just done), if the user may still undo it."""
    raw = request.GET.get("merged", "")
    if not raw.isdigit():
        return None
    try:
        merge = kind.merge_get(actor=request.user, merge_id=int(raw))
    except DomainError:
        return None
    return None if merge.is_undone else merge


@domain_view
def duplicate_queue_view(request: HttpRequest, kind: str = "contact") -> HttpResponse:
    spec = kind_named(kind)
    min_probability = _probability_param(request.GET.get("min_probability"))
    cursor = request.GET.get("cursor") or None
    try:
        page = duplicate_queue(actor=request.user, min_probability=min_probability, cursor=cursor, limit=PAGE_SIZE,
                               kind=kind)
    except ValidationFailed:
        messages.error(request, _("That page link is no longer valid; showing the first page."))
        page = duplicate_queue(actor=request.user, min_probability=min_probability, limit=PAGE_SIZE, kind=kind)
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
        "merged": _merged_banner(request, spec),
        "accept_default": min_probability if min_probability is not None else 0.95,
        **_kind_context(spec),
    }
    if htmx_partial(request, "results"):
        return render(request, "parties/identity/partials/queue_results.html", context)
    return render(request, "parties/identity/queue.html", context)


def _choices_from(post: Any, names: list[str]) -> dict[str, str]:
    return {name: post[f"choice_{name}"] for name in names if post.get(f"choice_{name}") in CHOICES}


def _pair_context(request: HttpRequest, pair: Any, survivor_id: int | None, kind: IdentityKind) -> dict[str, Any]:
    first, second = pair.first, pair.second
    if survivor_id in (first.pk, second.pk):
        survivor, duplicate = (first, second) if survivor_id == first.pk else (second, first)
    else:
        survivor, duplicate = survivor_pick(first, second)
    levels = (pair.evidence or {}).get("fields", {})
    rows = []
    for item in kind.merge_plan(survivor=survivor, duplicate=duplicate):
        matcher = kind.evidence_fields.get(item.name)
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
        "survivor_details": _DETAILS[kind.name](survivor.pk),
        "duplicate_details": _DETAILS[kind.name](duplicate.pk),
        "rows": rows,
        "evidence": evidence,
        "exact_copy": bool((pair.evidence or {}).get("exact_copy")),
        "previous_id": previous,
        "next_id": following,
        "merged": _merged_banner(request, kind),
        **_kind_context(kind),
    }


@domain_view
@require_http_methods(["GET", "POST"])
def duplicate_pair_view(request: HttpRequest, pk: int, kind: str = "contact") -> HttpResponse:
    spec = kind_named(kind)
    names = URL_NAMES[kind]
    pair = duplicate_get(actor=request.user, pair_id=pk, kind=kind)
    raw_survivor = request.POST.get("survivor_id") or request.GET.get("survivor") or ""
    survivor_id = int(raw_survivor) if raw_survivor.isdigit() else None
    context = _pair_context(request, pair, survivor_id, spec)
    status = 200
    if request.method == "POST":
        decision = request.POST.get("decision", "")
        if decision not in DECISIONS:
            messages.error(request, _("Choose merge, not a duplicate or skip."))
            return redirect(names["pair"], pair.pk)
        fields = [row["item"].name for row in context["rows"]]
        versions = {
            str(party.pk): request.POST.get(f"version_{party.pk}") or None for party in (pair.first, pair.second)
        }
        try:
            result = duplicate_decide(
                actor=request.user,
                pair=pair,
                decision=decision,
                field_choices=_choices_from(request.POST, fields) if decision == "merge" else None,
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
            target = reverse(names["pair"], args=[context["next_id"]]) if context["next_id"] else reverse(
                names["queue"]
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
def duplicates_accept_view(request: HttpRequest, kind: str = "contact") -> HttpResponse:
    queue = URL_NAMES[kind_named(kind).name]["queue"]
    threshold = _probability_param(request.POST.get("min_probability"))
    if threshold is None:
        messages.error(request, _("Give a probability between 0 and 1."))
        return redirect(queue)
    result = duplicate_bulk_accept(actor=request.user, min_probability=threshold, context={"via": "web"}, kind=kind)
    messages.success(
        request,
        _("%(merged)s pairs merged, %(skipped)s skipped.") % {"merged": result.merged, "skipped": result.skipped},
    )
    return redirect(reverse(queue))


@domain_view
@require_POST
def duplicates_scan_view(request: HttpRequest, kind: str = "contact") -> HttpResponse:
    """Start a duplicate scan of the contacts (or accounts) the user may read (a background task)."""
    dedupe_schedule(actor=request.user, kind=kind_named(kind).name)
    messages.success(request, _("A duplicate scan was started; new pairs appear here when it is done."))
    return redirect(URL_NAMES[kind]["queue"])


@domain_view
@require_POST
def merge_undo_view(request: HttpRequest, pk: int, kind: str = "contact") -> HttpResponse:
    spec = kind_named(kind)
    names = URL_NAMES[kind]
    merge = spec.merge_get(actor=request.user, merge_id=pk)
    try:
        party = spec.merge_undo(actor=request.user, merge=merge, context={"via": "web"})
    except Conflict as exc:
        messages.error(request, exc.detail)
        return redirect(names["queue"])
    merge.refresh_from_db()
    messages.success(request, _("The merge was undone: “%(name)s” is back.") % {"name": str(party)})
    kept = merge.undo_report.get("kept", {})
    if kept:
        messages.warning(
            request,
            _("Kept on the other record because they were changed after the merge: %(fields)s.")
            % {"fields": ", ".join(sorted(kept))},
        )
    return redirect(names["detail"], party.pk)
