"""REST API of leads: CRUD with versions, status, timeline, assignment, conversion, CSV import,
inbound email, and the lead set-up (scoring rules, assignment rules, web forms). Errors are
problem+json (``core.api_support``); reads go through ``selectors_leads``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field, create_model

from rapport.core.api_support import etag_set, expected_version, patch_data
from rapport.core.errors import NotFound, ValidationFailed
from rapport.core.pagination import keyset_page
from rapport.core.schemas import Id, Limit
from rapport.parties.models import Account, Contact
from rapport.sales import conversion, scoring, selectors_leads, services_leads
from rapport.sales.imports_leads import leads_import_csv
from rapport.sales.models import Lead
from rapport.sales.models_leads import AssignmentRule, LeadScoringRule, WebForm
from rapport.sales.webforms import embed_snippet, inbound_lead

router = Router(tags=["leads"])
Text = Field(default=None, max_length=254)


class LeadIn(Schema):
    first_name: str | None = Field(None, max_length=100)
    last_name: str | None = Field(None, max_length=100)
    company: str | None = Field(None, max_length=200)
    title: str | None = Field(None, max_length=150)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    website: str | None = Field(None, max_length=200)
    industry: str | None = Field(None, max_length=50)
    employees: int | None = Field(None, ge=0, le=10_000_000)
    country: str | None = Field(None, max_length=2)
    region: str | None = Field(None, max_length=100)
    city: str | None = Field(None, max_length=100)
    postal_code: str | None = Field(None, max_length=20)
    description: str | None = Field(None, max_length=20000)
    source: str | None = Field(None, max_length=50)
    campaign: str | None = Field(None, max_length=100)
    marketing_consent: bool | None = None


class LeadPatchIn(LeadIn):
    version: int | None = Field(None, ge=1)


class StatusIn(Schema):
    status: str = Field(max_length=20)
    reason: str = Field("", max_length=20)
    version: int | None = Field(None, ge=1)


class LogIn(Schema):
    kind: Literal["call", "email", "meeting", "note", "task"]
    subject: str = Field("", max_length=200)
    body: str = Field("", max_length=20000)
    due: dt.date | None = None


class ConvertIn(Schema):
    version: int | None = Field(None, ge=1)
    account_id: Id | None = None
    contact_id: Id | None = None
    create_opportunity: bool = True
    opportunity_name: str = Field("", max_length=200)
    amount: Decimal = Field(Decimal(0), ge=0, max_digits=19, decimal_places=4)
    expected_close_date: dt.date | None = None


class ListQuery(Schema):
    status: str | None = Field(None, max_length=20)
    owner: str | None = Field(None, max_length=20)
    source: str | None = Field(None, max_length=50)
    campaign: str | None = Field(None, max_length=100)
    cursor: str | None = Field(None, max_length=1000)
    limit: Limit = 50


class ScoringRuleIn(Schema):
    name: str = Field(max_length=100)
    kind: Literal["fit", "engagement"] = "fit"
    field: str = Field(max_length=50)
    operator: str = Field("eq", max_length=10)
    value: str = Field("", max_length=200)
    points: int = Field(ge=-1000, le=1000)
    position: int = Field(0, ge=0, le=100000)
    is_active: bool = True


class AssignmentRuleIn(Schema):
    name: str = Field(max_length=100)
    position: int = Field(0, ge=0, le=100000)
    is_active: bool = True
    countries: str = Field("", max_length=200)
    region: str = Field("", max_length=100)
    postcode_prefix: str = Field("", max_length=20)
    industry: str = Field("", max_length=50)
    employees_min: int | None = Field(None, ge=0)
    employees_max: int | None = Field(None, ge=0)
    strategy: Literal["user", "round_robin", "least_loaded"] = "user"
    user_id: Id | None = None
    team_id: Id | None = None


class WebFormIn(Schema):
    name: str = Field(max_length=100)
    fields: list[str] = Field(max_length=30)
    required: list[str] = Field(default_factory=list, max_length=30)
    source: str = Field("web", max_length=50)
    campaign: str = Field("", max_length=100)
    thank_you_text: str = Field("", max_length=5000)
    redirect_url: str = Field("", max_length=300)
    double_opt_in: bool = False
    owner_id: Id | None = None
    is_active: bool = True


class VersionIn(Schema):
    version: int | None = Field(None, ge=1)


def lead_out(lead: Lead, *, detail: bool = False) -> dict[str, Any]:
    body = {name: getattr(lead, name) for name in (
        "id", "first_name", "last_name", "company", "title", "email", "phone", "website", "industry", "employees",
        "country", "region", "city", "postal_code", "description", "status", "disqualify_reason", "source",
        "campaign", "marketing_consent", "consent_confirmed_at", "score", "score_fit", "score_engagement",
        "owner_id", "team_id", "assigned_at", "converted_at", "converted_account_id", "converted_contact_id",
        "converted_opportunity_id", "created_at", "updated_at", "version")}
    if detail:
        score = scoring.lead_score(lead)
        body["score_breakdown"] = [{"rule_id": line.rule_id, "rule": line.rule, "kind": line.kind,
                                    "points": line.points, "times": line.times} for line in score.lines]
    return body


# --- leads ---------------------------------------------------------------------------------------


@router.get("/leads")
def leads_list(request: HttpRequest, query: Query[ListQuery]) -> dict[str, Any]:
    """Leads you may see, newest first; filter by status, owner (id or `me`), source, campaign."""
    qs = selectors_leads.lead_list(actor=request.user, filters=query.dict(exclude={"cursor", "limit"}))
    page = keyset_page(qs, ordering=["-created_at"], cursor=query.cursor, limit=query.limit)
    return {"items": [lead_out(lead) for lead in page.items], "next": page.next_cursor}


@router.post("/leads", response={201: dict})
def leads_create(request: HttpRequest, payload: LeadIn, response: HttpResponse) -> Status:
    """Create a lead; it is scored and assigned by the rules. Contacts and leads it probably
    duplicates come back in `possible_duplicates` (nothing is refused for them)."""
    data = patch_data(payload)
    lead = services_leads.lead_create(actor=request.user, data=data, channel="api")
    etag_set(response, lead)
    lead.refresh_from_db()
    body = lead_out(lead, detail=True)
    body["possible_duplicates"] = services_leads.lead_duplicates(
        actor=request.user, data=services_leads.lead_normalize(data), exclude_id=lead.pk)
    return Status(201, body)


@router.post("/leads/duplicate-check")
def leads_duplicate_check(request: HttpRequest, payload: LeadIn) -> dict[str, Any]:
    """Contacts (identity matcher) and leads (same email/phone) these fields match; nothing written."""
    from rapport.core import permissions

    permissions.require_model_perm(request.user, Lead, "add")
    return services_leads.lead_duplicates(actor=request.user, data=services_leads.lead_normalize(patch_data(payload)))


@router.post("/leads/import")
def leads_import(request: HttpRequest, source: str = "import", campaign: str = "") -> dict[str, Any]:
    """CSV in the body (`text/csv`) or as the multipart field `file`; good rows become leads, bad
    rows come back with their line number."""
    upload = request.FILES.get("file")
    raw = upload.read() if upload is not None else request.body
    if len(raw) > 20 * 1024 * 1024:
        raise ValidationFailed("The file is larger than 20 MB; use `rapport import leads`.")
    report = leads_import_csv(actor=request.user, text=raw.decode("utf-8-sig", errors="replace"),
                              source=source[:50], campaign=campaign[:100])
    return {"created": report.created, "lead_ids": report.lead_ids, "errors": report.errors,
            "ignored_columns": report.ignored_columns}


@router.post("/leads/inbound-email", response={201: dict})
def leads_inbound_email(request: HttpRequest, source: str = "email", campaign: str = "") -> Status:
    """A lead from a raw RFC 822 message in the body (`message/rfc822`), created as the caller."""
    from rapport.core import permissions

    permissions.require_model_perm(request.user, Lead, "add")
    lead = inbound_lead(raw=request.body, actor=request.user, source=source[:50], campaign=campaign[:100])
    return Status(201, lead_out(lead))


@router.get("/leads/{int:lead_id}", url_name="leads_get")
def leads_get(request: HttpRequest, lead_id: Id, response: HttpResponse) -> dict[str, Any]:
    lead = selectors_leads.lead_get(actor=request.user, pk=lead_id)
    etag_set(response, lead)
    return lead_out(lead, detail=True)


@router.patch("/leads/{int:lead_id}")
def leads_update(request: HttpRequest, lead_id: Id, payload: LeadPatchIn, response: HttpResponse) -> dict[str, Any]:
    """Change fields; send `version` or `If-Match`."""
    lead = selectors_leads.lead_get(actor=request.user, pk=lead_id)
    version = expected_version(request, lead, payload.version)
    lead = services_leads.lead_update(actor=request.user, lead=lead, data=patch_data(payload), expected_version=version)
    etag_set(response, lead)
    return lead_out(lead, detail=True)


@router.delete("/leads/{int:lead_id}", response={204: None})
def leads_delete(request: HttpRequest, lead_id: Id, version: int | None = None) -> Status:
    lead = selectors_leads.lead_get(actor=request.user, pk=lead_id)
    services_leads.lead_delete(actor=request.user, lead=lead, expected_version=expected_version(request, lead, version))
    return Status(204, None)


@router.post("/leads/{int:lead_id}/status")
def leads_status(request: HttpRequest, lead_id: Id, payload: StatusIn, response: HttpResponse) -> dict[str, Any]:
    """new / contacted / qualified / disqualified (with `reason`)."""
    lead = selectors_leads.lead_get(actor=request.user, pk=lead_id)
    lead = services_leads.lead_status_set(actor=request.user, lead=lead, status=payload.status,
                                          reason=payload.reason,
                                          expected_version=expected_version(request, lead, payload.version))
    etag_set(response, lead)
    return lead_out(lead)


@router.get("/leads/{int:lead_id}/timeline")
def leads_timeline(request: HttpRequest, lead_id: Id) -> dict[str, Any]:
    lead = selectors_leads.lead_get(actor=request.user, pk=lead_id)
    return {"items": [{"id": e.id, "kind": e.kind, "at": e.at, "actor_id": e.actor_id, "subject": e.subject,
                       "body": e.body, "rule_id": e.rule_id, "assignee_id": e.assignee_id, "due": e.due}
                      for e in selectors_leads.lead_timeline(lead=lead)]}


@router.post("/leads/{int:lead_id}/timeline", response={201: dict})
def leads_log(request: HttpRequest, lead_id: Id, payload: LogIn) -> Status:
    """Log a call, email, meeting, note or task on the lead (an engagement event: it rescores)."""
    lead = selectors_leads.lead_get(actor=request.user, pk=lead_id)
    event = services_leads.lead_log(actor=request.user, lead=lead, kind=payload.kind, subject=payload.subject,
                                    body=payload.body, due=payload.due)
    return Status(201, {"id": event.pk, "kind": event.kind, "at": event.at})


@router.post("/leads/{int:lead_id}/assign")
def leads_assign(request: HttpRequest, lead_id: Id) -> dict[str, Any]:
    """Re-run the assignment rules."""
    lead = selectors_leads.lead_get(actor=request.user, pk=lead_id)
    return lead_out(services_leads.lead_reassign(actor=request.user, lead=lead))


@router.get("/leads/{int:lead_id}/conversion-candidates")
def leads_conversion_candidates(request: HttpRequest, lead_id: Id) -> dict[str, Any]:
    """Existing accounts and contacts the conversion would reuse (first = default)."""
    lead = selectors_leads.lead_get(actor=request.user, pk=lead_id)
    found = conversion.conversion_candidates(actor=request.user, lead=lead)
    return {"accounts": [{"id": a.pk, "name": a.name, "domain": a.domain} for a in found.accounts],
            "contacts": [{"id": c.pk, "name": str(c), "account_id": c.account_id} for c in found.contacts]}


@router.post("/leads/{int:lead_id}/convert")
def leads_convert(request: HttpRequest, lead_id: Id, payload: ConvertIn) -> dict[str, Any]:
    """Convert a qualified lead into an account, a contact and (optionally) an opportunity."""
    actor = request.user
    lead = selectors_leads.lead_get(actor=actor, pk=lead_id)
    account = contact = None
    if payload.account_id:
        account = _party(actor, Account, payload.account_id)
    if payload.contact_id:
        contact = _party(actor, Contact, payload.contact_id)
    result = conversion.lead_convert(
        actor=actor, lead=lead, expected_version=expected_version(request, lead, payload.version),
        account=account, contact=contact, create_opportunity=payload.create_opportunity,
        opportunity_name=payload.opportunity_name, amount=payload.amount,
        expected_close_date=payload.expected_close_date)
    return {"lead": lead_out(result.lead), "account_id": result.account.pk, "contact_id": result.contact.pk,
            "opportunity_id": getattr(result.opportunity, "pk", None), "account_created": result.account_created,
            "contact_created": result.contact_created, "history_moved": result.moved}


def _party(actor: Any, model: type[Any], pk: int) -> Any:
    from rapport.core import permissions

    obj = model.objects.filter(pk=pk).first()
    if obj is None or not permissions.can_read(actor, obj):
        raise NotFound(f"{model._meta.verbose_name.capitalize()} {pk} was not found.")
    return obj


# --- lead set-up ---------------------------------------------------------------------------------

_SETUP = {"scoring-rules": (LeadScoringRule, ScoringRuleIn, selectors_leads.scoring_rules),
          "assignment-rules": (AssignmentRule, AssignmentRuleIn, selectors_leads.assignment_rules),
          "web-forms": (WebForm, WebFormIn, selectors_leads.webforms)}


def setup_out(obj: Any) -> dict[str, Any]:
    names = ["id", *services_leads.SETUP_FIELDS[obj._meta.model_name], "version"]
    body = {name: getattr(obj, name) for name in names}
    if isinstance(obj, WebForm):
        body.update(public_key=obj.public_key, submissions=obj.submissions, embed_html=embed_snippet(obj))
    if isinstance(obj, AssignmentRule):
        body["rr_last_user_id"] = obj.rr_last_user_id
    return body


def _setup_routes(prefix: str, model: type[Any], schema: type[Schema], select: Any) -> None:
    # The same fields, all optional, plus the version the client read.
    patch_schema = create_model(  # type: ignore[call-overload]
        f"{schema.__name__}Patch", __base__=Schema,
        **{name: (info.annotation | None, Field(None, **_limits(info))) for name, info in schema.model_fields.items()},
        version=(int | None, Field(None, ge=1)),
    )

    def _list(request: HttpRequest) -> dict[str, Any]:
        return {"items": [setup_out(o) for o in select(actor=request.user)]}

    def _create(request: HttpRequest, payload: Any) -> Status:
        obj = services_leads.setup_create(actor=request.user, model=model, data=payload.dict())
        return Status(201, setup_out(obj))

    def _update(request: HttpRequest, item_id: Id, payload: Any) -> dict[str, Any]:
        obj = _setup_get(request, select, item_id)
        data = patch_data(payload)
        version = expected_version(request, obj, payload.version)
        return setup_out(services_leads.setup_update(actor=request.user, instance=obj, data=data,
                                                     expected_version=version))

    def _delete(request: HttpRequest, item_id: Id) -> Status:
        services_leads.setup_delete(actor=request.user, instance=_setup_get(request, select, item_id))
        return Status(204, None)

    # The body schemas are chosen per resource at import time; annotations (strings under
    # ``from __future__ import annotations``) are replaced by the classes ninja must see.
    name = model._meta.model_name
    _list.__annotations__ = {"request": HttpRequest, "return": dict}
    _create.__annotations__ = {"request": HttpRequest, "payload": schema, "return": Status}
    _update.__annotations__ = {"request": HttpRequest, "item_id": Id, "payload": patch_schema, "return": dict}
    _delete.__annotations__ = {"request": HttpRequest, "item_id": Id, "return": Status}
    router.get(f"/leads/{prefix}", operation_id=f"{name}_list")(_list)
    router.post(f"/leads/{prefix}", response={201: dict}, operation_id=f"{name}_create")(_create)
    router.patch(f"/leads/{prefix}/{{int:item_id}}", operation_id=f"{name}_update")(_update)
    router.delete(f"/leads/{prefix}/{{int:item_id}}", response={204: None}, operation_id=f"{name}_delete")(_delete)


def _limits(info: Any) -> dict[str, Any]:
    """The length/range limits of a field, kept on its optional (PATCH) twin."""
    limits: dict[str, Any] = {}
    for meta in info.metadata:
        for key in ("max_length", "ge", "le"):
            if getattr(meta, key, None) is not None:
                limits[key] = getattr(meta, key)
    return limits


def _setup_get(request: HttpRequest, select: Any, pk: int) -> Any:
    obj = select(actor=request.user).filter(pk=pk).first()
    if obj is None:
        raise NotFound(f"Item {pk} was not found.")
    return obj


for _prefix, (_model, _schema, _select) in _SETUP.items():
    _setup_routes(_prefix, _model, _schema, _select)
