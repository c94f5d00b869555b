"""REST API of customer service: cases. Reads go through ``selectors`` (narrowed to what the
caller may see), writes through the services; errors are problem+json (``core.api_support``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from rapport.core.api_support import etag_set, expected_version, patch_data
from rapport.core.errors import ValidationFailed
from rapport.core.models import User
from rapport.core.pagination import page_out
from rapport.core.schemas import Id, Limit
from rapport.parties import selectors as party_selectors
from rapport.service import selectors, services
from rapport.service.models import Case
from rapport.service.schemas import CaseIn, CaseOut, CasePage, CasePatchIn

router = Router(tags=["service"])
_Cursor = Query(None, max_length=1000)

_CASE_FIELDS = (
    "id", "account_id", "contact_id", "owner_id", "team_id", "subject", "description", "channel", "kind",
    "priority", "status", "opened_at", "resolved_at", "resolution", "satisfaction", "created_at", "updated_at",
    "version",
)  # fmt: skip


def case_out(case: Case) -> dict[str, Any]:
    return {f: getattr(case, f) for f in _CASE_FIELDS}


def _owner(pk: int | None) -> User | None:
    if pk is None:
        return None
    owner = User.objects.filter(pk=pk, is_active=True).first()
    if owner is None:
        raise ValidationFailed(f"There is no active user {pk}.", field_errors={"owner_id": ["Unknown user."]})
    return owner


@router.get("/cases", response=CasePage)
def cases_list(
    request: HttpRequest,
    account_id: Id | None = None,
    status: str = Query("", max_length=10),
    kind: str = Query("", max_length=10),
    cursor: str | None = _Cursor,
    limit: Limit = 50,
) -> dict[str, Any]:
    """Cases you may see, newest opened first; filter by account, status and kind."""
    qs = selectors.case_list(actor=request.user, account_id=account_id, status=status, kind=kind)
    return page_out(qs, ["-opened_at"], cursor, limit, case_out)


@router.post("/cases", response={201: CaseOut})
def cases_create(request: HttpRequest, payload: CaseIn, response: HttpResponse) -> Status:
    """Open a case for an account, optionally from one of its contacts (status `new`)."""
    actor = request.user
    account = party_selectors.account_get(actor=actor, account_id=payload.account_id)
    contact = party_selectors.contact_get(actor=actor, contact_id=payload.contact_id) if payload.contact_id else None
    case = services.case_open(
        actor=actor,
        account=account,
        contact=contact,
        owner=_owner(payload.owner_id),
        **payload.dict(exclude={"account_id", "contact_id", "owner_id"}),
    )
    etag_set(response, case)
    return Status(201, case_out(case))


@router.get("/cases/{case_id}", response=CaseOut)
def cases_get(request: HttpRequest, case_id: Id, response: HttpResponse) -> dict[str, Any]:
    case = selectors.case_get(actor=request.user, case_id=case_id)
    etag_set(response, case)
    return case_out(case)


@router.patch("/cases/{case_id}", response=CaseOut)
def cases_update(request: HttpRequest, case_id: Id, payload: CasePatchIn, response: HttpResponse) -> dict[str, Any]:
    """Work a case: change its fields, resolve or close it (stamps `resolved_at`), reopen it (clears
    `resolved_at` and `satisfaction`), record the customer's satisfaction (1-5, once done)."""
    case = selectors.case_get(actor=request.user, case_id=case_id)
    version = expected_version(request, case, payload.version)
    case = services.case_update(actor=request.user, case=case, data=patch_data(payload), expected_version=version)
    etag_set(response, case)
    return case_out(case)


__all__ = ["router"]
