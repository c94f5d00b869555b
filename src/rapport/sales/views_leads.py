"""Web pages of leads: list, detail (timeline, score breakdown, status, log, convert), create/edit,
the lead set-up pages (scoring rules, assignment rules, web forms) and the two public endpoints
(web-to-lead submission and the opt-in confirmation link).

Writes go through the services; a refused write shows its reason beside the fields and changes
nothing. The public endpoints are csrf-exempt by design: they are posted from other sites and
carry no session; the form key, honeypot and rate limit protect them (``sales.webforms``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapport.commerce.views import _paged
from rapport.core import permissions
from rapport.core.errors import DomainError, ValidationFailed
from rapport.core.models import Team, User
from rapport.core.views import apply_field_errors, domain_view, error_page, htmx_partial
from rapport.parties.models import Account, Contact
from rapport.sales import conversion, scoring, selectors_leads, services_leads, webforms
from rapport.sales.choices import DisqualifyReason, LeadStatus
from rapport.sales.imports_leads import leads_import_csv
from rapport.sales.models import Lead
from rapport.sales.models_leads import (
    AssignmentRule,
    AssignmentStrategy,
    LeadScoringRule,
    ScoreKind,
    ScoreOperator,
    WebForm,
)


class LeadForm(forms.ModelForm):
    class Meta:
        model = Lead
        fields = list(services_leads.EDITABLE)


@domain_view
@require_GET
def lead_list_view(request: HttpRequest) -> HttpResponse:
    params = request.GET
    filters = {k: params.get(k, "")[:100] for k in ("status", "owner", "source", "campaign")}
    try:
        qs = selectors_leads.lead_list(actor=request.user, filters=filters)
    except ValidationFailed:
        qs = selectors_leads.lead_list(actor=request.user, filters={})
    qs = qs.select_related("owner").only(*selectors_leads.LIST_COLUMNS, "owner__username", "owner__first_name",
                                          "owner__last_name")
    context = {**_paged(request, qs, ["-created_at"]), "params": params, "statuses": LeadStatus.choices,
               **selectors_leads.lead_filter_choices(actor=request.user)}
    template = "sales/partials/lead_results.html" if htmx_partial(request, "results") else "sales/lead_list.html"
    return render(request, template, context)


@domain_view
@require_http_methods(["GET", "POST"])
def lead_form_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    lead = selectors_leads.lead_get(actor=request.user, pk=pk) if pk else None
    if lead is None:
        permissions.require_model_perm(request.user, Lead, "add")
    else:
        permissions.check_write(request.user, lead)
    form = LeadForm(request.POST or None, instance=lead) if request.method == "POST" else LeadForm(instance=lead)
    duplicates = None
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in services_leads.EDITABLE}
        try:
            if lead is None:
                lead = services_leads.lead_create(actor=request.user, data=data, channel="form")
                duplicates = services_leads.lead_duplicates(
                    actor=request.user, data=services_leads.lead_normalize(data), exclude_id=lead.pk)
                if duplicates["contacts"] or duplicates["leads"]:
                    messages.warning(request, _duplicates_text(duplicates))
                messages.success(request, f"Lead “{lead}” created.")
            else:
                version = int(request.POST.get("version") or lead.version)
                lead = Lead.objects.get(pk=lead.pk)
                services_leads.lead_update(actor=request.user, lead=lead, data=data, expected_version=version)
                messages.success(request, "Lead saved.")
            return redirect("lead_detail", lead.pk)
        except ValidationFailed as exc:
            apply_field_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.detail)
    return render(request, "sales/lead_form.html", {"form": form, "lead": lead})


def _duplicates_text(found: dict[str, Any]) -> str:
    names = [f"contact {c['name'] or c['email']}" for c in found["contacts"]]
    names += [f"lead {lead['name']}" for lead in found["leads"]]
    return "This lead may already exist: " + ", ".join(names[:6]) + "."


@domain_view
@require_GET
def lead_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    lead = selectors_leads.lead_get(actor=request.user, pk=pk)
    score = scoring.lead_score(lead)
    can_write = permissions.can_write(request.user, lead) and request.user.has_perm("sales.change_lead")
    context = {
        "lead": lead, "score": score, "events": selectors_leads.lead_timeline(lead=lead), "can_write": can_write,
        "statuses": [s for s in LeadStatus.choices if s[0] != LeadStatus.CONVERTED],
        "reasons": DisqualifyReason.choices,
        "duplicates": services_leads.lead_duplicates(actor=request.user, data={
            "email": lead.email, "phone": lead.phone, "first_name": lead.first_name, "last_name": lead.last_name},
            exclude_id=lead.pk) if lead.status != LeadStatus.CONVERTED else None,
        "candidates": conversion.conversion_candidates(actor=request.user, lead=lead)
        if lead.status == LeadStatus.QUALIFIED else None,
    }
    return render(request, "sales/lead_detail.html", context)


def _lead_action(request: HttpRequest, pk: int, action: Any) -> HttpResponse:
    lead = selectors_leads.lead_get(actor=request.user, pk=pk)
    try:
        result = action(lead)
    except DomainError as exc:
        messages.error(request, exc.detail + "".join(f" {k}: {' '.join(v)}" for k, v in exc.field_errors.items()))
        return redirect("lead_detail", pk)
    return result if isinstance(result, HttpResponse) else redirect("lead_detail", pk)


def _version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


@domain_view
@require_POST
def lead_status_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _lead_action(request, pk, lambda lead: services_leads.lead_status_set(
        actor=request.user, lead=lead, status=request.POST.get("status", ""), reason=request.POST.get("reason", ""),
        expected_version=_version(request)))


@domain_view
@require_POST
def lead_log_view(request: HttpRequest, pk: int) -> HttpResponse:
    due = request.POST.get("due") or None
    import datetime as dt

    def log(lead: Lead) -> Any:
        try:
            due_date = dt.date.fromisoformat(due) if due else None
        except ValueError:
            raise ValidationFailed("The due date is not a date.") from None
        return services_leads.lead_log(actor=request.user, lead=lead, kind=request.POST.get("kind", ""),
                                       subject=request.POST.get("subject", "")[:200],
                                       body=request.POST.get("body", "")[:20000], due=due_date)
    return _lead_action(request, pk, log)


@domain_view
@require_POST
def lead_assign_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _lead_action(request, pk, lambda lead: services_leads.lead_reassign(actor=request.user, lead=lead))


def _pick(request: HttpRequest, model: type[Any], name: str) -> Any:
    raw = request.POST.get(name, "")
    if not raw.isdigit():
        return None
    obj = model.objects.filter(pk=int(raw)).first()
    if obj is None or not permissions.can_read(request.user, obj):
        raise ValidationFailed(f"No such {model._meta.verbose_name}.")
    return obj


@domain_view
@require_POST
def lead_convert_view(request: HttpRequest, pk: int) -> HttpResponse:
    def convert(lead: Lead) -> HttpResponse:
        result = conversion.lead_convert(
            actor=request.user, lead=lead, expected_version=_version(request),
            account=_pick(request, Account, "account_id"), contact=_pick(request, Contact, "contact_id"),
            create_opportunity=request.POST.get("create_opportunity") == "on",
            opportunity_name=request.POST.get("opportunity_name", "")[:200],
            amount=_amount(request.POST.get("amount", "")))
        messages.success(request, f"Converted: account “{result.account}”, contact “{result.contact}”"
                         + (f", opportunity “{result.opportunity}”" if result.opportunity else "") + ".")
        return redirect("contact_detail", result.contact.pk)
    return _lead_action(request, pk, convert)


def _amount(raw: str) -> Any:
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(raw or "0")
    except InvalidOperation:
        raise ValidationFailed("The amount is not a number.", field_errors={"amount": ["Not a number."]}) from None
    if value < 0 or not value.is_finite():
        raise ValidationFailed("The amount cannot be negative.", field_errors={"amount": ["Not negative."]})
    return value


@domain_view
@require_http_methods(["GET", "POST"])
def lead_import_view(request: HttpRequest) -> HttpResponse:
    permissions.require_model_perm(request.user, Lead, "add")
    report = error = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise ValidationFailed("Choose a CSV file.")
            report = leads_import_csv(actor=request.user, text=upload.read().decode("utf-8-sig", errors="replace"),
                                      source=request.POST.get("source", "import")[:50] or "import",
                                      campaign=request.POST.get("campaign", "")[:100])
        except DomainError as exc:
            error = exc.detail + "".join(f" {' '.join(v)}" for v in exc.field_errors.values())
    return render(request, "sales/lead_import.html", {"report": report, "error": error})


# --- set-up pages ----------------------------------------------------------------------------------

_SETUP_PAGES = {
    "scoring": (LeadScoringRule, selectors_leads.scoring_rules, "sales/lead_setup_scoring.html"),
    "assignment": (AssignmentRule, selectors_leads.assignment_rules, "sales/lead_setup_assignment.html"),
    "webforms": (WebForm, selectors_leads.webforms, "sales/lead_setup_webforms.html"),
}


def _setup_data(model: type[Any], post: Any) -> dict[str, Any]:
    def num(name: str) -> int | None:
        raw = post.get(name, "").strip()
        if not raw:
            return None
        try:
            return int(raw)
        except ValueError:
            raise ValidationFailed(f"{name} must be a whole number.", field_errors={name: ["Whole number."]}) from None

    if model is LeadScoringRule:
        return {"name": post.get("name", "")[:100], "kind": post.get("kind", ""), "field": post.get("field", ""),
                "operator": post.get("operator", ""), "value": post.get("value", "")[:200],
                "points": num("points") or 0, "position": num("position") or 0, "is_active": True}
    if model is AssignmentRule:
        return {"name": post.get("name", "")[:100], "position": num("position") or 0, "is_active": True,
                "countries": post.get("countries", "")[:200], "region": post.get("region", "")[:100],
                "postcode_prefix": post.get("postcode_prefix", "")[:20], "industry": post.get("industry", "")[:50],
                "employees_min": num("employees_min"), "employees_max": num("employees_max"),
                "strategy": post.get("strategy", ""), "user_id": num("user_id"), "team_id": num("team_id")}
    return {"name": post.get("name", "")[:100], "fields": post.getlist("fields"),
            "required": post.getlist("required"), "source": post.get("source", "web")[:50] or "web",
            "campaign": post.get("campaign", "")[:100], "thank_you_text": post.get("thank_you_text", "")[:5000],
            "redirect_url": post.get("redirect_url", "")[:300], "double_opt_in": post.get("double_opt_in") == "on",
            "owner_id": num("owner_id"), "is_active": True}


@domain_view
@require_http_methods(["GET", "POST"])
def lead_setup_view(request: HttpRequest, page: str) -> HttpResponse:
    """One settings page per kind of set-up: its rows, a form to add one, delete buttons."""
    if page not in _SETUP_PAGES:
        return error_page(request, ValidationFailed("No such page."), 404)
    model, select, template = _SETUP_PAGES[page]
    rows = select(actor=request.user)  # the view permission: managers and administrators
    errors: dict[str, list[str]] = {}
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("delete", "").isdigit():
                target = rows.filter(pk=int(request.POST["delete"])).first()
                if target is not None:
                    services_leads.setup_delete(actor=request.user, instance=target)
            else:
                services_leads.setup_create(actor=request.user, model=model, data=_setup_data(model, request.POST))
            messages.success(request, "Saved.")
            return redirect("lead_setup", page)
        except DomainError as exc:
            error, errors = exc.detail, exc.field_errors
    context = {"rows": [(row, webforms.embed_snippet(row) if model is WebForm else "") for row in rows],
               "page": page, "error": error, "errors": errors, "post": request.POST,
               "kinds": ScoreKind.choices, "operators": ScoreOperator.choices, "fit_fields": scoring.FIT_FIELDS,
               "events": scoring.ENGAGEMENT_EVENTS, "strategies": AssignmentStrategy.choices,
               "users": User.objects.filter(is_active=True).order_by("username").only("id", "username")[:500],
               "teams": Team.objects.order_by("name")[:200], "form_fields": webforms.FORM_FIELDS}
    return render(request, template, context)


# --- public endpoints ------------------------------------------------------------------------------


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webform_submit_view(request: HttpRequest, key: str) -> HttpResponse:
    """The embedded form posts here (GET shows a hosted copy of the form)."""
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        form = webforms.webform_get(key[:40])
        if request.method == "GET":
            return render(request, "sales/lead_webform_public.html",
                          {"form": form, "snippet": webforms.embed_snippet(form)})
        webforms.webform_submit(form=form, data=request.POST.dict(), ip=_client_ip(request))
    except DomainError as exc:
        if wants_json:
            response = JsonResponse(exc.as_problem(request.path), status=exc.status,
                                    content_type="application/problem+json")
        else:
            response = render(request, "sales/lead_webform_thanks.html", {"error": exc}, status=exc.status)
        if exc.status == 429:
            response["Retry-After"] = str(webforms.RATE_WINDOW)
        return response
    if wants_json:
        return JsonResponse({"ok": True, "message": form.thank_you_text or "Thank you."}, status=201)
    if form.redirect_url:
        return HttpResponseRedirect(form.redirect_url)
    return render(request, "sales/lead_webform_thanks.html", {"form": form})


@require_GET
def lead_opt_in_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        webforms.opt_in_confirm(token=token[:1000])
    except DomainError as exc:
        return render(request, "sales/lead_webform_thanks.html", {"error": exc}, status=exc.status)
    return render(request, "sales/lead_webform_thanks.html", {"confirmed": True})


def lead_setup_index(request: HttpRequest) -> HttpResponse:
    return redirect(reverse("lead_setup", args=["scoring"]))
