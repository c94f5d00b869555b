"""Reads on accounts and contacts, always narrowed to what the actor may see."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from rapport.core import permissions
from rapport.core.choices import CustomFieldType
from rapport.core.errors import ValidationFailed
from rapport.core.models import CustomFieldDefinition, User
from rapport.parties.choices import ChurnRisk, CompanySize, Industry, LifecycleStage, RfmSegment, Tier
from rapport.parties.models import Account, Contact
from rapport.parties.normalize import email_normalize, looks_like_phone, phone_search_forms

CONTACT_ORDERINGS = {
    "name": ["last_name", "first_name"],
    "-name": ["-last_name", "-first_name"],
    "updated": ["updated_at"],
    "-updated": ["-updated_at"],
    "created": ["created_at"],
    "-created": ["-created_at"],
    "email": ["email"],
    "-email": ["-email"],
}
ACCOUNT_ORDERINGS = {
    "name": ["name"],
    "-name": ["-name"],
    "updated": ["updated_at"],
    "-updated": ["-updated_at"],
    "created": ["created_at"],
    "-created": ["-created_at"],
}


@dataclass(frozen=True)
class ContactFilters:
    """What a contact list can be narrowed by. Every field is optional."""

    q: str = ""
    lifecycle_stage: str = ""
    owner_id: int | None = None
    team_id: int | None = None
    account_id: int | None = None
    tag: str = ""
    source: str = ""
    preferred_channel: str = ""
    email: str = ""
    phone: str = ""
    updated_after: dt.datetime | None = None
    custom: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class AccountFilters:
    q: str = ""
    industry: str = ""
    tier: str = ""
    size: str = ""
    owner_id: int | None = None
    team_id: int | None = None
    parent_id: int | None = None
    tag: str = ""
    domain: str = ""
    # Scores from the insights job (see ``Account.value_segment``); indexed with the name order.
    value_segment: str = ""
    value_tier: str = ""
    churn_risk: str = ""
    custom: tuple[tuple[str, str], ...] = ()


CUSTOM_PARAM_PREFIX = "cf_"


def _param_int(params: Mapping[str, Any], name: str, strict: bool) -> int | None:
    raw = str(params.get(name) or "").strip()
    if raw.isdigit() and len(raw) < 19:
        return int(raw)
    if raw and strict:
        raise ValidationFailed(f"{name} must be a number.", field_errors={name: ["Not a number."]})
    return None


def _param_choice(params: Mapping[str, Any], name: str, allowed: list[str]) -> str:
    value = str(params.get(name) or "").strip()
    return value if value in allowed else ""


def _param_text(params: Mapping[str, Any], name: str) -> str:
    return str(params.get(name) or "").strip()


def _param_custom(model: type[Contact] | type[Account], params: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """``cf_<key>=value`` pairs naming a custom field of ``model`` (others are ignored)."""
    wanted = {key.removeprefix(CUSTOM_PARAM_PREFIX) for key in params if key.startswith(CUSTOM_PARAM_PREFIX)}
    if not wanted:
        return ()
    ct = ContentType.objects.get_for_model(model)
    known = set(CustomFieldDefinition.objects.filter(content_type=ct, key__in=wanted).values_list("key", flat=True))
    return tuple(
        (key, str(params.get(CUSTOM_PARAM_PREFIX + key)))
        for key in sorted(known)
        if params.get(CUSTOM_PARAM_PREFIX + key)
    )


def contact_filters_from(params: Mapping[str, Any], *, strict: bool = False) -> ContactFilters:
    """The contact list's filters from its query string, as the web list and its export read it.

    One parser for both, so an export holds exactly the rows the list showed. Values a filter
    cannot take (an unknown stage, a non-numeric id) are ignored, as a hand-edited URL would be,
    except that ``strict`` refuses a non-numeric id (the export API says what was wrong).
    Custom fields come as ``cf_<key>=value``.
    """
    return ContactFilters(
        q=_param_text(params, "q"),
        lifecycle_stage=_param_choice(params, "lifecycle_stage", LifecycleStage.values),
        owner_id=_param_int(params, "owner_id", strict),
        team_id=_param_int(params, "team_id", strict),
        account_id=_param_int(params, "account_id", strict),
        tag=_param_text(params, "tag"),
        source=_param_text(params, "source"),
        custom=_param_custom(Contact, params),
    )


def account_filters_from(params: Mapping[str, Any], *, strict: bool = False) -> AccountFilters:
    """The account list's filters from its query string (see ``contact_filters_from``)."""
    return AccountFilters(
        q=_param_text(params, "q"),
        industry=_param_choice(params, "industry", Industry.values),
        tier=_param_choice(params, "tier", Tier.values),
        size=_param_choice(params, "size", CompanySize.values),
        owner_id=_param_int(params, "owner_id", strict),
        team_id=_param_int(params, "team_id", strict),
        parent_id=_param_int(params, "parent_id", strict),
        tag=_param_text(params, "tag"),
        domain=_param_text(params, "domain"),
        value_segment=_param_choice(params, "value_segment", RfmSegment.values),
        value_tier=_param_choice(params, "value_tier", Tier.values),
        churn_risk=_param_choice(params, "churn_risk", ChurnRisk.values),
        custom=_param_custom(Account, params),
    )


