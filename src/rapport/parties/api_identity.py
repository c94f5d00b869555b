"""REST API of identity: the duplicate review queues, merges and their undo, for contacts and accounts.

Contacts: ``/duplicates``, ``/contacts/{id}/merge``, ``/merges/{id}``. Accounts, the same shapes:
``/account-duplicates``, ``/accounts/{id}/merge``, ``/account-merges/{id}``. Every endpoint needs
the kind's merge right (``parties.merge_contact`` / ``parties.merge_account``) besides read access
to the records involved; a pair or merge with a record the caller may not read is 404. A merge
must name the versions the caller saw (428 otherwise; a stale one is 409). The endpoint bodies are
written once (``_queue``, ``_pair_detail``, ...) and bound to each kind below.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from rapport.core.errors import PreconditionRequired
from rapport.core.schemas import Id, InSchema, Limit, Version
from rapport.parties import selectors
from rapport.parties.api import account_out, contact_out
from rapport.parties.duplicates import (
    duplicate_bulk_accept,
    duplicate_decide,
    duplicate_get,
    duplicate_queue,
    survivor_pick,
)
from rapport.parties.identity_kinds import ACCOUNT_KIND, CONTACT_KIND, IdentityKind
from rapport.parties.models import Account, Contact
from rapport.parties.schemas import AccountOut, ContactOut

router = Router(tags=["duplicates and merges"])

Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
FieldChoices = dict[Annotated[str, Field(max_length=100)], Annotated[str, Field(max_length=20)]]


class DuplicateQuery(Schema):
    min_probability: Probability | None = None
    status: str = Field("open", max_length=14)
    cursor: str | None = Field(None, max_length=1000)
    limit: Limit = 50


class ContactBrief(Schema):
    id: int
    full_name: str
    email: str
    phone: str
    account_id: int | None
    version: int


class PairOut(Schema):
    id: int
    probability: float
    status: str
    source: str
    contact_a: ContactBrief
    contact_b: ContactBrief
    created_at: dt.datetime
    decided_at: dt.datetime | None
    decided_by_id: int | None


class PairPage(Schema):
    items: list[PairOut]
    next: str | None


class MergeFieldOut(Schema):
    name: str
    label: str
    survivor_value: Any
    duplicate_value: Any
    rule: str
    default: str
    evidence: dict[str, Any] | None


class PairDetailOut(PairOut):
    evidence: dict[str, Any]
    survivor_id: int
    duplicate_id: int
    fields: list[MergeFieldOut]
    contacts: dict[str, ContactOut]


class DecisionIn(InSchema):
    decision: Annotated[str, Field(max_length=20)]
    field_choices: FieldChoices | None = None
    survivor_id: Id | None = None
    versions: dict[Annotated[str, Field(max_length=20)], Version] | None = None


class MergeOut(Schema):
    id: int
    survivor_id: int | None
    duplicate_id: int
    duplicate_repr: str
    actor_id: int | None
    created_at: dt.datetime
    survivor_changes: dict[str, Any]
    added: dict[str, Any]
    moved: dict[str, int]
    dropped: int
    undone_at: dt.datetime | None
    undone_by_id: int | None
    undo_report: dict[str, Any]


class DecisionOut(Schema):
    pair_id: int
    status: str
    decided_at: dt.datetime | None
    merge: MergeOut | None


class AcceptIn(InSchema):
    min_probability: Probability


class AcceptOut(Schema):
    merged: int
    skipped: int
    merges: list[int]
    problems: list[str]


class MergeIn(InSchema):
    duplicate_id: Id
    survivor_version: Version | None = None
    duplicate_version: Version | None = None
    field_choices: FieldChoices | None = None


class UndoOut(Schema):
    merge: MergeOut
    contact: ContactOut


class AccountBrief(Schema):
    id: int
    name: str
    domain: str
    phone: str
    parent_id: int | None
    version: int


class AccountPairOut(Schema):
    id: int
    probability: float
    status: str
    source: str
    account_a: AccountBrief
    account_b: AccountBrief
    created_at: dt.datetime
    decided_at: dt.datetime | None
    decided_by_id: int | None


class AccountPairPage(Schema):
    items: list[AccountPairOut]
    next: str | None


class AccountPairDetailOut(AccountPairOut):
    evidence: dict[str, Any]
    survivor_id: int
    duplicate_id: int
    fields: list[MergeFieldOut]
    accounts: dict[str, AccountOut]


class AccountUndoOut(Schema):
    merge: MergeOut
    account: AccountOut


def _brief(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "full_name": contact.full_name or str(contact),
        "email": contact.email,
        "phone": contact.phone,
        "account_id": contact.account_id,
        "version": contact.version,
    }


def _account_brief(account: Account) -> dict[str, Any]:
    return {"id": account.pk, "name": account.name, "domain": account.domain, "phone": account.phone,
            "parent_id": account.parent_id, "version": account.version}


_BRIEF = {"contact": _brief, "account": _account_brief}
_FULL = {"contact": contact_out, "account": account_out}


def pair_out(pair: Any, kind: IdentityKind = CONTACT_KIND) -> dict[str, Any]:
    brief = _BRIEF[kind.name]
    return {
        "id": pair.pk,
        "probability": pair.probability,
        "status": pair.status,
        "source": pair.source,
        kind.a_field: brief(pair.first),
        kind.b_field: brief(pair.second),
        "created_at": pair.created_at,
        "decided_at": pair.decided_at,
        "decided_by_id": pair.decided_by_id,
    }


def merge_out(merge: Any) -> dict[str, Any]:
    return {
        "id": merge.pk,
        "survivor_id": merge.survivor_id,
        "duplicate_id": merge.duplicate_id,
        "duplicate_repr": merge.duplicate_repr,
        "actor_id": merge.actor_id,
        "created_at": merge.created_at,
        "survivor_changes": merge.survivor_changes,
        "added": merge.added,
        "moved": {entry["model"]: len(entry["pks"]) for entry in merge.repointed},
        "dropped": len(merge.dropped),
        "undone_at": merge.undone_at,
        "undone_by_id": merge.undone_by_id,
        "undo_report": merge.undo_report,
    }


def pair_fields(pair: Any, survivor: Any, duplicate: Any, kind: IdentityKind = CONTACT_KIND) -> list[dict[str, Any]]:
    """The review rows: both values, the rule's default and the matcher's level, per field."""
    levels = (pair.evidence or {}).get("fields", {})
    rows = []
    for item in kind.merge_plan(survivor=survivor, duplicate=duplicate):
        matcher = kind.evidence_fields.get(item.name)
        rows.append(
            {
                "name": item.name,
                "label": item.label,
                "survivor_value": item.survivor_value,
                "duplicate_value": item.duplicate_value,
                "rule": item.rule,
                "default": item.default,
                "evidence": levels.get(matcher) if matcher else None,
            }
        )
    return rows


def _queue(request: HttpRequest, query: DuplicateQuery, kind: IdentityKind) -> dict[str, Any]:
    page = duplicate_queue(
        actor=request.user,
        min_probability=query.min_probability,
        cursor=query.cursor,
        limit=query.limit,
        status=query.status,
        kind=kind.name,
    )
    return {"items": [pair_out(pair, kind) for pair in page.items], "next": page.next_cursor}


def _accept(request: HttpRequest, payload: AcceptIn, kind: IdentityKind) -> dict[str, Any]:
    result = duplicate_bulk_accept(actor=request.user, min_probability=payload.min_probability, kind=kind.name)
    return {
        "merged": result.merged,
        "skipped": result.skipped,
        "merges": list(result.merges),
        "problems": list(result.problems),
    }


def _pair_detail(request: HttpRequest, pair_id: int, kind: IdentityKind) -> dict[str, Any]:
    pair = duplicate_get(actor=request.user, pair_id=pair_id, kind=kind.name)
    survivor, duplicate = survivor_pick(pair.first, pair.second)
    return {
        **pair_out(pair, kind),
        "evidence": pair.evidence,
        "survivor_id": survivor.pk,
        "duplicate_id": duplicate.pk,
        "fields": pair_fields(pair, survivor, duplicate, kind),
        f"{kind.name}s": {str(p.pk): _FULL[kind.name](p) for p in (pair.first, pair.second)},
    }


def _decide(request: HttpRequest, pair_id: int, payload: DecisionIn, kind: IdentityKind) -> dict[str, Any]:
    pair = duplicate_get(actor=request.user, pair_id=pair_id, kind=kind.name)
    if payload.decision == "merge":
        versions = payload.versions or {}
        if str(pair.first_id) not in versions or str(pair.second_id) not in versions:
            raise PreconditionRequired(
                f"Send the versions of both {kind.label_plural} you compared, as versions: {{id: version}}."
            )
    decision = duplicate_decide(
        actor=request.user,
        pair=pair,
        decision=payload.decision,
        field_choices=payload.field_choices,
        survivor_id=payload.survivor_id,
        versions=payload.versions,
        context={"via": "api"},
    )
    pair = decision.pair
    return {
        "pair_id": pair.pk,
        "status": pair.status,
        "decided_at": pair.decided_at,
        "merge": merge_out(decision.merge) if decision.merge else None,
    }


def _merge(request: HttpRequest, party_id: int, payload: MergeIn, kind: IdentityKind) -> Status:
    get = selectors.account_get if kind.name == "account" else selectors.contact_get
    key = "account_id" if kind.name == "account" else "contact_id"
    survivor = get(actor=request.user, **{key: party_id})
    duplicate = get(actor=request.user, **{key: payload.duplicate_id})
    if payload.survivor_version is None or payload.duplicate_version is None:
        raise PreconditionRequired(
            f"Send survivor_version and duplicate_version: the versions of the two {kind.label_plural} you compared."
        )
    merge = kind.merge(
        actor=request.user,
        survivor=survivor,
        duplicate=duplicate,
        field_choices=payload.field_choices,
        survivor_version=payload.survivor_version,
        duplicate_version=payload.duplicate_version,
        context={"via": "api"},
    )
    return Status(201, merge_out(merge))


def _undo(request: HttpRequest, merge_id: int, kind: IdentityKind) -> dict[str, Any]:
    merge = kind.merge_get(actor=request.user, merge_id=merge_id)
    party = kind.merge_undo(actor=request.user, merge=merge, context={"via": "api"})
    merge.refresh_from_db()
    return {"merge": merge_out(merge), kind.name: _FULL[kind.name](party)}


# --- contacts ------------------------------------------------------------------------------------


@router.get("/duplicates", response=PairPage)
def duplicates_list(request: HttpRequest, query: Query[DuplicateQuery]) -> dict[str, Any]:
    """Possible duplicates whose both contacts you may see, most probable first; pass `next` as `cursor`."""
    return _queue(request, query, CONTACT_KIND)


@router.post("/duplicates/accept", response=AcceptOut)
def duplicates_accept(request: HttpRequest, payload: AcceptIn) -> dict[str, Any]:
    """Merge every open pair at or above `min_probability` that you may merge, most probable first."""
    return _accept(request, payload, CONTACT_KIND)


@router.get("/duplicates/{pair_id}", response=PairDetailOut)
def duplicates_get(request: HttpRequest, pair_id: Id) -> dict[str, Any]:
    """Both contacts side by side, the matcher's evidence, and what a merge would keep by default."""
    return _pair_detail(request, pair_id, CONTACT_KIND)


