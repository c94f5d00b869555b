"""Web pages of opportunities: the kanban board, the list (with CSV export), the detail page
(stage path, history, products, suggestions, quotes, activity log, won/lost) and create/edit.

Reads go through ``sales.selectors`` (row access from ``core.permissions``), writes through the
services, so a page, the board's drag and drop (which calls the JSON API) and the API behave
alike. A refused write shows its reason and changes nothing; a stale version is a conflict
message, never an overwrite. Pipeline set-up pages are in ``views_pipelines``.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, F, QuerySet, Sum
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapport.activities.models import Interaction
from rapport.activities.services import interaction_record
from rapport.commerce.models import Product
from rapport.commerce.pricing import price_lookup
from rapport.core import permissions
from rapport.core.errors import DomainError, NotFound, ValidationFailed
from rapport.core.models import User
from rapport.core.pagination import keyset_page
from rapport.core.views import apply_field_errors, domain_view, htmx_partial
from rapport.parties.forms import CHOICE_LIMIT, user_choices
from rapport.parties.models import Account, Contact
from rapport.sales import selectors, services, services_deals
from rapport.sales.choices import OpportunityStatus, StageKind
from rapport.sales.models import Opportunity, OpportunityLine, Pipeline, Stage

PAGE_SIZE = 50
LIST_FILTERS = ("pipeline", "stage", "status", "owner", "close_from", "close_to", "q")
# Sort keys of the list; every ordering column is non-null, so keyset pagination is total.
LIST_ORDERINGS = {
    "close": ["expected_close_date"], "-close": ["-expected_close_date"],
    "name": ["name"], "-name": ["-name"],
    "amount": ["amount"], "-amount": ["-amount"],
    "created": ["created_at"], "-created": ["-created_at"],
}
# What the detail page logs, and the timeline channel it is recorded on.
LOGGABLE = {"call": "phone", "meeting": "meeting", "email": "email"}
_WEIGHTED = ExpressionWrapper(F("amount") * F("probability") / 100,
                              output_field=DecimalField(max_digits=24, decimal_places=4))


def _filters(params: QueryDict, names: tuple[str, ...]) -> dict[str, str]:
    return {name: params.get(name, "")[:100] for name in names if params.get(name)}


def _filtered_list(request: HttpRequest, filters: dict[str, str]) -> tuple[QuerySet[Opportunity], dict[str, str]]:
    """The actor's opportunities by ``filters``; filters the selector refuses are dropped, with a message."""
    try:
        return selectors.opportunity_list(actor=request.user, filters=filters), filters
    except ValidationFailed as exc:
        messages.error(request, exc.detail)
        return selectors.opportunity_list(actor=request.user, filters={}), {}


def _query(params: QueryDict, *drop: str) -> str:
    copy = params.copy()
    for key in drop:
        copy.pop(key, None)
    return copy.urlencode()


# --- the board -----------------------------------------------------------------------------


@domain_view
@require_GET
def board_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """One column per active stage; cards paginated per column; filters narrow cards and figures."""
    actor = request.user
    pk = pk or _int_or_none(request.GET.get("pipeline"))  # the pipeline switcher's GET form
    if pk is None:
        permissions.require_model_perm(actor, Pipeline, "view")
    pipeline = selectors.pipeline_get(actor=actor, pk=pk) if pk else services.default_pipeline()
    filters = _filters(request.GET, selectors.BOARD_FILTERS)
    try:
        columns = selectors.board_columns(actor=actor, pipeline=pipeline, filters=filters)
    except ValidationFailed as exc:
        messages.error(request, exc.detail)
        filters = {}
        columns = selectors.board_columns(actor=actor, pipeline=pipeline)
    stages = [column.stage for column in columns]
    for column in columns:
        _with_move_options(column.page.items, stages)
    context = {
        "pipeline": pipeline, "columns": columns, "stages": stages, "params": filters,
        "pipelines": selectors.pipeline_list(actor=actor), "filter_query": urlencode(filters),
        "today": timezone.localdate(), "can_move": actor.has_perm("sales.change_opportunity"),
        "can_setup": actor.has_perm("sales.change_pipeline"),
    }
    return render(request, "sales/board.html", context)


