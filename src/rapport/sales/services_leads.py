"""Writes of leads: create (any channel), update, status changes, the lead timeline, delete.

Every channel (form, API, CSV import, web form, inbound email) creates through
:func:`lead_create`, so every lead is normalised the same way, scored, assigned by the rules
and has its source and campaign recorded. Public channels pass ``actor=None`` and a
``fallback_owner``; they are trusted only as far as the web form or mailbox that received them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rapport.commerce.writes import clean, create
from rapport.core import permissions
from rapport.core.audit import audit_record, diff, snapshot
from rapport.core.errors import DomainError, ValidationFailed
from rapport.core.models import User
from rapport.core.versioning import versioned_save
from rapport.parties.duplicate_check import duplicate_check, duplicate_payload
from rapport.parties.normalize import email_normalize, phone_normalize
from rapport.sales.assignment import lead_assign
from rapport.sales.choices import DisqualifyReason, LeadStatus
from rapport.sales.models import Lead
from rapport.sales.models_leads import LeadEvent, LeadEventKind
from rapport.sales.scoring import lead_score_refresh

EDITABLE = ("first_name", "last_name", "company", "title", "email", "phone", "website", "industry", "employees",
            "country", "region", "city", "postal_code", "description", "source", "campaign", "marketing_consent")
LOGGABLE = (LeadEventKind.CALL, LeadEventKind.EMAIL, LeadEventKind.MEETING, LeadEventKind.NOTE, LeadEventKind.TASK)


class LeadConverted(DomainError):
    """A converted lead is history: it is changed through the account and contact it became."""

    status = 409
    slug = "lead-converted"
    title = "The lead was converted already"


def lead_normalize(data: dict[str, Any]) -> dict[str, Any]:
    """Trimmed values, lower-cased email, E.164 phone, upper-case country; ``ValidationFailed`` per field."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    for name, value in data.items():
        if name not in EDITABLE:
            errors[name] = ["Unknown field."]
            continue
        if name == "marketing_consent":
            out[name] = bool(value)
        elif name == "employees":
            if value in (None, ""):
                out[name] = None
            else:
                try:
                    out[name] = int(str(value).strip())
                    if out[name] < 0:
                        raise ValueError
                except ValueError:
                    errors[name] = ["Give a whole number of employees."]
        else:
            out[name] = str(value if value is not None else "").strip()
    if out.get("email"):
        try:
            out["email"] = email_normalize(out["email"])
        except ValueError as exc:
            errors["email"] = [f"Not a valid email address: {exc}."]
    if out.get("phone"):
        try:
            out["phone"] = phone_normalize(out["phone"], settings.RAPPORT_DEFAULT_PHONE_REGION)
        except ValueError as exc:
            errors["phone"] = [f"Not a valid phone number: {exc}."]
    if out.get("country"):
        out["country"] = out["country"].upper()
        if len(out["country"]) != 2 or not out["country"].isalpha():
            errors["country"] = ["Use a two-letter ISO 3166 country code."]
    if errors:
        raise ValidationFailed("The lead is not valid.", field_errors=errors)
    return out


def lead_duplicates(*, actor: User | None, data: dict[str, Any], exclude_id: int | None = None) -> dict[str, Any]:
    """Contacts the identity matcher finds for ``data`` and leads with the same email or phone.

    Only what ``actor`` may read is listed (with a count of the rest); public channels (no actor)
    get the lead matches only, never shown to the visitor.
    """
    email, phone = data.get("email") or "", data.get("phone") or ""
    leads = Lead.objects.none()
    if email or phone:
        from django.db.models import Q

        q = Q()
        if email:
            q |= Q(email=email)
        if phone:
            q |= Q(phone=phone)
        leads = Lead.objects.filter(q)
        if exclude_id:
            leads = leads.exclude(pk=exclude_id)
    contacts: list[dict[str, Any]] = []
    hidden = 0
    if actor is not None and actor.has_perm("parties.add_contact"):
        check = duplicate_check(actor=actor, data={
            "first_name": data.get("first_name", ""), "last_name": data.get("last_name", ""),
            "emails": [email] if email else [], "phones": [phone] if phone else [],
            "addresses": [{"city": data.get("city", ""), "postal_code": data.get("postal_code", "")}],
        })
        contacts = [duplicate_payload(m) for m in check.matches]
        hidden = check.hidden
    visible = permissions.readable(actor, leads) if actor is not None else leads
    lead_rows = [{"lead_id": lead.pk, "name": str(lead), "email": lead.email, "phone": lead.phone,
                  "status": lead.status} for lead in visible.order_by("-created_at")[:10]]
    return {"contacts": contacts, "leads": lead_rows, "hidden": hidden}


def _event(lead: Lead, kind: str, *, actor: User | None, subject: str = "", body: str = "",
           due: dt.date | None = None, at: dt.datetime | None = None) -> LeadEvent:
    return LeadEvent.objects.create(lead=lead, kind=kind, actor=actor if getattr(actor, "pk", None) else None,
                                    subject=subject[:200], body=body, due=due, at=at or timezone.now())


