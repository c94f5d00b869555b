"""REST API of accounts and contacts: CRUD, filters, keyset pagination, ETags, history, search.

Endpoint bodies parse, call one service or selector, and shape the answer. Access rules live
in the selectors/services (``core.permissions``); a record the caller may not read is 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from rapport.core.api_support import etag_for, expected_version, patch_data
from rapport.core.audit import audit_history
from rapport.core.errors import ValidationFailed
from rapport.core.pagination import keyset_page
from rapport.core.schemas import AuditEventOut, Id, Limit, Version, audit_out
from rapport.parties import selectors, services
from rapport.parties.details import account_details, contact_details
from rapport.parties.duplicate_check import contact_create_checked, duplicate_check, duplicate_payload
from rapport.parties.models import Account, Contact
from rapport.parties.schemas import (
    AccountCreateIn,
    AccountOut,
    AccountPage,
    AccountPatchIn,
    ContactCreatedOut,
    ContactCreateIn,
    ContactOut,
    ContactPage,
    ContactPatchIn,
    DuplicateCheckOut,
    SearchOut,
)

router = Router(tags=["accounts and contacts"])

_CONTACT_LIST_COLUMNS = selectors.CONTACT_LIST_COLUMNS
_ACCOUNT_LIST_COLUMNS = (
    "id",
    "name",
    "domain",
    "industry",
    "size",
    "tier",
    "owner_id",
    "team_id",
    "parent_id",
    "updated_at",
    "created_at",
    "version",
)


def _custom_pairs(values: list[str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in values:
        key, sep, value = item.partition(":")
        if not sep or not key:
            raise ValidationFailed("Custom filters look like key:value.", field_errors={"custom": [item]})
        pairs.append((key, value))
    return tuple(pairs)


def _ordering(value: str, allowed: dict[str, list[str]]) -> list[str]:
    if value not in allowed:
        raise ValidationFailed("Unknown ordering.", field_errors={"ordering": [f"Use one of {', '.join(allowed)}."]})
    return allowed[value]


def _with_etag(response: HttpResponse, obj: Any) -> HttpResponse:
    response["ETag"] = etag_for(obj)
    return response


def _delete_version(request: HttpRequest, obj: Any, version: int | None) -> int | None:
    """A delete may name the version it saw (query ``version`` or If-Match); it need not."""
    if version is None and not request.headers.get("If-Match"):
        return None
    return expected_version(request, obj, version)


# --- contacts ------------------------------------------------------------------------------


class ContactQuery(Schema):
    q: str = Field("", max_length=200)
    lifecycle_stage: str = Field("", max_length=20)
    owner_id: Id | None = None
    team_id: Id | None = None
    account_id: Id | None = None
    tag: str = Field("", max_length=50)
    source: str = Field("", max_length=50)
    preferred_channel: str = Field("", max_length=10)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    updated_after: dt.datetime | None = None
    custom: list[str] = Field(default_factory=list, description="Custom-field filters as key:value")
    ordering: str = "name"
    cursor: str | None = Field(None, max_length=1000)
    limit: Limit = 50

    def filters(self) -> selectors.ContactFilters:
        return selectors.ContactFilters(
            q=self.q,
            lifecycle_stage=self.lifecycle_stage,
            owner_id=self.owner_id,
            team_id=self.team_id,
            account_id=self.account_id,
            tag=self.tag,
            source=self.source,
            preferred_channel=self.preferred_channel,
            email=self.email,
            phone=self.phone,
            updated_after=self.updated_after,
            custom=_custom_pairs(self.custom),
        )


def contact_list_item(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "full_name": contact.full_name,
        "title": contact.title,
        "email": contact.email,
        "phone": contact.phone,
        "account_id": contact.account_id,
        "account_name": contact.account.name if contact.account_id else None,
        "lifecycle_stage": contact.lifecycle_stage,
        "owner_id": contact.owner_id,
        "team_id": contact.team_id,
        "updated_at": contact.updated_at,
        "version": contact.version,
    }


def contact_out(contact: Contact) -> dict[str, Any]:
    details = contact_details(contact.pk)
    return {
        **contact_list_item(contact),
        "birthday": contact.birthday,
        "language": contact.language,
        "time_zone": contact.time_zone,
        "preferred_channel": contact.preferred_channel,
        "source": contact.source,
        "external_id": contact.external_id,
        "reports_to_id": contact.reports_to_id,
        **details,
        "custom": contact.custom,
        "created_at": contact.created_at,
        "created_by_id": contact.created_by_id,
    }


@router.get("/contacts", response=ContactPage)
def contacts_list(request: HttpRequest, query: Query[ContactQuery]) -> dict[str, Any]:
    """Contacts you may see, filtered, ordered (`name`, `-name`, `updated`, `-updated`, `created`,
    `-created`, `email`, `-email`), one page at a time; pass `next` back as `cursor`."""
    qs = selectors.contact_list(actor=request.user, filters=query.filters()).only(*_CONTACT_LIST_COLUMNS)
    page = keyset_page(
        qs, ordering=_ordering(query.ordering, selectors.CONTACT_ORDERINGS), cursor=query.cursor, limit=query.limit
    )
    return {"items": [contact_list_item(c) for c in page.items], "next": page.next_cursor}


class CreateQuery(Schema):
    on_duplicate: Literal["warn", "block", "off"] = Field(
        "warn",
        description="warn: create, list possible duplicates and queue likely ones for review; block: refuse "
        "with 409 `possible-duplicate` when a likely duplicate exists; off: no check.",
    )


@router.post("/contacts", response={201: ContactCreatedOut})
def contacts_create(
    request: HttpRequest, payload: ContactCreateIn, response: HttpResponse, query: Query[CreateQuery]
) -> Status:
    """Create a contact. Existing contacts it probably duplicates come back in `possible_duplicates`
    (see `POST /contacts/duplicate-check`), and likely pairs go to the duplicate review queue."""
    created = contact_create_checked(
        actor=request.user, data=patch_data(payload), on_duplicate=query.on_duplicate, context={"via": "api"}
    )
    contact = created.contact
    _with_etag(response, contact)
    response["Location"] = f"{reverse('api:contacts_get', args=[contact.pk])}"
    body = contact_out(contact)
    body["possible_duplicates"] = [duplicate_payload(m) for m in created.check.matches]
    return Status(201, body)


@router.post("/contacts/duplicate-check", response=DuplicateCheckOut)
def contacts_duplicate_check(request: HttpRequest, payload: ContactCreateIn) -> dict[str, Any]:
    """Which existing contacts a contact with these fields would probably duplicate, with the
    evidence per field; nothing is written. Needs the right to add contacts."""
    check = duplicate_check(actor=request.user, data=patch_data(payload))
    return {"possible_duplicates": [duplicate_payload(m) for m in check.matches], "hidden": check.hidden,
            "matcher": check.matcher}


@router.get("/contacts/{contact_id}", response=ContactOut, url_name="contacts_get")
def contacts_get(request: HttpRequest, contact_id: Id, response: HttpResponse) -> dict[str, Any]:
    contact = selectors.contact_get(actor=request.user, contact_id=contact_id, related=("account",))
    _with_etag(response, contact)
    return contact_out(contact)


@router.patch("/contacts/{contact_id}", response=ContactOut)
def contacts_update(request: HttpRequest, contact_id: Id, payload: ContactPatchIn, response: HttpResponse) -> dict:
    """Change some fields. Send the `version` you read (or `If-Match: <ETag>`); a stale one is
    refused with 409 (412 for If-Match) and the current version."""
    contact = selectors.contact_get(actor=request.user, contact_id=contact_id)
    version = expected_version(request, contact, payload.version)
    contact = services.contact_update(
        actor=request.user,
        contact=contact,
        data=patch_data(payload),
        expected_version=version,
        context={"via": "api"},
    )
    _with_etag(response, contact)
    return contact_out(contact)


@router.delete("/contacts/{contact_id}", response={204: None})
def contacts_delete(request: HttpRequest, contact_id: Id, version: Version | None = None) -> Status:
    contact = selectors.contact_get(actor=request.user, contact_id=contact_id)
    services.contact_delete(
        actor=request.user, contact=contact, expected_version=_delete_version(request, contact, version)
    )
    return Status(204, None)


@router.get("/contacts/{contact_id}/history", response=list[AuditEventOut])
def contacts_history(request: HttpRequest, contact_id: Id) -> list[dict]:
    contact = selectors.contact_get(actor=request.user, contact_id=contact_id)
    return [audit_out(event) for event in audit_history(contact)]


# --- accounts ------------------------------------------------------------------------------


class AccountQuery(Schema):
    q: str = Field("", max_length=200)
    industry: str = Field("", max_length=20)
    tier: str = Field("", max_length=10)
    size: str = Field("", max_length=10)
    owner_id: Id | None = None
    team_id: Id | None = None
    parent_id: Id | None = None
    tag: str = Field("", max_length=50)
    domain: str = Field("", max_length=253)
    custom: list[str] = Field(default_factory=list, description="Custom-field filters as key:value")
    ordering: str = "name"
    cursor: str | None = Field(None, max_length=1000)
    limit: Limit = 50

    def filters(self) -> selectors.AccountFilters:
        return selectors.AccountFilters(
            q=self.q,
            industry=self.industry,
            tier=self.tier,
            size=self.size,
            owner_id=self.owner_id,
            team_id=self.team_id,
            parent_id=self.parent_id,
            tag=self.tag,
            domain=self.domain,
            custom=_custom_pairs(self.custom),
        )


def account_list_item(account: Account) -> dict[str, Any]:
    return {
        name: getattr(account, name)
        for name in (
            "id",
            "name",
            "domain",
            "industry",
            "size",
            "tier",
            "owner_id",
            "team_id",
            "parent_id",
            "updated_at",
            "version",
        )
    }


def account_out(account: Account) -> dict[str, Any]:
    return {
        **account_list_item(account),
        "website": account.website,
        "annual_revenue": account.annual_revenue,
        "currency": account.currency,
        "phone": account.phone,
        "description": account.description,
        "external_id": account.external_id,
        **account_details(account.pk),
        "custom": account.custom,
        "created_at": account.created_at,
        "created_by_id": account.created_by_id,
    }


@router.get("/accounts", response=AccountPage)
def accounts_list(request: HttpRequest, query: Query[AccountQuery]) -> dict[str, Any]:
    """Accounts you may see, filtered and ordered (`name`, `-name`, `updated`, `-updated`, `created`, `-created`)."""
    qs = selectors.account_list(actor=request.user, filters=query.filters()).only(*_ACCOUNT_LIST_COLUMNS)
    page = keyset_page(
        qs, ordering=_ordering(query.ordering, selectors.ACCOUNT_ORDERINGS), cursor=query.cursor, limit=query.limit
    )
    return {"items": [account_list_item(a) for a in page.items], "next": page.next_cursor}


@router.post("/accounts", response={201: AccountOut})
def accounts_create(request: HttpRequest, payload: AccountCreateIn, response: HttpResponse) -> Status:
    account = services.account_create(actor=request.user, data=patch_data(payload), context={"via": "api"})
    _with_etag(response, account)
    response["Location"] = reverse("api:accounts_get", args=[account.pk])
    return Status(201, account_out(account))


@router.get("/accounts/{account_id}", response=AccountOut, url_name="accounts_get")
def accounts_get(request: HttpRequest, account_id: Id, response: HttpResponse) -> dict[str, Any]:
    account = selectors.account_get(actor=request.user, account_id=account_id)
    _with_etag(response, account)
    return account_out(account)


@router.patch("/accounts/{account_id}", response=AccountOut)
def accounts_update(request: HttpRequest, account_id: Id, payload: AccountPatchIn, response: HttpResponse) -> dict:
    account = selectors.account_get(actor=request.user, account_id=account_id)
    version = expected_version(request, account, payload.version)
    account = services.account_update(
        actor=request.user,
        account=account,
        data=patch_data(payload),
        expected_version=version,
        context={"via": "api"},
    )
    _with_etag(response, account)
    return account_out(account)


@router.delete("/accounts/{account_id}", response={204: None})
def accounts_delete(request: HttpRequest, account_id: Id, version: Version | None = None) -> Status:
    account = selectors.account_get(actor=request.user, account_id=account_id)
    services.account_delete(
        actor=request.user, account=account, expected_version=_delete_version(request, account, version)
    )
    return Status(204, None)


@router.get("/accounts/{account_id}/history", response=list[AuditEventOut])
def accounts_history(request: HttpRequest, account_id: Id) -> list[dict]:
    account = selectors.account_get(actor=request.user, account_id=account_id)
    return [audit_out(event) for event in audit_history(account)]


# --- search --------------------------------------------------------------------------------


@router.get("/search", response=SearchOut)
def search(request: HttpRequest, q: str = Query(..., max_length=200), limit: Limit = 10) -> dict[str, Any]:
    """Contacts and accounts by name, email, phone (any format) or company; tolerant of typos."""
    found = selectors.search_all(actor=request.user, query=q, limit=limit)
    return {
        "contacts": [
            {
                "type": "contact",
                "id": c.pk,
                "title": str(c),
                "subtitle": " · ".join(p for p in (c.email, c.account.name if c.account_id else "") if p),
                "url": f"/contacts/{c.pk}/",
            }
            for c in found["contacts"]
        ],
        "accounts": [
            {"type": "account", "id": a.pk, "title": a.name, "subtitle": a.domain, "url": f"/accounts/{a.pk}/"}
            for a in found["accounts"]
        ],
    }
