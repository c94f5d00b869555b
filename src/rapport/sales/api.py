"""REST API of opportunities (CRUD with versions, moves, products, history, suggestions),
pipelines and stages. Errors are problem+json (``core.api_support``); reads go through
``sales.selectors``, writes through the services, so the board and the API behave alike."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from rapport.commerce.models import Product
from rapport.core import permissions
from rapport.core.api_support import etag_set, expected_version, patch_data
from rapport.core.errors import NotFound
from rapport.core.models import User
from rapport.core.pagination import keyset_page
from rapport.core.schemas import Id, Limit
from rapport.parties.models import Account, Contact
from rapport.sales import selectors, services, services_deals
from rapport.sales.models import Opportunity, Pipeline, Stage
from rapport.sales.schemas import (
    LinesIn,
    MoveIn,
    OpportunityIn,
    OpportunityPatchIn,
    PipelineIn,
    PipelinePatchIn,
    ReorderIn,
    StageIn,
    StagePatchIn,
)

router = Router(tags=["opportunities"])


class ListQuery(Schema):
    status: str | None = Field(None, max_length=10)
    stage: str | None = Field(None, max_length=20)
    pipeline: str | None = Field(None, max_length=20)
    owner: str | None = Field(None, max_length=20)
    account: str | None = Field(None, max_length=20)
    close_from: str | None = Field(None, max_length=10)
    close_to: str | None = Field(None, max_length=10)
    q: str | None = Field(None, max_length=100)
    cursor: str | None = Field(None, max_length=1000)
    limit: Limit = 50


class ColumnQuery(Schema):
    cursor: str | None = Field(None, max_length=1000)
    limit: Limit = selectors.BOARD_PAGE


_OUT = ("id", "name", "account_id", "contact_id", "pipeline_id", "stage_id", "status", "amount", "currency",
        "probability", "probability_overridden", "forecast_category", "expected_close_date", "next_step",
        "competitors", "description", "source", "campaign", "lead_id", "close_reason", "stage_entered_at",
        "closed_at", "owner_id", "team_id", "created_at", "updated_at", "version")


def opportunity_out(opp: Opportunity, *, detail: bool = False) -> dict[str, Any]:
    body = {name: getattr(opp, name) for name in _OUT}
    body["weighted_amount"] = opp.weighted_amount
    if detail:
        body["lines"] = [{"id": ln.pk, "product_id": ln.product_id, "quantity": ln.quantity,
                          "unit_price": ln.unit_price, "discount_percent": ln.discount_percent}
                         for ln in opp.lines.all()]
    return body


def card_out(opp: Opportunity) -> dict[str, Any]:
    return {name: getattr(opp, name) for name in selectors.CARD_COLUMNS}


def _readable(actor: Any, model: type[Any], pk: int | None) -> Any:
    if pk is None:
        return None
    obj = model.objects.filter(pk=pk).first()
    if obj is None or not permissions.can_read(actor, obj):
        raise NotFound(f"{model._meta.verbose_name.capitalize()} {pk} was not found.")
    return obj


def _user(pk: int | None) -> User | None:
    if pk is None:
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        raise NotFound(f"User {pk} was not found.")
    return user


def _stage(actor: Any, pk: int | None) -> Stage | None:
    return None if pk is None else selectors.stage_get(actor=actor, pk=pk)


# --- opportunities -------------------------------------------------------------------------


@router.get("/opportunities")
def opportunities_list(request: HttpRequest, query: Query[ListQuery]) -> dict[str, Any]:
    """Opportunities you may see, by expected close date; filter by status, stage, pipeline,
    owner (id or `me`), account, close range and name."""
    qs = selectors.opportunity_list(actor=request.user, filters=query.dict(exclude={"cursor", "limit"}))
    page = keyset_page(qs, ordering=["expected_close_date"], cursor=query.cursor, limit=query.limit)
    return {"items": [opportunity_out(o) for o in page.items], "next": page.next_cursor}


@router.post("/opportunities", response={201: dict})
def opportunities_create(request: HttpRequest, payload: OpportunityIn, response: HttpResponse) -> Status:
    actor = request.user
    pipeline = selectors.pipeline_get(actor=actor, pk=payload.pipeline_id) if payload.pipeline_id else None
    opp = services.opportunity_create(
        actor=actor, account=_readable(actor, Account, payload.account_id),
        contact=_readable(actor, Contact, payload.contact_id), name=payload.name, amount=payload.amount,
        currency=payload.currency, expected_close_date=payload.expected_close_date, pipeline=pipeline,
        stage=_stage(actor, payload.stage_id), owner=_user(payload.owner_id), probability=payload.probability,
        next_step=payload.next_step, competitors=payload.competitors, description=payload.description,
        source=payload.source, campaign=payload.campaign,
    )
    etag_set(response, opp)
    return Status(201, opportunity_out(opp, detail=True))


@router.get("/opportunities/{int:opportunity_id}")
def opportunities_get(request: HttpRequest, opportunity_id: Id, response: HttpResponse) -> dict[str, Any]:
    opp = selectors.opportunity_get(actor=request.user, pk=opportunity_id)
    etag_set(response, opp)
    return opportunity_out(opp, detail=True)


@router.patch("/opportunities/{int:opportunity_id}")
def opportunities_update(
    request: HttpRequest, opportunity_id: Id, payload: OpportunityPatchIn, response: HttpResponse
) -> dict[str, Any]:
    """Change fields; send `version` or `If-Match`. `probability: null` goes back to the stage's."""
    actor = request.user
    opp = selectors.opportunity_get(actor=actor, pk=opportunity_id)
    version = expected_version(request, opp, payload.version)
    data = patch_data(payload)
    if "contact_id" in data:
        data["contact"] = _readable(actor, Contact, data.pop("contact_id"))
    if "owner_id" in data:
        data["owner"] = _user(data.pop("owner_id"))
    opp = services_deals.opportunity_update(actor=actor, opportunity=opp, data=data, expected_version=version)
    etag_set(response, opp)
    return opportunity_out(opp, detail=True)


