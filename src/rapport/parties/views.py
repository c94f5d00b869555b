"""Web views of contacts and accounts: lists, forms, delete, bulk actions, saved views, search.

The 360° pages (which show the timeline) live in ``activities.views``; parties never imports
activities. Reads go through ``parties.selectors`` (already narrowed to what the user may see),
writes through ``parties.services``; domain errors become field errors or the 403/404 page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from rapport.core import permissions
from rapport.core.choices import CustomFieldType
from rapport.core.custom_fields import custom_field_definitions
from rapport.core.errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from rapport.core.models import Team
from rapport.core.pagination import keyset_page
from rapport.core.services_profile import saved_view_create, saved_view_delete, saved_views_for
from rapport.core.views import apply_field_errors, domain_view, htmx_partial, safe_next
from rapport.parties.choices import ChurnRisk, CompanySize, Industry, LifecycleStage, RfmSegment, Tier
from rapport.parties.duplicate_check import (
    DuplicateCheck,
    PossibleDuplicates,
    contact_create_checked,
    duplicate_check,
)
from rapport.parties.forms import AccountForm, BulkForm, ContactForm, SavedViewForm, user_choices
from rapport.parties.models import Account, Contact, Tag
from rapport.parties.selectors import (
    ACCOUNT_ORDERINGS,
    CONTACT_ORDERINGS,
    account_filters_from,
    account_get,
    account_list,
    contact_filters_from,
    contact_get,
    contact_list,
    search_all,
)
from rapport.parties.services import (
    account_create,
    account_delete,
    account_update,
    contact_delete,
    contact_update,
    parties_bulk_assign,
    parties_bulk_delete,
    parties_bulk_tag,
)

PAGE_SIZE = 50
CONTACT_COLUMNS = (
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "lifecycle_stage",
    "updated_at",
    "created_at",
    "account__name",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
)
ACCOUNT_COLUMNS = (
    "id",
    "name",
    "domain",
    "industry",
    "tier",
    "updated_at",
    "created_at",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
)
MODELS: dict[str, type[Contact] | type[Account]] = {"contact": Contact, "account": Account}


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _query_without(params: QueryDict, *names: str) -> str:
    copy = params.copy()
    for name in names:
        copy.pop(name, None)
    for key in [k for k, v in copy.lists() if not any(v)]:
        copy.pop(key)
    return copy.urlencode()


def _filter_custom_fields(model: type[Model], params: QueryDict) -> list[dict[str, Any]]:
    """Choice and yes/no custom fields become filter selects named ``cf_<key>``."""
    selects = []
    for definition in custom_field_definitions(model):
        if definition.field_type == CustomFieldType.CHOICE:
            options = [(str(c), str(c)) for c in definition.choices]
        elif definition.field_type == CustomFieldType.BOOLEAN:
            options = [("true", _("Yes")), ("false", _("No"))]
        else:
            continue
        name = f"cf_{definition.key}"
        selects.append({"name": name, "label": definition.label, "options": options, "value": params.get(name, "")})
    return selects


def _list_page(
    request: HttpRequest,
    *,
    model: type[Contact] | type[Account],
    queryset: QuerySet[Any],
    orderings: dict[str, list[str]],
    default_sort: str,
    columns: tuple[str, ...],
    template: str,
    partial: str,
    context: dict[str, Any],
) -> HttpResponse:
    params = request.GET
    sort = params.get("sort") or default_sort
    if sort not in orderings:
        sort = default_sort
    cursor = params.get("cursor") or None
    try:
        page = keyset_page(queryset.only(*columns), ordering=orderings[sort], cursor=cursor, limit=PAGE_SIZE)
    except ValidationFailed:
        messages.error(request, _("That page link is no longer valid; showing the first page."))
        page = keyset_page(queryset.only(*columns), ordering=orderings[sort], cursor=None, limit=PAGE_SIZE)
        cursor = None
    query = _query_without(params, "cursor")
    base = _query_without(params, "cursor", "sort")
    sort_links = {}
    for key in orderings:
        if key.startswith("-"):
            continue
        target = f"-{key}" if sort == key else key
        sort_links[key] = {
            "url": f"?{base}&sort={target}" if base else f"?sort={target}",
            "active": sort.lstrip("-") == key,
            "descending": sort.startswith("-"),
        }
    opts = model._meta
    context = {
        **context,
        "page": page,
        "rows": page.items,
        "sort": sort,
        "sort_links": sort_links,
        "query": query,
        "first_url": f"?{query}" if query else "?",
        "next_url": (f"?{query}&cursor={page.next_cursor}" if query else f"?cursor={page.next_cursor}")
        if page.next_cursor
        else "",
        "is_first_page": cursor is None,
        "page_size": PAGE_SIZE,
        "saved_views": saved_views_for(actor=request.user, model=model),
        "model_name": opts.model_name,
        "can_add": request.user.has_perm(f"{opts.app_label}.add_{opts.model_name}"),
        "can_change": request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}"),
        "can_delete": request.user.has_perm(f"{opts.app_label}.delete_{opts.model_name}"),
        "owner_choices": user_choices(),
        "teams": Team.objects.only("id", "name"),
        "tags": Tag.objects.order_by("name").values_list("name", flat=True)[:200],
        "params": params,
    }
    if htmx_partial(request, "results"):
        return render(request, partial, context)
    return render(request, template, context)


@domain_view
def contact_list_view(request: HttpRequest) -> HttpResponse:
    params = request.GET
    custom_selects = _filter_custom_fields(Contact, params)
    filters = contact_filters_from(params)
    account_id = filters.account_id
    filter_account = None
    if account_id:
        try:
            filter_account = account_get(actor=request.user, account_id=account_id)
        except DomainError:
            filter_account = None
    return _list_page(
        request,
        model=Contact,
        queryset=contact_list(actor=request.user, filters=filters),
        orderings=CONTACT_ORDERINGS,
        default_sort="name",
        columns=CONTACT_COLUMNS,
        template="parties/contact_list.html",
        partial="parties/partials/contact_results.html",
        context={
            "filters": filters,
            "stages": LifecycleStage.choices,
            "custom_selects": custom_selects,
            "filter_account": filter_account,
        },
    )


@domain_view
def account_list_view(request: HttpRequest) -> HttpResponse:
    params = request.GET
    custom_selects = _filter_custom_fields(Account, params)
    filters = account_filters_from(params)
    return _list_page(
        request,
        model=Account,
        # The list shows no parent column: drop the selector's parent join.
        queryset=account_list(actor=request.user, filters=filters).select_related(None).select_related("owner"),
        orderings=ACCOUNT_ORDERINGS,
        default_sort="name",
        columns=ACCOUNT_COLUMNS,
        template="parties/account_list.html",
        partial="parties/partials/account_results.html",
        context={
            "filters": filters,
            "industries": Industry.choices,
            "tiers": Tier.choices,
            "sizes": CompanySize.choices,
            "segments": RfmSegment.choices,
            "risks": ChurnRisk.choices,
            "custom_selects": custom_selects,
        },
    )


# --- create / edit with inline validation -----------------------------------------------------


class _ValidateOnly(Exception):
    """Raised inside the transaction of a validate-only request so nothing is kept."""


def _run(write: Callable[[], Any], *, validate_only: bool) -> Any:
    if not validate_only:
        return write()
    try:
        with transaction.atomic():
            write()
            raise _ValidateOnly
    except _ValidateOnly:
        return None


def _party_form(
    request: HttpRequest,
    *,
    form_class: type[ContactForm] | type[AccountForm],
    instance: Contact | Account | None,
    create: Callable[..., Any],
    update: Callable[..., Any],
    key: str,
    template: str,
    partial: str,
    detail_url_name: str,
    check_duplicates: Callable[..., DuplicateCheck] | None = None,
) -> HttpResponse:
    """Create or edit one party. With ``check_duplicates`` a new record is checked on every change
    (the warning is part of the form's top, which inline validation refreshes), and saving one
    with a likely duplicate needs a second, confirming submit."""
    actor = request.user
    model = form_class.model
    if instance is None:
        permissions.require_model_perm(actor, model, "add")
    else:
        permissions.check_write(actor, instance, "change")
    conflict = None
    duplicates: DuplicateCheck | None = None
    blocked = False
    status = 200
    if request.method == "POST":
        validate_only = request.POST.get("_validate") == "1"
        form = form_class(request.POST, actor=actor, instance=instance)
        if form.is_valid():
            data = form.to_data()
            if check_duplicates is not None and instance is None:
                duplicates = check_duplicates(actor=actor, data=data)
            try:
                if instance is None:
                    # The service refuses a likely duplicate until the user confirms ("block");
                    # inline validation only shows the warning.
                    confirmed = validate_only or request.POST.get("_confirm_duplicate") == "1"
                    extra = {"check": duplicates, "on_duplicate": "warn" if confirmed else "block"} \
                        if check_duplicates is not None else {}
                    result = _run(lambda: create(actor=actor, data=data, **extra), validate_only=validate_only)
                else:
                    version = form.cleaned_data.get("version")
                    result = _run(
                        lambda: update(actor=actor, **{key: instance}, data=data, expected_version=version),
                        validate_only=validate_only,
                    )
            except PossibleDuplicates:
                blocked = True  # shown again with the duplicates and a "create anyway" button
            except Conflict as exc:
                conflict = exc
            except ValidationFailed as exc:
                apply_field_errors(form, exc, form.field_map)
            else:
                if not validate_only and not blocked:
                    messages.success(request, _("“%(name)s” was saved.") % {"name": str(result)})
                    if duplicates is not None and duplicates.likely:
                        messages.info(request, _("Its likely duplicates were sent to the duplicate review queue."))
                    return redirect(detail_url_name, result.pk)
        if (form.errors or conflict or blocked) and not validate_only:
            status = 409 if conflict or blocked else 422
    else:
        form = form_class(actor=actor, instance=instance)
    context = {"form": form, "instance": instance, "conflict": conflict, "model_name": model._meta.model_name,
               "duplicates": duplicates, "duplicate_blocked": blocked}
    if htmx_partial(request, "party-form"):
        return render(request, partial, context)
    return render(request, template, context, status=status)


@domain_view
@require_http_methods(["GET", "POST"])
def contact_form_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    contact = contact_get(actor=request.user, contact_id=pk) if pk is not None else None
    return _party_form(
        request,
        form_class=ContactForm,
        instance=contact,
        create=_contact_create_checked,
        update=contact_update,
        key="contact",
        template="parties/contact_form.html",
        partial="parties/partials/contact_form.html",
        detail_url_name="contact_detail",
        check_duplicates=duplicate_check,
    )


def _contact_create_checked(*, actor: Any, data: dict[str, Any], check: DuplicateCheck | None,
                            on_duplicate: str) -> Contact:
    """Create behind the duplicate check the form already made (not repeated)."""
    return contact_create_checked(actor=actor, data=data, check=check, on_duplicate=on_duplicate).contact


@domain_view
@require_http_methods(["GET", "POST"])
def account_form_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    account = account_get(actor=request.user, account_id=pk) if pk is not None else None
    return _party_form(
        request,
        form_class=AccountForm,
        instance=account,
        create=account_create,
        update=account_update,
        key="account",
        template="parties/account_form.html",
        partial="parties/partials/account_form.html",
        detail_url_name="account_detail",
    )


# --- delete ---------------------------------------------------------------------------------


def _delete_page(request: HttpRequest, instance: Contact | Account, remove: Callable[[], None], list_url: str):
    permissions.check_write(request.user, instance, "delete")
    conflict = None
    if request.method == "POST":
        try:
            remove()
        except Conflict as exc:
            conflict = exc
        else:
            messages.success(request, _("“%(name)s” was deleted.") % {"name": str(instance)})
            return redirect(list_url)
    return render(
        request,
        "parties/confirm_delete.html",
        {"instance": instance, "model_name": instance._meta.model_name, "conflict": conflict},
        status=409 if conflict else 200,
    )


@domain_view
@require_http_methods(["GET", "POST"])
def contact_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    contact = contact_get(actor=request.user, contact_id=pk)
    version = _int(request.POST.get("version"))
    return _delete_page(
        request,
        contact,
        lambda: contact_delete(actor=request.user, contact=contact, expected_version=version),
        "contact_list",
    )


@domain_view
@require_http_methods(["GET", "POST"])
def account_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    account = account_get(actor=request.user, account_id=pk)
    version = _int(request.POST.get("version"))

    def remove() -> None:
        if version is not None and version != account.version:
            raise Conflict(_("The account changed since you opened it."), current_version=account.version)
        account_delete(actor=request.user, account=account)

    return _delete_page(request, account, remove, "account_list")


# --- bulk actions ---------------------------------------------------------------------------


@domain_view
@require_POST
def bulk_view(request: HttpRequest, model_name: str) -> HttpResponse:
    model = MODELS[model_name]
    back = safe_next(request, reverse(f"{model_name}_list"))
    form = BulkForm(request.POST)
    ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit()]
    if not form.is_valid() or not ids:
        messages.error(request, _("Select some rows and an action first."))
        return redirect(back)
    action = form.cleaned_data["action"]
    try:
        if action == "assign":
            owner = form.cleaned_data.get("owner")
            if not owner:
                messages.error(request, _("Choose the new owner."))
                return redirect(back)
            count = parties_bulk_assign(actor=request.user, model=model, ids=ids, owner_id=owner)
            done = _("%(count)s assigned.")
        elif action == "tag":
            tag = (form.cleaned_data.get("tag") or "").strip()
            if not tag:
                messages.error(request, _("Type the tag to add."))
                return redirect(back)
            count = parties_bulk_tag(actor=request.user, model=model, ids=ids, tag=tag)
            done = _("%(count)s tagged.")
        else:
            count = parties_bulk_delete(actor=request.user, model=model, ids=ids)
            done = _("%(count)s deleted.")
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, exc.detail)
        return redirect(back)
    messages.success(request, done % {"count": count})
    return redirect(back)


# --- saved views ----------------------------------------------------------------------------


@domain_view
@require_POST
def saved_view_save(request: HttpRequest, model_name: str) -> HttpResponse:
    model = MODELS[model_name]
    list_url = reverse(f"{model_name}_list")
    form = SavedViewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Name the view to save it."))
        return redirect(list_url)
    query = QueryDict(form.cleaned_data.get("query") or "", mutable=True)
    query.pop("cursor", None)
    try:
        saved_view_create(
            actor=request.user,
            model=model,
            name=form.cleaned_data["name"],
            query=query.urlencode(),
            is_shared=form.cleaned_data["is_shared"],
        )
    except ValidationFailed as exc:
        messages.error(request, "; ".join(m for msgs in exc.field_errors.values() for m in msgs) or exc.detail)
        return redirect(list_url)
    messages.success(request, _("View “%(name)s” saved.") % {"name": form.cleaned_data["name"]})
    return redirect(f"{list_url}?{query.urlencode()}" if query else list_url)


@domain_view
@require_POST
def saved_view_delete_view(request: HttpRequest, model_name: str, pk: int) -> HttpResponse:
    saved_view_delete(actor=request.user, saved_view_id=pk)
    messages.success(request, _("The saved view was deleted."))
    return redirect(reverse(f"{model_name}_list"))


# --- global search --------------------------------------------------------------------------


@domain_view
def search_view(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    results = search_all(actor=request.user, query=query, limit=20) if query else {"contacts": [], "accounts": []}
    return render(
        request,
        "parties/search.html",
        {"search_query": query, "contacts": results["contacts"], "accounts": results["accounts"]},
    )