def _custom_q(model: type[Contact] | type[Account], custom: tuple[tuple[str, str], ...]) -> Q:
    """Filter on custom fields: ``(key, value)`` pairs, typed by their definitions."""
    if not custom:
        return Q()
    ct = ContentType.objects.get_for_model(model)
    defs = {d.key: d for d in CustomFieldDefinition.objects.filter(content_type=ct)}
    q = Q()
    for key, raw in custom:
        definition = defs.get(key)
        if definition is None:
            raise ValidationFailed("Unknown custom field.", field_errors={f"custom.{key}": ["No such custom field."]})
        if definition.field_type == CustomFieldType.BOOLEAN:
            value: Any = str(raw).lower() in {"1", "true", "yes", "on"}
        else:
            value = str(raw)
        if definition.field_type == CustomFieldType.TEXT:
            q &= Q(**{f"custom__{key}__icontains": value})
        else:
            q &= Q(**{f"custom__{key}": value})
    return q


def contact_queryset(*, actor: User) -> QuerySet[Contact]:
    return permissions.readable(actor, Contact.objects.all())


def contact_list(*, actor: User, filters: ContactFilters) -> QuerySet[Contact]:
    """Contacts the actor may read that match ``filters`` (unordered; callers paginate).

    Only the list's own columns are joined (the account's name); nothing is counted.
    """
    qs = contact_queryset(actor=actor).select_related("account", "owner")
    f = filters
    if f.q:
        ids = contact_search_ids(actor=actor, query=f.q, limit=500)
        qs = qs.filter(pk__in=ids)
    if f.lifecycle_stage:
        qs = qs.filter(lifecycle_stage=f.lifecycle_stage)
    if f.owner_id:
        qs = qs.filter(owner_id=f.owner_id)
    if f.team_id:
        qs = qs.filter(team_id=f.team_id)
    if f.account_id:
        qs = qs.filter(Q(account_id=f.account_id) | Q(memberships__account_id=f.account_id)).distinct()
    if f.tag:
        qs = qs.filter(tags__name=f.tag)
    if f.source:
        qs = qs.filter(source=f.source)
    if f.preferred_channel:
        qs = qs.filter(preferred_channel=f.preferred_channel)
    if f.email:
        try:
            email = email_normalize(f.email)
        except ValueError:
            email = f.email.strip().lower()
        qs = qs.filter(emails__email=email)
    if f.phone:
        qs = qs.filter(phones__number__in=phone_search_forms(f.phone))
    if f.updated_after:
        qs = qs.filter(updated_at__gt=f.updated_after)
    return qs.filter(_custom_q(Contact, f.custom))


CONTACT_RELATED = ("account", "owner", "team", "reports_to", "created_by")
# The columns a row of a contact list shows (list pages, the list API, colleagues on a 360).
CONTACT_LIST_COLUMNS = (
    "id", "first_name", "last_name", "title", "email", "phone", "account_id", "account__name", "lifecycle_stage",
    "owner_id", "team_id", "updated_at", "created_at", "version",
)