@router.post("/duplicates/{pair_id}/decision", response=DecisionOut)
def duplicates_decide(request: HttpRequest, pair_id: Id, payload: DecisionIn) -> dict[str, Any]:
    """`merge` (send `versions`: `{contact_id: version}` of both contacts, optionally `survivor_id` and
    `field_choices`), `not_duplicate` (never proposed again) or `skip`."""
    return _decide(request, pair_id, payload, CONTACT_KIND)


@router.post("/contacts/{contact_id}/merge", response={201: MergeOut})
def contacts_merge(request: HttpRequest, contact_id: Id, payload: MergeIn) -> Status:
    """Merge `duplicate_id` into this contact. Send both versions you saw; see `GET /merges/{id}` to undo."""
    return _merge(request, contact_id, payload, CONTACT_KIND)


@router.get("/merges/{merge_id}", response=MergeOut)
def merges_get(request: HttpRequest, merge_id: Id) -> dict[str, Any]:
    return merge_out(CONTACT_KIND.merge_get(actor=request.user, merge_id=merge_id))


@router.post("/merges/{merge_id}/undo", response=UndoOut)
def merges_undo(request: HttpRequest, merge_id: Id) -> dict[str, Any]:
    """Bring the merged contact back. Survivor fields edited since the merge keep the later value:
    `undo_report.kept` lists them."""
    return _undo(request, merge_id, CONTACT_KIND)