@domain_view
@require_GET
def board_cards_view(request: HttpRequest, stage_id: int) -> HttpResponse:
    """The next page of one column ("Load more"): cards and the next "Load more" button."""
    actor = request.user
    stage = selectors.stage_get(actor=actor, pk=stage_id)
    filters = _filters(request.GET, selectors.BOARD_FILTERS)
    try:
        page = selectors.board_column_page(actor=actor, stage=stage, cursor=request.GET.get("cursor") or None,
                                           filters=filters)
    except ValidationFailed as exc:
        return HttpResponse(f'<p class="msg error" role="alert">{_escape(exc.detail)}</p>', status=422)
    stages = list(stage.pipeline.stages.filter(is_active=True).order_by("position"))
    _with_move_options(page.items, stages)
    context = {"stage": stage, "page": page, "stages": stages, "today": timezone.localdate(),
               "filter_query": urlencode(filters),
               "can_move": actor.has_perm("sales.change_opportunity")}
    return render(request, "sales/partials/board_cards.html", context)


def _with_move_options(cards: list[Opportunity], stages: list[Stage]) -> list[Opportunity]:
    """Give each card the <option>s of its "Move to…" select, built once per stage rather than
    once per card and stage (the board's first screen has ~200 cards: this is most of its render)."""
    by_stage = {
        current.pk: mark_safe("".join(  # noqa: S308 - every value below is escaped or a number
            format_html('<option value="{}" data-kind="{}"{}>{}</option>', s.pk, s.kind,
                        mark_safe(" selected") if s.pk == current.pk else "", s.name)  # noqa: S308
            for s in stages))
        for current in stages
    }
    for card in cards:
        card.move_options = by_stage.get(card.stage_id, "")  # type: ignore[attr-defined]
    return cards


def _escape(text: str) -> str:
    from django.utils.html import escape

    return escape(text)


@domain_view
@require_POST
def opportunity_move_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The card's "Move to…" form without JavaScript (board.js sends the same move to the API)."""
    actor = request.user
    opportunity = selectors.opportunity_get(actor=actor, pk=pk)
    back = _safe_back(request, reverse("opportunity_detail", args=[pk]))
    try:
        stage = selectors.stage_get(actor=actor, pk=_int_or_none(request.POST.get("stage_id")) or 0)
        services.opportunity_move(actor=actor, opportunity=opportunity, stage=stage,
                                  expected_version=_version(request),
                                  close_reason=request.POST.get("close_reason", "")[:200])
    except DomainError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("“%(name)s” moved to %(stage)s.") % {"name": opportunity.name,
                                                                       "stage": stage.name})
    return redirect(back)


def _safe_back(request: HttpRequest, fallback: str) -> str:
    from rapport.core.views import safe_next

    return safe_next(request, fallback)


def _int_or_none(raw: Any) -> int | None:
    raw = str(raw or "")
    return int(raw) if raw.isdigit() and len(raw) < 18 else None


def _version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _error_text(exc: DomainError) -> str:
    return exc.detail + "".join(f" {' '.join(v)}" for k, v in exc.field_errors.items() if k != "__all__")


# --- the list and its CSV export ---------------------------------------------------------------


