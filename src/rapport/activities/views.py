"""Web views that need the timeline: the home dashboard, the 360° pages, tasks, notes, attachments.

They live here, not in ``parties``, because activities may import parties but not the other way
round. Reads use ``parties.selectors``/``activities.selectors`` (a party the user may not read is
a 404), writes the services; the page never decides access itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from rapport.activities.forms import AttachmentForm, InteractionForm, NoteForm, TaskForm
from rapport.activities.models import Attachment, Task
from rapport.activities.selectors import my_tasks, open_tasks, timeline, timeline_item_get
from rapport.activities.services import attachment_add, interaction_record, note_add, task_create, task_update
from rapport.core import permissions
from rapport.core.audit import audit_history
from rapport.core.custom_fields import custom_field_definitions
from rapport.core.errors import Conflict, NotFound, ValidationFailed
from rapport.core.views import apply_field_errors, domain_view, safe_next
from rapport.parties.choices import Channel
from rapport.parties.models import Account, AccountMembership, Contact
from rapport.parties.selectors import account_get, account_queryset, contact_get, contact_queryset

TIMELINE_PAGE = 20
PLACEHOLDERS = (
    ("opportunities", gettext_lazy("Opportunities")),
    ("orders", gettext_lazy("Orders")),
    ("cases", gettext_lazy("Cases")),
    ("consent", gettext_lazy("Consent")),
    ("scores", gettext_lazy("Scores")),
)


def _party(request: HttpRequest, kind: str, pk: Any) -> Contact | Account:
    if kind == "contacts":
        return contact_get(actor=request.user, contact_id=pk)
    if kind == "accounts":
        return account_get(actor=request.user, account_id=pk)
    raise NotFound("No such page.")


def _kind(party: Contact | Account) -> str:
    return "contacts" if isinstance(party, Contact) else "accounts"


def _detail_url(party: Contact | Account) -> str:
    name = "contact_detail" if isinstance(party, Contact) else "account_detail"
    return reverse(name, args=[party.pk])


def _party_kwargs(party: Contact | Account) -> dict[str, Any]:
    return {"contact": party} if isinstance(party, Contact) else {"account": party}


# --- home and my tasks ----------------------------------------------------------------------


@domain_view
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    actor = request.user
    tasks = my_tasks(actor=actor, limit=10)
    recent: list[Contact] = []
    if actor.has_perm("parties.view_contact"):
        recent = list(
            contact_queryset(actor=actor)
            .filter(owner=actor)
            .select_related("account")
            .only("id", "first_name", "last_name", "email", "updated_at", "lifecycle_stage", "account__name")
            .order_by("-updated_at", "-id")[:10]
        )
    return render(
        request,
        "activities/home.html",
        {"tasks": tasks, "overdue": sum(1 for t in tasks if t.is_overdue), "recent_contacts": recent},
    )


@domain_view
@require_GET
def my_tasks_view(request: HttpRequest) -> HttpResponse:
    include_done = request.GET.get("done") == "1"
    tasks = my_tasks(actor=request.user, include_done=include_done, limit=200)
    return render(request, "activities/my_tasks.html", {"tasks": tasks, "include_done": include_done})


# --- 360° pages -----------------------------------------------------------------------------


def _custom_values(party: Contact | Account) -> list[tuple[str, Any]]:
    values = party.custom or {}
    return [(d.label, values.get(d.key)) for d in custom_field_definitions(type(party)) if d.key in values]


def _detail_context(request: HttpRequest, party: Contact | Account, **forms: Any) -> dict[str, Any]:
    actor = request.user
    channel = request.GET.get("channel", "")
    channels = [channel] if channel in Channel.values else None
    page = timeline(party=party, channels=channels, limit=TIMELINE_PAGE)
    model_label = "contact" if isinstance(party, Contact) else "account"
    context: dict[str, Any] = {
        "party": party,
        "kind": _kind(party),
        "model_label": model_label,
        "entries": page.entries,
        "next_cursor": page.next_cursor,
        "channel": channel if channels else "",
        "channels": Channel.choices,
        "open_tasks": open_tasks(party=party),
        "history": audit_history(party, limit=50),
        "custom_values": _custom_values(party),
        "tags": list(party.tags.all()),
        "addresses": list(party.addresses.all()),
        "can_edit": actor.has_perm(f"parties.change_{model_label}") and permissions.can_write(actor, party),
        "can_delete": actor.has_perm(f"parties.delete_{model_label}") and permissions.can_write(actor, party),
        "can_note": actor.has_perm("activities.add_note"),
        "can_log": actor.has_perm("activities.add_interaction"),
        "can_task": actor.has_perm("activities.add_task"),
        "can_finish_task": actor.has_perm("activities.change_task"),
        "can_attach": actor.has_perm("activities.add_attachment"),
        "placeholders": PLACEHOLDERS,
        "note_form": forms.get("note_form") or NoteForm(),
        "interaction_form": forms.get("interaction_form") or InteractionForm(),
        "task_form": forms.get("task_form") or TaskForm(actor=actor),
        "attachment_form": forms.get("attachment_form") or AttachmentForm(),
        "open_panel": forms.get("open_panel", ""),
    }
    if isinstance(party, Contact):
        readable_accounts = account_queryset(actor=actor).values("pk")
        context.update(
            {
                "emails": list(party.emails.all()),
                "phones": list(party.phones.all()),
                "memberships": list(
                    party.memberships.filter(account__in=readable_accounts).select_related("account")[:50]
                ),
                "boss": party.reports_to
                if party.reports_to_id and permissions.can_read(actor, party.reports_to)
                else None,
                "reports": list(
                    contact_queryset(actor=actor)
                    .filter(reports_to=party)
                    .only("id", "first_name", "last_name", "email", "title")
                    .order_by("last_name", "first_name")[:50]
                ),
            }
        )
    else:
        readable_contacts = contact_queryset(actor=actor).values("pk")
        context.update(
            {
                "parent": party.parent if party.parent_id and permissions.can_read(actor, party.parent) else None,
                "children": list(
                    account_queryset(actor=actor)
                    .filter(parent=party)
                    .only("id", "name", "domain")
                    .order_by("name")[:50]
                ),
                "members": list(
                    AccountMembership.objects.filter(account=party, contact__in=readable_contacts)
                    .select_related("contact")
                    .order_by("-is_primary", "contact__last_name", "contact__first_name")[:100]
                ),
            }
        )
    return context


def _detail(request: HttpRequest, party: Contact | Account, status: int = 200, **forms: Any) -> HttpResponse:
    template = "activities/contact_detail.html" if isinstance(party, Contact) else "activities/account_detail.html"
    return render(request, template, _detail_context(request, party, **forms), status=status)


@domain_view
@require_GET
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, contact_get(actor=request.user, contact_id=pk))


@domain_view
@require_GET
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, account_get(actor=request.user, account_id=pk))


@domain_view
@require_GET
def party_timeline(request: HttpRequest, kind: str, pk: str) -> HttpResponse:
    """The timeline items partial: a channel filter (replaces the list) or "Load more" (appends)."""
    party = _party(request, kind, pk)
    if not request.htmx:
        query = f"?channel={request.GET['channel']}" if request.GET.get("channel") in Channel.values else ""
        return redirect(_detail_url(party) + query + "#timeline")
    channel = request.GET.get("channel", "")
    channels = [channel] if channel in Channel.values else None
    try:
        page = timeline(party=party, channels=channels, cursor=request.GET.get("cursor") or None, limit=TIMELINE_PAGE)
    except ValidationFailed:
        page = timeline(party=party, channels=channels, limit=TIMELINE_PAGE)
    return render(
        request,
        "activities/partials/timeline_items.html",
        {
            "party": party,
            "kind": kind,
            "entries": page.entries,
            "next_cursor": page.next_cursor,
            "channel": channel if channels else "",
            "can_finish_task": request.user.has_perm("activities.change_task"),
        },
    )


# --- writes from the 360° page --------------------------------------------------------------


def _timeline_write(
    request: HttpRequest,
    party: Contact | Account,
    form: Any,
    *,
    write: Callable[[], Any],
    panel: str,
    done: str,
    anchor: str = "#timeline",
    renames: dict[str, str] | None = None,
) -> HttpResponse:
    """Validate ``form``, run the service in ``write``; back to the 360° page, or the page with errors."""
    if form.is_valid():
        try:
            write()
        except ValidationFailed as exc:
            apply_field_errors(form, exc, renames)
        else:
            messages.success(request, done)
            return redirect(_detail_url(party) + anchor)
    return _detail(request, party, status=422, open_panel=panel, **{f"{panel}_form": form})


@domain_view
@require_POST
def note_add_view(request: HttpRequest, kind: str, pk: str) -> HttpResponse:
    party = _party(request, kind, pk)
    form = NoteForm(request.POST)
    return _timeline_write(
        request,
        party,
        form,
        panel="note",
        done=_("Note added."),
        write=lambda: note_add(actor=request.user, body=form.cleaned_data["body"], **_party_kwargs(party)),
    )


@domain_view
@require_POST
def interaction_add_view(request: HttpRequest, kind: str, pk: str) -> HttpResponse:
    party = _party(request, kind, pk)
    form = InteractionForm(request.POST)
    return _timeline_write(
        request,
        party,
        form,
        panel="interaction",
        done=_("Interaction logged."),
        renames={"duration_seconds": "duration_minutes"},
        write=lambda: interaction_record(actor=request.user, **_party_kwargs(party), **form.service_kwargs()),
    )


@domain_view
@require_POST
def task_add_view(request: HttpRequest, kind: str, pk: str) -> HttpResponse:
    party = _party(request, kind, pk)
    form = TaskForm(request.POST, actor=request.user)
    return _timeline_write(
        request,
        party,
        form,
        panel="task",
        done=_("Task added."),
        anchor="#tasks",
        renames={"assignee_id": "assignee"},
        write=lambda: task_create(actor=request.user, **_party_kwargs(party), **form.service_kwargs()),
    )


@domain_view
@require_POST
def attachment_add_view(request: HttpRequest, kind: str, pk: str) -> HttpResponse:
    party = _party(request, kind, pk)
    form = AttachmentForm(request.POST, request.FILES)
    return _timeline_write(
        request,
        party,
        form,
        panel="attachment",
        done=_("File attached."),
        write=lambda: attachment_add(actor=request.user, upload=form.cleaned_data["file"], **_party_kwargs(party)),
    )


@domain_view
@require_POST
def task_done_view(request: HttpRequest, pk: int) -> HttpResponse:
    task = timeline_item_get(actor=request.user, model=Task, pk=pk)
    fallback = _detail_url(task.party) + "#tasks"
    version = request.POST.get("version")
    try:
        task_update(
            actor=request.user,
            task=task,
            data={"done": request.POST.get("done", "1") == "1"},
            expected_version=int(version) if version and version.isdigit() else None,
        )
    except Conflict:
        messages.error(request, _("This task was changed by someone else since you opened it; reload and try again."))
    except ValidationFailed as exc:
        messages.error(request, exc.detail)
    except ValidationError as exc:  # pragma: no cover - defensive
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, _("Task “%(title)s” done.") % {"title": task.title})
    return redirect(safe_next(request, fallback))


@domain_view
@require_GET
def attachment_download(request: HttpRequest, pk: int) -> HttpResponse:
    """Serve a file only to users who may read its party (MEDIA_URL is never exposed)."""
    attachment = timeline_item_get(actor=request.user, model=Attachment, pk=pk)
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise NotFound(f"The file of attachment {pk} is missing.") from None
    response = FileResponse(handle, as_attachment=True, filename=attachment.name)
    response["Content-Type"] = "application/octet-stream"
    response["X-Content-Type-Options"] = "nosniff"
    return response