# --- accounts ------------------------------------------------------------------------------------


@router.get("/account-duplicates", response=AccountPairPage)
def account_duplicates_list(request: HttpRequest, query: Query[DuplicateQuery]) -> dict[str, Any]:
    """Possible duplicate accounts whose both accounts you may see, most probable first; pass `next` as `cursor`."""
    return _queue(request, query, ACCOUNT_KIND)


@router.post("/account-duplicates/accept", response=AcceptOut)
def account_duplicates_accept(request: HttpRequest, payload: AcceptIn) -> dict[str, Any]:
    """Merge every open account pair at or above `min_probability` that you may merge, most probable first."""
    return _accept(request, payload, ACCOUNT_KIND)


@router.get("/account-duplicates/{pair_id}", response=AccountPairDetailOut)
def account_duplicates_get(request: HttpRequest, pair_id: Id) -> dict[str, Any]:
    """Both accounts side by side, the matcher's evidence, and what a merge would keep by default."""
    return _pair_detail(request, pair_id, ACCOUNT_KIND)


@router.post("/account-duplicates/{pair_id}/decision", response=DecisionOut)
def account_duplicates_decide(request: HttpRequest, pair_id: Id, payload: DecisionIn) -> dict[str, Any]:
    """`merge` (send `versions`: `{account_id: version}` of both accounts, optionally `survivor_id` and
    `field_choices`), `not_duplicate` (never proposed again) or `skip`."""
    return _decide(request, pair_id, payload, ACCOUNT_KIND)


@router.post("/accounts/{account_id}/merge", response={201: MergeOut})
def accounts_merge(request: HttpRequest, account_id: Id, payload: MergeIn) -> Status:
    """Merge `duplicate_id` into this account. Send both versions you saw; `POST /account-merges/{id}/undo` undoes."""
    return _merge(request, account_id, payload, ACCOUNT_KIND)


@router.get("/account-merges/{merge_id}", response=MergeOut)
def account_merges_get(request: HttpRequest, merge_id: Id) -> dict[str, Any]:
    return merge_out(ACCOUNT_KIND.merge_get(actor=request.user, merge_id=merge_id))


@router.post("/account-merges/{merge_id}/undo", response=AccountUndoOut)
def account_merges_undo(request: HttpRequest, merge_id: Id) -> dict[str, Any]:
    """Bring the merged account back with its contacts, memberships, child accounts and timeline.
    Survivor fields edited since the merge keep the later value: `undo_report.kept` lists them."""
    return _undo(request, merge_id, ACCOUNT_KIND)