@domain_view
@require_GET
def opportunity_list_view(request: HttpRequest) -> HttpResponse:
    actor = request.user
    params = request.GET
    qs, filters = _filtered_list(request, _filters(params, LIST_FILTERS))
    sort = params.get("sort") if params.get("sort") in LIST_ORDERINGS else "close"
    cursor = params.get("cursor") or None
    rows = qs.select_related("account", "stage", "owner").only(
        *selectors.LIST_COLUMNS, "account__name", "stage__name", "owner__username", "owner__first_name",
        "owner__last_name")
    try:
        page = keyset_page(rows, ordering=LIST_ORDERINGS[sort], cursor=cursor, limit=PAGE_SIZE)
    except ValidationFailed:
        messages.error(request, _("That page link is no longer valid; showing the first page."))
        page = keyset_page(rows, ordering=LIST_ORDERINGS[sort], cursor=None, limit=PAGE_SIZE)
        cursor = None
    totals = qs.order_by().aggregate(n=Count("id"), total=Sum("amount"), weighted=Sum(_WEIGHTED))
    query = _query(params, "cursor")
    base = _query(params, "cursor", "sort")
    sort_links = {}
    for key in LIST_ORDERINGS:
        if not key.startswith("-"):
            target = f"-{key}" if sort == key else key
            sort_links[key] = {"url": f"?{base}&sort={target}" if base else f"?sort={target}",
                               "active": sort.lstrip("-") == key, "descending": sort.startswith("-")}
    pipelines = list(selectors.pipeline_list(actor=actor, include_inactive=True))
    context = {
        "rows": page.items, "params": filters, "sort": sort, "sort_links": sort_links, "totals": totals,
        "first_url": f"?{query}" if query else "?", "is_first_page": cursor is None,
        "next_url": (f"?{query}&cursor={page.next_cursor}" if query else f"?cursor={page.next_cursor}")
        if page.next_cursor else "",
        "export_query": _query(params, "cursor", "sort"), "statuses": OpportunityStatus.choices,
        "pipelines": pipelines, "stages": Stage.objects.filter(pipeline__in=pipelines).select_related("pipeline")
        .order_by("pipeline__name", "position"), "today": timezone.localdate(),
    }
    template = "sales/partials/opportunity_results.html" if htmx_partial(request, "results") \
        else "sales/opportunity_list.html"
    return render(request, template, context)


EXPORT_COLUMNS = ("id", "name", "account", "pipeline", "stage", "status", "amount", "currency", "probability",
                  "weighted_amount", "expected_close_date", "owner", "next_step", "created_at")


class _Echo:
    def write(self, value: str) -> str:
        return value


@domain_view
@require_GET
def opportunity_export_view(request: HttpRequest) -> HttpResponse:
    """The filtered list as CSV, streamed in primary-key chunks (the whole list, not one page)."""
    qs, _filters_used = _filtered_list(request, _filters(request.GET, LIST_FILTERS))
    rows = qs.select_related("account", "pipeline", "stage", "owner").order_by("expected_close_date", "id")
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(EXPORT_COLUMNS)
        for opp in rows.iterator(chunk_size=2000):
            yield writer.writerow([
                opp.pk, _csv_safe(opp.name), _csv_safe(opp.account.name), opp.pipeline.name, opp.stage.name,
                opp.status, opp.amount, opp.currency, opp.probability, opp.weighted_amount.quantize(Decimal("0.01")),
                opp.expected_close_date.isoformat(), opp.owner.username if opp.owner else "",
                _csv_safe(opp.next_step), opp.created_at.isoformat()])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="opportunities.csv"'
    return response


def _csv_safe(text: str) -> str:
    # A cell starting with = + - @ is a formula in spreadsheet programs: quote it as text.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# --- the detail page -----------------------------------------------------------------------------


def quote_url(quote_id: int) -> str:
    """The quote page (built by the quotes pages); a plain path until that URL name exists."""
    try:
        return reverse("quote_detail", args=[quote_id])
    except NoReverseMatch:
        return f"/quotes/{quote_id}/"