@router.delete("/opportunities/{int:opportunity_id}", response={204: None})
def opportunities_delete(request: HttpRequest, opportunity_id: Id, version: int | None = None) -> Status:
    opp = selectors.opportunity_get(actor=request.user, pk=opportunity_id)
    services_deals.opportunity_delete(actor=request.user, opportunity=opp,
                                      expected_version=expected_version(request, opp, version))
    return Status(204, None)


@router.post("/opportunities/{int:opportunity_id}/move")
def opportunities_move(request: HttpRequest, opportunity_id: Id, payload: MoveIn, response: HttpResponse) -> dict:
    """Move to another stage of the same pipeline (the board's drop). A stale `version` gets 409
    with the current version; moving into a lost stage needs `close_reason`."""
    actor = request.user
    opp = selectors.opportunity_get(actor=actor, pk=opportunity_id)
    stage = selectors.stage_get(actor=actor, pk=payload.stage_id)
    opp = services.opportunity_move(actor=actor, opportunity=opp, stage=stage,
                                    expected_version=expected_version(request, opp, payload.version),
                                    close_reason=payload.close_reason)
    etag_set(response, opp)
    return opportunity_out(opp)


@router.put("/opportunities/{int:opportunity_id}/lines")
def opportunities_lines(request: HttpRequest, opportunity_id: Id, payload: LinesIn, response: HttpResponse) -> dict:
    """Replace the deal's products."""
    actor = request.user
    opp = selectors.opportunity_get(actor=actor, pk=opportunity_id)
    version = expected_version(request, opp, payload.version)
    products = {p.pk: p for p in Product.objects.filter(pk__in=[ln.product_id for ln in payload.lines])}
    lines = [{**ln.dict(), "product": products.get(ln.product_id)} for ln in payload.lines]
    services_deals.opportunity_lines_set(actor=actor, opportunity=opp, lines=lines, expected_version=version)
    etag_set(response, opp)
    return opportunity_out(opp, detail=True)


@router.get("/opportunities/{int:opportunity_id}/history")
def opportunities_history(request: HttpRequest, opportunity_id: Id) -> dict[str, Any]:
    """Stages entered, with when, by whom and how long the deal stayed."""
    opp = selectors.opportunity_get(actor=request.user, pk=opportunity_id)
    return {"items": [{"from_stage_id": row.change.from_stage_id, "to_stage_id": row.change.to_stage_id,
                       "to_stage": row.change.to_stage.name, "changed_at": row.change.changed_at,
                       "changed_by_id": row.change.changed_by_id, "amount": row.change.amount,
                       "probability": row.change.probability, "seconds_in_stage": int(row.duration.total_seconds())}
                      for row in selectors.opportunity_history(opportunity=opp)]}


@router.get("/opportunities/{int:opportunity_id}/suggestions")
def opportunities_suggestions(request: HttpRequest, opportunity_id: Id) -> dict[str, Any]:
    """Cross-sell, up-sell and bundle suggestions from co-purchases in order history."""
    from rapport.sales.recommend import suggestions_for

    opp = selectors.opportunity_get(actor=request.user, pk=opportunity_id)
    return suggestions_for(opportunity=opp).as_dict()


# --- pipelines, stages and the board -------------------------------------------------------


def stage_out(stage: Stage) -> dict[str, Any]:
    return {name: getattr(stage, name) for name in
            ("id", "pipeline_id", "name", "position", "probability", "kind", "forecast_category", "is_active")}


def pipeline_out(pipeline: Pipeline) -> dict[str, Any]:
    body = {name: getattr(pipeline, name) for name in ("id", "name", "description", "is_default", "is_active",
                                                       "version")}
    body["stages"] = [stage_out(s) for s in pipeline.stages.order_by("position")]
    return body