def contact_get(*, actor: User, contact_id: Any, related: tuple[str, ...] = CONTACT_RELATED) -> Contact:
    """The contact if ``actor`` may read it, else ``NotFound``; ``related`` are joined in (the API
    needs only the account; each join costs the ORM time to compile, not the database)."""
    return permissions.get_readable(actor, Contact.objects.select_related(*related), contact_id)


def contact_colleagues(*, actor: User, contact: Contact, limit: int = 20) -> list[Contact]:
    """Other contacts of the contact's primary account that ``actor`` may read, by name."""
    if not contact.account_id:
        return []
    return list(
        contact_queryset(actor=actor)
        .filter(account_id=contact.account_id)
        .exclude(pk=contact.pk)
        .select_related("account")
        .only(*CONTACT_LIST_COLUMNS)
        .order_by("last_name", "first_name", "id")[:limit]
    )


def account_queryset(*, actor: User) -> QuerySet[Account]:
    return permissions.readable(actor, Account.objects.all())


def account_list(*, actor: User, filters: AccountFilters) -> QuerySet[Account]:
    qs = account_queryset(actor=actor).select_related("owner", "parent")
    f = filters
    if f.q:
        qs = qs.filter(pk__in=account_search_ids(actor=actor, query=f.q, limit=500))
    for name in ("industry", "tier", "size", "owner_id", "team_id", "parent_id", "value_segment", "value_tier",
                 "churn_risk"):
        value = getattr(f, name)
        if value:
            qs = qs.filter(**{name: value})
    if f.domain:
        qs = qs.filter(domain=f.domain.strip().lower().removeprefix("www."))
    if f.tag:
        qs = qs.filter(tags__name=f.tag)
    return qs.filter(_custom_q(Account, f.custom))


def account_get(*, actor: User, account_id: Any) -> Account:
    return permissions.get_readable(
        actor, Account.objects.select_related("owner", "team", "parent", "created_by"), account_id
    )


# --- search --------------------------------------------------------------------------------


def contact_search_ids(*, actor: User, query: str, limit: int = 20) -> list[int]:
    from rapport.parties.search import search_ids

    return search_ids(contact_queryset(actor=actor), query=query, limit=limit, exact=_contact_exact_ids(query))


def account_search_ids(*, actor: User, query: str, limit: int = 20) -> list[int]:
    from rapport.parties.search import search_ids

    return search_ids(account_queryset(actor=actor), query=query, limit=limit, exact=_account_exact_ids(query))


def _contact_exact_ids(query: str) -> Q | None:
    """Exact matches on indexed columns: an email, or a phone in any format."""
    text = query.strip()
    if "@" in text:
        try:
            return Q(emails__email=email_normalize(text))
        except ValueError:
            return Q(emails__email=text.lower())
    if looks_like_phone(text):
        return Q(phones__number__in=phone_search_forms(text))
    return None


def _account_exact_ids(query: str) -> Q | None:
    text = query.strip()
    if "." in text and " " not in text:
        return Q(domain=text.lower().removeprefix("www."))
    if looks_like_phone(text):
        return Q(phone__in=phone_search_forms(text))
    return None


def search_all(*, actor: User, query: str, limit: int = 10) -> dict[str, list[Any]]:
    """The global search box: contacts and accounts, best matches first."""
    result: dict[str, list[Any]] = {"contacts": [], "accounts": []}
    if not query.strip():
        return result
    if actor.has_perm("parties.view_contact"):
        ids = contact_search_ids(actor=actor, query=query, limit=limit)
        rows = Contact.objects.select_related("account").in_bulk(ids)
        result["contacts"] = [rows[i] for i in ids if i in rows]
    if actor.has_perm("parties.view_account"):
        ids = account_search_ids(actor=actor, query=query, limit=limit)
        rows = Account.objects.in_bulk(ids)
        result["accounts"] = [rows[i] for i in ids if i in rows]
    return result