@transaction.atomic
def lead_create(
    *,
    actor: User | None,
    data: dict[str, Any],
    source: str = "",
    campaign: str = "",
    fallback_owner: User | None = None,
    assign: bool = True,
    channel: str = "manual",
    event: tuple[str, str, str] | None = None,
    notify: bool = True,
) -> Lead:
    """Create a lead, score it and run the assignment rules, in one transaction.

    ``actor=None`` is a public channel (web form, inbound mail): no permission check, the lead
    falls back to ``fallback_owner``. ``source``/``campaign`` fill what ``data`` leaves blank.
    ``event``: (kind, subject, body) of the engagement that brought the lead (a form submission, a mail).
    """
    if actor is not None:
        permissions.require_model_perm(actor, Lead, "add")
    values = lead_normalize(data)
    values.setdefault("source", "")
    values["source"] = values["source"] or source or channel
    values["campaign"] = values.get("campaign") or campaign
    if not any(values.get(k) for k in ("first_name", "last_name", "company", "email", "phone")):
        raise ValidationFailed("Give at least a name, a company, an email address or a phone number.",
                               field_errors={"last_name": ["Give a name, a company, an email or a phone."]})
    owner = actor if actor is not None else fallback_owner
    lead = Lead(**values, owner=owner, team_id=getattr(owner, "team_id", None))
    create(lead, actor=actor, what="lead", context={"channel": channel})
    if event is not None:
        _event(lead, event[0], actor=actor, subject=event[1], body=event[2])
    lead_score_refresh(lead)
    if assign:
        lead_assign(lead=lead, actor=actor, fallback=fallback_owner or actor, notify=notify)
    return lead


def _writable(actor: User, lead: Lead) -> None:
    permissions.check_write(actor, lead)
    if lead.status == LeadStatus.CONVERTED:
        raise LeadConverted(
            f"Lead {lead.pk} was converted on {lead.converted_at:%Y-%m-%d}; change its contact instead.")


@transaction.atomic
def lead_update(*, actor: User, lead: Lead, data: dict[str, Any], expected_version: int | None) -> Lead:
    """Change the lead's fields (not its status: :func:`lead_status_set`); rescored after."""
    _writable(actor, lead)
    values = lead_normalize(data)
    before = snapshot(lead)
    for name, value in values.items():
        setattr(lead, name, value)
    clean(lead, "lead")
    versioned_save(lead, expected_version=expected_version, fields=list(values) or ["description"])
    changes = diff(before, snapshot(lead))
    if changes:
        audit_record(actor=actor, action="update", instance=lead, changes=changes)
    lead_score_refresh(lead)
    return lead


@transaction.atomic
def lead_status_set(*, actor: User, lead: Lead, status: str, expected_version: int | None,
                    reason: str = "") -> Lead:
    """Move the lead between new/contacted/qualified/disqualified; disqualifying needs a reason.

    ``converted`` is only reached through conversion.
    """
    _writable(actor, lead)
    if status == LeadStatus.CONVERTED or status not in LeadStatus.values:
        raise ValidationFailed("Choose new, contacted, qualified or disqualified (conversion converts).",
                               field_errors={"status": ["Not a status you can set."]})
    if status == LeadStatus.DISQUALIFIED and reason not in DisqualifyReason.values:
        raise ValidationFailed("Say why the lead is disqualified.",
                               field_errors={"reason": [f"One of: {', '.join(DisqualifyReason.values)}."]})
    before = {"status": lead.status, "disqualify_reason": lead.disqualify_reason}
    lead.status = status
    lead.disqualify_reason = reason if status == LeadStatus.DISQUALIFIED else ""
    versioned_save(lead, expected_version=expected_version, fields=["status", "disqualify_reason"])
    after = {"status": lead.status, "disqualify_reason": lead.disqualify_reason}
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changes:
        audit_record(actor=actor, action="update", instance=lead, changes=changes)
        label = LeadStatus(status).label + (f" ({DisqualifyReason(reason).label})" if reason and
                                            status == LeadStatus.DISQUALIFIED else "")
        _event(lead, LeadEventKind.STATUS, actor=actor, subject=f"Status: {label}")
    return lead