@router.get("/pipelines", tags=["pipelines"])
def pipelines_list(request: HttpRequest, include_inactive: bool = False) -> dict[str, Any]:
    return {"items": [pipeline_out(p) for p in
                      selectors.pipeline_list(actor=request.user, include_inactive=include_inactive)]}


@router.post("/pipelines", response={201: dict}, tags=["pipelines"])
def pipelines_create(request: HttpRequest, payload: PipelineIn) -> Status:
    data = payload.dict()
    stages = data.pop("stages")
    pipeline = services_deals.pipeline_create(actor=request.user, data=data, stages=stages)
    return Status(201, pipeline_out(pipeline))


@router.get("/pipelines/{int:pipeline_id}", tags=["pipelines"])
def pipelines_get(request: HttpRequest, pipeline_id: Id) -> dict[str, Any]:
    return pipeline_out(selectors.pipeline_get(actor=request.user, pk=pipeline_id))


@router.patch("/pipelines/{int:pipeline_id}", tags=["pipelines"])
def pipelines_update(request: HttpRequest, pipeline_id: Id, payload: PipelinePatchIn) -> dict[str, Any]:
    pipeline = selectors.pipeline_get(actor=request.user, pk=pipeline_id)
    data = patch_data(payload)
    pipeline = services_deals.pipeline_update(actor=request.user, pipeline=pipeline, data=data,
                                              expected_version=expected_version(request, pipeline, payload.version))
    return pipeline_out(pipeline)


@router.delete("/pipelines/{int:pipeline_id}", response={204: None}, tags=["pipelines"])
def pipelines_delete(request: HttpRequest, pipeline_id: Id) -> Status:
    services_deals.pipeline_delete(actor=request.user,
                                   pipeline=selectors.pipeline_get(actor=request.user, pk=pipeline_id))
    return Status(204, None)


@router.post("/pipelines/{int:pipeline_id}/stages", response={201: dict}, tags=["pipelines"])
def stages_create(request: HttpRequest, pipeline_id: Id, payload: StageIn) -> Status:
    pipeline = selectors.pipeline_get(actor=request.user, pk=pipeline_id)
    return Status(201, stage_out(services_deals.stage_create(actor=request.user, pipeline=pipeline,
                                                             data=payload.dict())))


@router.post("/pipelines/{int:pipeline_id}/stages/reorder", tags=["pipelines"])
def stages_reorder(request: HttpRequest, pipeline_id: Id, payload: ReorderIn) -> dict[str, Any]:
    pipeline = selectors.pipeline_get(actor=request.user, pk=pipeline_id)
    stages = services_deals.stages_reorder(actor=request.user, pipeline=pipeline, stage_ids=payload.stage_ids)
    return {"items": [stage_out(s) for s in stages]}


@router.patch("/stages/{int:stage_id}", tags=["pipelines"])
def stages_update(request: HttpRequest, stage_id: Id, payload: StagePatchIn) -> dict[str, Any]:
    stage = selectors.stage_get(actor=request.user, pk=stage_id)
    return stage_out(services_deals.stage_update(actor=request.user, stage=stage,
                                                 data=payload.dict(exclude_unset=True)))


@router.delete("/stages/{int:stage_id}", response={204: None}, tags=["pipelines"])
def stages_delete(request: HttpRequest, stage_id: Id) -> Status:
    services_deals.stage_delete(actor=request.user, stage=selectors.stage_get(actor=request.user, pk=stage_id))
    return Status(204, None)


@router.get("/pipelines/{int:pipeline_id}/board", tags=["pipelines"])
def pipelines_board(request: HttpRequest, pipeline_id: Id) -> dict[str, Any]:
    """The board: per active stage its first page of cards, count, total and weighted total (in
    ``currency``, the company's, at today's rates; ``unconverted`` counts deals without a rate)."""
    pipeline = selectors.pipeline_get(actor=request.user, pk=pipeline_id)
    return {"pipeline": {"id": pipeline.pk, "name": pipeline.name}, "columns": [
        {"stage": stage_out(col.stage), "count": col.count, "total": col.total, "weighted": col.weighted,
         "currency": col.currency, "unconverted": col.unconverted,
         "items": [card_out(o) for o in col.page.items], "next": col.page.next_cursor}
        for col in selectors.board_columns(actor=request.user, pipeline=pipeline)]}


@router.get("/stages/{int:stage_id}/cards", tags=["pipelines"])
def stages_cards(request: HttpRequest, stage_id: Id, query: Query[ColumnQuery]) -> dict[str, Any]:
    """The next page of one board column."""
    stage = selectors.stage_get(actor=request.user, pk=stage_id)
    page = selectors.board_column_page(actor=request.user, stage=stage, cursor=query.cursor, limit=query.limit)
    return {"items": [card_out(o) for o in page.items], "next": page.next_cursor}