def _duration_text(duration: dt.timedelta) -> str:
    days, seconds = duration.days, duration.seconds
    if days:
        return _("%(d)s d %(h)s h") % {"d": days, "h": seconds // 3600}
    if seconds >= 3600:
        return _("%(h)s h %(m)s min") % {"h": seconds // 3600, "m": seconds % 3600 // 60}
    return _("%(m)s min") % {"m": seconds // 60}


def _line_total(line: OpportunityLine) -> Decimal:
    gross = line.quantity * line.unit_price
    return (gross - gross * line.discount_percent / 100).quantize(Decimal("0.01"))


@domain_view
@require_GET
def opportunity_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.user
    opp = selectors.opportunity_get(actor=actor, pk=pk)
    from rapport.sales.recommend import suggestions_for

    stages = list(opp.pipeline.stages.order_by("position"))
    open_stages = [s for s in stages if s.kind == StageKind.OPEN and s.is_active]
    path_index = next((i for i, s in enumerate(open_stages) if s.pk == opp.stage_id), None)
    progress = 100 if opp.status != OpportunityStatus.OPEN else (
        round(100 * (path_index + 1) / len(open_stages)) if path_index is not None and open_stages else 0)
    lines = [(line, _line_total(line)) for line in opp.lines.select_related("product")]
    can_write = actor.has_perm("sales.change_opportunity") and permissions.can_write(actor, opp)
    quotes = [(q, quote_url(q.pk)) for q in opp.quotes.order_by("-created_at")[:50]] \
        if actor.has_perm("sales.view_quote") else []
    activities = []
    if actor.has_perm("activities.view_interaction"):
        from django.contrib.contenttypes.models import ContentType

        activities = list(Interaction.objects.filter(
            related_type=ContentType.objects.get_for_model(Opportunity), related_id=opp.pk)
            .select_related("owner").order_by("-occurred_at", "-id")[:50])
    context = {
        "opp": opp, "stages": stages, "open_stages": open_stages, "progress": progress,
        "history": [(row, _duration_text(row.duration)) for row in selectors.opportunity_history(opportunity=opp)],
        "lines": lines,
        "lines_total": sum((t for _line, t in lines), Decimal(0)),
        "suggestions": suggestions_for(opportunity=opp), "quotes": quotes, "activities": activities,
        "can_write": can_write, "today": timezone.localdate(),
        "won_stages": [s for s in stages if s.kind == StageKind.WON and s.is_active],
        "lost_stages": [s for s in stages if s.kind == StageKind.LOST and s.is_active],
        "products": _product_choices() if can_write else [], "blank_lines": range(2),
        "loggable": LOGGABLE_LABELS,
    }
    return render(request, "sales/opportunity_detail.html", context)


def _product_choices() -> list[Product]:
    return list(Product.objects.filter(active=True).only("id", "sku", "name").order_by("name", "id")[:CHOICE_LIMIT])


def _opportunity_action(request: HttpRequest, pk: int, action: Any) -> HttpResponse:
    opp = selectors.opportunity_get(actor=request.user, pk=pk)
    try:
        action(opp)
    except DomainError as exc:
        messages.error(request, _error_text(exc))
    return redirect("opportunity_detail", pk)


@domain_view
@require_POST
def opportunity_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Won or lost with a reason: a move into that stage, with the page's version."""
    def close(opp: Opportunity) -> None:
        stage = selectors.stage_get(actor=request.user, pk=_int_or_none(request.POST.get("stage_id")) or 0)
        if stage.kind == StageKind.OPEN:
            raise ValidationFailed(_("Choose a won or a lost stage."))
        services.opportunity_move(actor=request.user, opportunity=opp, stage=stage,
                                  expected_version=_version(request),
                                  close_reason=request.POST.get("close_reason", "")[:200])
        messages.success(request, _("Marked %(stage)s.") % {"stage": stage.name})
    return _opportunity_action(request, pk, close)


@domain_view
@require_POST
def opportunity_log_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Log a call, meeting, email or note about the deal on its contact's (or account's) timeline."""
    def log(opp: Opportunity) -> None:
        permissions.check_write(request.user, opp)
        kind = request.POST.get("kind", "")
        if kind not in LOGGABLE:
            raise ValidationFailed(_("Log a call, a meeting or an email."))
        subject = request.POST.get("subject", "")[:300].strip()
        body = request.POST.get("body", "")[:20000].strip()
        if not subject and not body:
            raise ValidationFailed(_("Write what happened."))
        interaction_record(actor=request.user, channel=LOGGABLE[kind], contact=opp.contact, account=opp.account,
                           subject=subject or str(dict(LOGGABLE_LABELS)[kind]), body=body, related=opp)
        messages.success(request, _("Logged."))
    return _opportunity_action(request, pk, log)


LOGGABLE_LABELS = (("call", gettext_lazy("Call")), ("meeting", gettext_lazy("Meeting")),
                   ("email", gettext_lazy("Email")))


def _decimal(raw: str, default: str) -> str:
    return (raw or "").strip() or default


@domain_view
@require_POST
def opportunity_lines_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Replace the products with the posted rows (``product``, ``quantity``, ``unit_price``,
    ``discount``; a row without a product or with ``remove`` ticked is dropped)."""
    def save(opp: Opportunity) -> None:
        post = request.POST
        products = {p.pk: p for p in Product.objects.filter(
            pk__in=[int(v) for v in post.getlist("product") if v.isdigit() and len(v) < 18])}
        rows = zip(post.getlist("product"), post.getlist("quantity"), post.getlist("unit_price"),
                   post.getlist("discount"), strict=False)
        removed = set(post.getlist("remove"))
        lines = []
        for index, (product, quantity, price, discount) in enumerate(rows):
            if not product or str(index) in removed:
                continue
            lines.append({"product": products.get(int(product)) if product.isdigit() and len(product) < 18 else None,
                          "quantity": _decimal(quantity, "1"), "unit_price": _decimal(price, "0"),
                          "discount_percent": _decimal(discount, "0")})
        services_deals.opportunity_lines_set(actor=request.user, opportunity=opp, lines=lines,
                                             expected_version=_version(request))
        messages.success(request, _("Products saved."))
    return _opportunity_action(request, pk, save)


@domain_view
@require_POST
def opportunity_line_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Add one suggested product (one unit at its price-book price, or 0 without one)."""
    def add(opp: Opportunity) -> None:
        product = Product.objects.filter(pk=_int_or_none(request.POST.get("product_id")) or 0, active=True).first()
        if product is None:
            raise ValidationFailed(_("Unknown product."))
        try:
            price = price_lookup(product=product, currency=opp.currency, on=timezone.localdate(),
                                 tier=opp.account.tier).unit_price
        except DomainError:
            price = Decimal(0)
        current = [{"product": ln.product, "quantity": ln.quantity, "unit_price": ln.unit_price,
                    "discount_percent": ln.discount_percent} for ln in opp.lines.select_related("product")]
        current.append({"product": product, "quantity": 1, "unit_price": price, "discount_percent": 0})
        services_deals.opportunity_lines_set(actor=request.user, opportunity=opp, lines=current,
                                             expected_version=_version(request))
        messages.success(request, _("%(product)s added.") % {"product": product.name})
    return _opportunity_action(request, pk, add)


# --- create and edit -------------------------------------------------------------------------------


class OpportunityForm(forms.Form):
    """Collects what ``opportunity_create``/``opportunity_update`` take; the services check the rules."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    account = forms.ChoiceField(label=gettext_lazy("Account"))
    contact = forms.ChoiceField(label=gettext_lazy("Contact"), required=False)
    pipeline = forms.ChoiceField(label=gettext_lazy("Pipeline"))
    stage = forms.ChoiceField(label=gettext_lazy("Stage"))
    amount = forms.DecimalField(label=gettext_lazy("Amount"), min_value=0, max_digits=19, decimal_places=4,
                                initial=0)
    currency = forms.CharField(label=gettext_lazy("Currency"), max_length=3, required=False,
                               help_text=gettext_lazy("ISO code, e.g. EUR; blank: the account's."))
    probability = forms.IntegerField(label=gettext_lazy("Probability (%)"), min_value=0, max_value=100,
                                     required=False, help_text=gettext_lazy("Blank: the stage's probability."))
    expected_close_date = forms.DateField(label=gettext_lazy("Expected close"),
                                          widget=forms.DateInput(attrs={"type": "date"}))
    next_step = forms.CharField(label=gettext_lazy("Next step"), max_length=200, required=False)
    competitors = forms.CharField(label=gettext_lazy("Competitors"), max_length=300, required=False)
    owner = forms.ChoiceField(label=gettext_lazy("Owner"))
    close_reason = forms.CharField(label=gettext_lazy("Won/lost reason"), max_length=200, required=False,
                                   help_text=gettext_lazy("Needed when the stage is a lost one."))
    description = forms.CharField(label=gettext_lazy("Description"), widget=forms.Textarea(attrs={"rows": 4}),
                                  required=False, max_length=20000)
    field_map = {"stage_id": "stage", "owner_id": "owner", "contact_id": "contact", "account_id": "account",
                 "expected_close_date": "expected_close_date"}

    def __init__(self, *args: Any, actor: User, instance: Opportunity | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        accounts = permissions.readable(actor, Account.objects.all()).order_by("name")
        contacts = permissions.readable(actor, Contact.objects.all()).order_by("last_name", "first_name")
        if instance is not None:
            contacts = contacts.filter(account_id=instance.account_id) | contacts.filter(pk=instance.contact_id or 0)
        self.fields["account"].choices = _with_current(
            [(a.pk, a.name) for a in accounts.only("id", "name")[:CHOICE_LIMIT]],
            instance.account if instance else _initial_obj(self, Account, "account"))
        self.fields["contact"].choices = _with_current(
            [(c.pk, str(c)) for c in contacts.only("id", "first_name", "last_name")[:CHOICE_LIMIT]],
            instance.contact if instance and instance.contact_id else None)
        pipelines = list(Pipeline.objects.filter(is_active=True).order_by("-is_default", "name"))
        if instance is not None:
            pipelines = [instance.pipeline]
            self.fields["pipeline"].disabled = True
            self.fields["pipeline"].help_text = _("A deal stays in its pipeline.")
            self.fields["account"].disabled = True
        self.fields["pipeline"].choices = [(p.pk, p.name) for p in pipelines]
        stages = Stage.objects.filter(pipeline__in=pipelines, is_active=True)
        if instance is not None:  # a deal may sit in a stage since deactivated: keep it choosable
            stages = stages | Stage.objects.filter(pk=instance.stage_id)
        stages = stages.select_related("pipeline").order_by("pipeline__name", "position")
        self.fields["stage"].choices = [(s.pk, f"{s.pipeline.name} · {s.name} ({s.probability} %)") for s in stages]
        self.fields["owner"].choices = user_choices()

    def stage_obj(self) -> Stage:
        return Stage.objects.select_related("pipeline").get(pk=int(self.cleaned_data["stage"]))


def _with_current(rows: list[tuple[Any, str]], current: Any) -> list[tuple[str, str]]:
    choices = [("", "—")] + [(str(pk), label) for pk, label in rows]
    if current is not None and str(current.pk) not in {c[0] for c in choices}:
        choices.append((str(current.pk), str(current)))
    return choices


def _initial_obj(form: forms.Form, model: type[Any], name: str) -> Any:
    raw = form.initial.get(name) or (form.data.get(name) if form.is_bound else None)
    return model.objects.filter(pk=int(raw)).first() if str(raw or "").isdigit() and len(str(raw)) < 18 else None


def _picked(actor: User, model: type[Any], raw: str) -> Any:
    """The chosen row if the actor may read it (a forged id is 'not found', like the API)."""
    if not raw:
        return None
    obj = model.objects.filter(pk=int(raw)).first()
    if obj is None or not permissions.can_read(actor, obj):
        raise NotFound(f"{model._meta.verbose_name.capitalize()} {raw} was not found.")
    return obj


def _initial(opp: Opportunity | None, actor: User, params: QueryDict) -> dict[str, Any]:
    if opp is None:
        pipeline = Pipeline.objects.filter(is_default=True).first()
        stage = pipeline.stages.filter(kind=StageKind.OPEN, is_active=True).order_by("position").first() \
            if pipeline else None
        return {"account": params.get("account", "")[:18], "owner": str(actor.pk), "amount": 0,
                "pipeline": str(pipeline.pk) if pipeline else "", "stage": str(stage.pk) if stage else "",
                "expected_close_date": timezone.localdate() + dt.timedelta(days=30)}
    return {"name": opp.name, "account": str(opp.account_id), "contact": str(opp.contact_id or ""),
            "pipeline": str(opp.pipeline_id), "stage": str(opp.stage_id), "amount": opp.amount,
            "currency": opp.currency, "probability": opp.probability if opp.probability_overridden else None,
            "expected_close_date": opp.expected_close_date, "next_step": opp.next_step,
            "competitors": opp.competitors, "owner": str(opp.owner_id or ""), "description": opp.description,
            "close_reason": opp.close_reason}


@domain_view
@require_http_methods(["GET", "POST"])
def opportunity_form_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    actor = request.user
    opp = selectors.opportunity_get(actor=actor, pk=pk) if pk else None
    if opp is None:
        permissions.require_model_perm(actor, Opportunity, "add")
    else:
        permissions.check_write(actor, opp)
    initial = _initial(opp, actor, request.GET)
    form = OpportunityForm(request.POST if request.method == "POST" else None, initial=initial, actor=actor,
                           instance=opp)
    if request.method == "POST" and form.is_valid():
        try:
            opp = _save(actor, opp, form, _version(request))
        except ValidationFailed as exc:
            apply_field_errors(form, exc, form.field_map)
        except DomainError as exc:
            form.add_error(None, exc.detail)
        else:
            messages.success(request, _("Opportunity saved."))
            return redirect("opportunity_detail", opp.pk)
    return render(request, "sales/opportunity_form.html", {"form": form, "opp": opp,
                                                           "version": request.POST.get("version") or
                                                           (opp.version if opp else "")})


def _save(actor: User, opp: Opportunity | None, form: OpportunityForm, version: int | None) -> Opportunity:
    cd = form.cleaned_data
    stage = form.stage_obj()
    contact = _picked(actor, Contact, cd["contact"])
    owner = User.objects.filter(pk=int(cd["owner"]), is_active=True).first()
    if owner is None:
        raise ValidationFailed(_("Choose an active user as owner."), field_errors={"owner_id": [_("Unknown user.")]})
    fields = {"next_step": cd["next_step"], "competitors": cd["competitors"], "description": cd["description"],
              "close_reason": cd["close_reason"]}
    if opp is None:
        pipeline = Pipeline.objects.get(pk=int(cd["pipeline"]))
        return services.opportunity_create(
            actor=actor, account=_picked(actor, Account, cd["account"]), contact=contact, name=cd["name"],
            amount=cd["amount"], currency=cd["currency"], expected_close_date=cd["expected_close_date"],
            pipeline=pipeline, stage=stage, owner=owner, probability=cd["probability"], **fields)
    if version is None:
        raise ValidationFailed(_("The form lost its version; reload the page."))
    data = {**fields, "name": cd["name"], "amount": cd["amount"], "currency": cd["currency"] or opp.currency,
            "expected_close_date": cd["expected_close_date"], "contact": contact, "owner": owner}
    # The stage is a move (history, status, closing rules); both writes or neither.
    with transaction.atomic():
        fresh = Opportunity.objects.select_related("stage").get(pk=opp.pk)
        if stage.pk != fresh.stage_id:
            services.opportunity_move(actor=actor, opportunity=fresh, stage=stage, expected_version=version,
                                      close_reason=cd["close_reason"])
            version = fresh.version
        data["probability"] = cd["probability"]
        services_deals.opportunity_update(actor=actor, opportunity=fresh, data=data, expected_version=version)
    return fresh