@transaction.atomic
def lead_log(*, actor: User, lead: Lead, kind: str, subject: str = "", body: str = "",
             due: dt.date | None = None) -> LeadEvent:
    """Log a call, email, meeting, note or task on the lead; an engagement event, so it rescores."""
    permissions.check_write(actor, lead)
    if lead.status == LeadStatus.CONVERTED:
        raise LeadConverted("The lead was converted; log this on its contact.")
    if kind not in LOGGABLE:
        raise ValidationFailed("Log a call, email, meeting, note or task.",
                               field_errors={"kind": [f"One of: {', '.join(LOGGABLE)}."]})
    if not (subject or "").strip() and not (body or "").strip():
        raise ValidationFailed("Write what happened.", field_errors={"body": ["Write something."]})
    event = _event(lead, kind, actor=actor, subject=(subject or "").strip(), body=(body or "").strip(), due=due)
    fields = ["last_activity_at"]
    lead.last_activity_at = event.at
    if lead.status == LeadStatus.NEW and kind != LeadEventKind.NOTE:
        lead.status = LeadStatus.CONTACTED
        fields.append("status")
    versioned_save(lead, expected_version=None, fields=fields)
    lead_score_refresh(lead)
    return event


@transaction.atomic
def lead_delete(*, actor: User, lead: Lead, expected_version: int | None) -> None:
    permissions.check_write(actor, lead, "delete")
    if expected_version is not None and expected_version != lead.version:
        from rapport.core.errors import Conflict

        raise Conflict(f"Lead {lead.pk} changed since version {expected_version}.", current_version=lead.version)
    audit_record(actor=actor, action="delete", instance=lead, changes={})
    lead.delete()


@transaction.atomic
def lead_reassign(*, actor: User, lead: Lead) -> Lead:
    """Re-run the assignment rules on demand."""
    _writable(actor, lead)
    lead_assign(lead=lead, actor=actor, fallback=lead.owner or actor)
    return lead


# --- lead set-up: scoring rules, assignment rules, web forms ----------------------------------------

SETUP_FIELDS: dict[str, tuple[str, ...]] = {
    "leadscoringrule": ("name", "kind", "field", "operator", "value", "points", "position", "is_active"),
    "assignmentrule": ("name", "position", "is_active", "countries", "region", "postcode_prefix", "industry",
                       "employees_min", "employees_max", "strategy", "user_id", "team_id"),
    "webform": ("name", "fields", "required", "source", "campaign", "thank_you_text", "redirect_url",
                "double_opt_in", "owner_id", "is_active"),
}


def _setup_check(instance: Any) -> None:
    from rapport.sales.models_leads import LeadScoringRule, WebForm
    from rapport.sales.scoring import rule_validate
    from rapport.sales.webforms import webform_fields_clean

    if isinstance(instance, LeadScoringRule):
        rule_validate(kind=instance.kind, field=instance.field, operator=instance.operator, value=instance.value)
    if isinstance(instance, WebForm):
        instance.fields, instance.required = webform_fields_clean(list(instance.fields or []),
                                                                  list(instance.required or []))


def _setup_apply(instance: Any, data: dict[str, Any]) -> None:
    allowed = SETUP_FIELDS[instance._meta.model_name]
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationFailed(f"Unknown fields: {', '.join(unknown)}.",
                               field_errors={u: ["Unknown field."] for u in unknown})
    for name, value in data.items():
        if name in ("user_id", "owner_id") and value is not None and not User.objects.filter(pk=value).exists():
            raise ValidationFailed("No such user.", field_errors={name: ["No such user."]})
        if name == "team_id" and value is not None:
            from rapport.core.models import Team

            if not Team.objects.filter(pk=value).exists():
                raise ValidationFailed("No such team.", field_errors={name: ["No such team."]})
        setattr(instance, name, value)
    _setup_check(instance)


def _rescore_if_rules(instance: Any) -> None:
    from rapport.sales.models_leads import LeadScoringRule
    from rapport.sales.scoring import leads_rescore_all

    if isinstance(instance, LeadScoringRule):
        transaction.on_commit(leads_rescore_all)


@transaction.atomic
def setup_create(*, actor: User, model: type[Any], data: dict[str, Any]) -> Any:
    """Create a scoring rule, assignment rule or web form (sales managers and administrators)."""
    permissions.require_model_perm(actor, model, "add")
    instance = model()
    _setup_apply(instance, data)
    create(instance, actor=actor, what=str(model._meta.verbose_name))
    _rescore_if_rules(instance)
    return instance


@transaction.atomic
def setup_update(*, actor: User, instance: Any, data: dict[str, Any], expected_version: int | None) -> Any:
    permissions.require_model_perm(actor, type(instance), "change")
    before = snapshot(instance)
    _setup_apply(instance, data)
    clean(instance, str(instance._meta.verbose_name))
    fields = [type(instance)._meta.get_field(n.removesuffix("_id")).name for n in data] or ["name"]
    versioned_save(instance, expected_version=expected_version, fields=fields)
    changes = diff(before, snapshot(instance))
    if changes:
        audit_record(actor=actor, action="update", instance=instance, changes=changes)
    _rescore_if_rules(instance)
    return instance


@transaction.atomic
def setup_delete(*, actor: User, instance: Any) -> None:
    permissions.require_model_perm(actor, type(instance), "delete")
    audit_record(actor=actor, action="delete", instance=instance, changes={})
    _rescore_if_rules(instance)
    instance.delete()
