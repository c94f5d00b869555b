"""REST API of identity: the duplicate review queue, merges and their undo.

Every endpoint needs the merge right (``parties.merge_contact``) besides read access to the
contacts involved; a pair or merge with a contact the caller may not read is 404. A merge must
name the versions the caller saw (428 otherwise; a stale one is 409).
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
from rapport.parties.api import contact_out
from rapport.parties.duplicates import (
    EVIDENCE_FIELDS,
    duplicate_bulk_accept,
    duplicate_decide,
    duplicate_get,
    duplicate_queue,
    survivor_pick,
)
from rapport.parties.merge import contact_merge, contact_merge_get, contact_merge_plan, contact_merge_undo
from rapport.parties.models import Contact, ContactMerge, DuplicatePair
from rapport.parties.schemas import ContactOut

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


def _brief(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "full_name": contact.full_name or str(contact),
        "email": contact.email,
        "phone": contact.phone,
        "account_id": contact.account_id,
        "version": contact.version,
    }


def pair_out(pair: DuplicatePair) -> dict[str, Any]:
    return {
        "id": pair.pk,
        "probability": pair.probability,
        "status": pair.status,
        "source": pair.source,
        "contact_a": _brief(pair.contact_a),
        "contact_b": _brief(pair.contact_b),
        "created_at": pair.created_at,
        "decided_at": pair.decided_at,
        "decided_by_id": pair.decided_by_id,
    }


def merge_out(merge: ContactMerge) -> dict[str, Any]:
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


def pair_fields(pair: DuplicatePair, survivor: Contact, duplicate: Contact) -> list[dict[str, Any]]:
    """The review rows: both values, the rule's default and the matcher's level, per field."""
    levels = (pair.evidence or {}).get("fields", {})
    rows = []
    for item in contact_merge_plan(survivor=survivor, duplicate=duplicate):
        matcher = EVIDENCE_FIELDS.get(item.name)
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


@router.get("/duplicates", response=PairPage)
def duplicates_list(request: HttpRequest, query: Query[DuplicateQuery]) -> dict[str, Any]:
    """Possible duplicates whose both contacts you may see, most probable first; pass `next` as `cursor`."""
    page = duplicate_queue(
        actor=request.user,
        min_probability=query.min_probability,
        cursor=query.cursor,
        limit=query.limit,
        status=query.status,
    )
    return {"items": [pair_out(pair) for pair in page.items], "next": page.next_cursor}


@router.post("/duplicates/accept", response=AcceptOut)
def duplicates_accept(request: HttpRequest, payload: AcceptIn) -> dict[str, Any]:
    """Merge every open pair at or above `min_probability` that you may merge, most probable first."""
    result = duplicate_bulk_accept(actor=request.user, min_probability=payload.min_probability)
    return {
        "merged": result.merged,
        "skipped": result.skipped,
        "merges": list(result.merges),
        "problems": list(result.problems),
    }


@router.get("/duplicates/{pair_id}", response=PairDetailOut)
def duplicates_get(request: HttpRequest, pair_id: Id) -> dict[str, Any]:
    """Both contacts side by side, the matcher's evidence, and what a merge would keep by default."""
    pair = duplicate_get(actor=request.user, pair_id=pair_id)
    survivor, duplicate = survivor_pick(pair.contact_a, pair.contact_b)
    return {
        **pair_out(pair),
        "evidence": pair.evidence,
        "survivor_id": survivor.pk,
        "duplicate_id": duplicate.pk,
        "fields": pair_fields(pair, survivor, duplicate),
        "contacts": {str(c.pk): contact_out(c) for c in (pair.contact_a, pair.contact_b)},
    }


@router.post("/duplicates/{pair_id}/decision", response=DecisionOut)
def duplicates_decide(request: HttpRequest, pair_id: Id, payload: DecisionIn) -> dict[str, Any]:
    """`merge` (send `versions`: `{contact_id: version}` of both contacts, optionally `survivor_id` and
    `field_choices`), `not_duplicate` (never proposed again) or `skip`."""
    pair = duplicate_get(actor=request.user, pair_id=pair_id)
    if payload.decision == "merge":
        versions = payload.versions or {}
        if str(pair.contact_a_id) not in versions or str(pair.contact_b_id) not in versions:
            raise PreconditionRequired(
                "Send the versions of both contacts you compared, as versions: {contact_id: version}."
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


@router.post("/contacts/{contact_id}/merge", response={201: MergeOut})
def contacts_merge(request: HttpRequest, contact_id: Id, payload: MergeIn) -> Status:
    """Merge `duplicate_id` into this contact. Send both versions you saw; see `GET /merges/{id}` to undo."""
    survivor = selectors.contact_get(actor=request.user, contact_id=contact_id)
    duplicate = selectors.contact_get(actor=request.user, contact_id=payload.duplicate_id)
    if payload.survivor_version is None or payload.duplicate_version is None:
        raise PreconditionRequired(
            "Send survivor_version and duplicate_version: the versions of the two contacts you compared."
        )
    merge = contact_merge(
        actor=request.user,
        survivor=survivor,
        duplicate=duplicate,
        field_choices=payload.field_choices,
        survivor_version=payload.survivor_version,
        duplicate_version=payload.duplicate_version,
        context={"via": "api"},
    )
    return Status(201, merge_out(merge))


@router.get("/merges/{merge_id}", response=MergeOut)
def merges_get(request: HttpRequest, merge_id: Id) -> dict[str, Any]:
    return merge_out(contact_merge_get(actor=request.user, merge_id=merge_id))


@router.post("/merges/{merge_id}/undo", response=UndoOut)
def merges_undo(request: HttpRequest, merge_id: Id) -> dict[str, Any]:
    """Bring the merged contact back. Survivor fields edited since the merge keep the later value:
    `undo_report.kept` lists them."""
    merge = contact_merge_get(actor=request.user, merge_id=merge_id)
    contact = contact_merge_undo(actor=request.user, merge=merge, context={"via": "api"})
    merge.refresh_from_db()
    return {"merge": merge_out(merge), "contact": contact_out(contact)}
