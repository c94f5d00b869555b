"""Reads of opportunities, pipelines and the kanban board, narrowed to what the actor may see.

Row access is decided by ``core.permissions`` only. The board reads one page per column from the
``(stage, -updated_at, -id)`` index and the column figures (count, total, weighted total) with one
grouped aggregate, so its cost does not grow with the number of deals shown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from rapport.commerce.pricing import NoExchangeRate, company_currency
from rapport.commerce.rate_table import RateTable
from rapport.core import permissions
from rapport.core.errors import NotFound, ValidationFailed
from rapport.core.models import User
from rapport.core.pagination import Page, keyset_page
from rapport.sales.choices import OpportunityStatus
from rapport.sales.models import Opportunity, Pipeline, Stage, StageChange

BOARD_PAGE = 20
BOARD_ORDER = ["-updated_at"]
# What a card shows: nothing else is read for the board.
CARD_COLUMNS = ("id", "name", "stage_id", "pipeline_id", "amount", "currency", "probability", "expected_close_date",
                "owner_id", "account_id", "updated_at", "version", "status")
LIST_COLUMNS = (*CARD_COLUMNS, "next_step", "created_at")


def opportunity_list(*, actor: User, filters: dict[str, Any] | None = None) -> QuerySet[Opportunity]:
    """Opportunities the actor may see, filtered by status, stage, pipeline, owner (id, ``me`` or
    ``team``: the actor's team and the teams they manage), account, expected close range
    (``close_from``/``close_to``) and a name search ``q``."""
    permissions.require_model_perm(actor, Opportunity, "view")
    qs = permissions.readable(actor, Opportunity.objects.all())
    filters = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
    if "status" in filters:
        if filters["status"] not in OpportunityStatus.values:
            raise ValidationFailed("Unknown status.", field_errors={"status": ["open, won or lost."]})
        qs = qs.filter(status=filters["status"])
    for key in ("stage", "pipeline", "account"):
        if key in filters:
            qs = qs.filter(**{f"{key}_id": _int(filters[key], key)})
    if "owner" in filters:
        owner = filters["owner"]
        if owner == "team":
            teams = {*permissions.managed_team_ids(actor), *([actor.team_id] if actor.team_id else [])}
            qs = qs.filter(team_id__in=teams) if teams else qs.filter(owner_id=actor.pk)
        else:
            qs = qs.filter(owner_id=actor.pk if owner == "me" else _int(owner, "owner"))
    if "close_from" in filters:
        qs = qs.filter(expected_close_date__gte=_date(filters["close_from"], "close_from"))
    if "close_to" in filters:
        qs = qs.filter(expected_close_date__lte=_date(filters["close_to"], "close_to"))
    if "q" in filters:
        qs = qs.filter(name__icontains=str(filters["q"])[:100])
    return qs


def _int(value: Any, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{field} must be a number.", field_errors={field: ["A number."]}) from None
    if not 0 < number < 2**63:
        raise ValidationFailed(f"{field} is out of range.", field_errors={field: ["Out of range."]})
    return number


def _date(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(f"{field} must be a date (YYYY-MM-DD).", field_errors={field: ["A date."]}) from None


def opportunity_get(*, actor: User, pk: int) -> Opportunity:
    permissions.require_model_perm(actor, Opportunity, "view")
    return permissions.get_readable(
        actor, Opportunity.objects.select_related("account", "contact", "pipeline", "stage", "owner"), pk
    )


@dataclass(frozen=True)
class HistoryRow:
    """One stage the deal was in, and for how long (up to now for the current one)."""

    change: StageChange
    duration: dt.timedelta


def opportunity_history(*, opportunity: Opportunity) -> list[HistoryRow]:
    changes = list(
        StageChange.objects.filter(opportunity=opportunity).select_related("from_stage", "to_stage", "changed_by")
    )
    now = timezone.now()
    rows = []
    for index, change in enumerate(changes):
        end = changes[index + 1].changed_at if index + 1 < len(changes) else (opportunity.closed_at or now)
        rows.append(HistoryRow(change=change, duration=max(end - change.changed_at, dt.timedelta(0))))
    return rows


# --- pipelines and stages ------------------------------------------------------------------


def pipeline_list(*, actor: User, include_inactive: bool = False) -> QuerySet[Pipeline]:
    permissions.require_model_perm(actor, Pipeline, "view")
    qs = Pipeline.objects.order_by("-is_default", "name")
    return qs if include_inactive else qs.filter(is_active=True)


def pipeline_get(*, actor: User, pk: int) -> Pipeline:
    permissions.require_model_perm(actor, Pipeline, "view")
    pipeline = Pipeline.objects.filter(pk=pk).first()
    if pipeline is None:
        raise NotFound(f"Pipeline {pk} was not found.")
    return pipeline


def stage_get(*, actor: User, pk: int) -> Stage:
    permissions.require_model_perm(actor, Stage, "view")
    stage = Stage.objects.select_related("pipeline").filter(pk=pk).first()
    if stage is None:
        raise NotFound(f"Stage {pk} was not found.")
    return stage


def stages_in_use(*, pipeline: Pipeline) -> set[int]:
    """Ids of the pipeline's stages that a deal or a history row points at (they cannot be deleted)."""
    ids = set(Opportunity.objects.filter(pipeline=pipeline).values_list("stage_id", flat=True).distinct())
    ids |= set(StageChange.objects.filter(to_stage__pipeline=pipeline).values_list("to_stage_id", flat=True).distinct())
    return ids


# --- the kanban board ----------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A board column: its first page of cards and the figures of all its deals. ``total`` and
    ``weighted`` are in ``currency`` (the company's), each deal converted at today's rate;
    deals in a currency without a rate are counted but left out of both, by currency in
    ``unconverted`` (so a missing rate never hides the board)."""

    stage: Stage
    page: Page[Opportunity]
    count: int
    total: Decimal
    weighted: Decimal
    currency: str = ""
    unconverted: dict[str, int] = field(default_factory=dict)


# What may narrow a board (the column and the pipeline come from the board itself).
BOARD_FILTERS = ("owner", "close_from", "close_to", "q")


def _board_filters(filters: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (filters or {}).items() if k in BOARD_FILTERS}


def _cards(actor: User, stage: Stage, filters: dict[str, Any] | None = None) -> QuerySet[Opportunity]:
    return opportunity_list(actor=actor, filters=_board_filters(filters)).filter(stage=stage).only(*CARD_COLUMNS)


def board_column_page(
    *, actor: User, stage: Stage, cursor: str | None, limit: int = BOARD_PAGE, filters: dict[str, Any] | None = None,
    rates: RateTable | None = None,
) -> Page[Opportunity]:
    """One page of a column's cards, newest change first, narrowed by ``BOARD_FILTERS``. Each card
    has ``to_company``: today's rate from its currency to the company's (None without a rate),
    so the board can move a card's amount between column totals without asking the server.
    ``rates`` (today's, holding every currency of the page) spares loading them again."""
    permissions.require_model_perm(actor, Opportunity, "view")
    qs = _cards(actor, stage, filters).select_related("account", "owner").only(
        *CARD_COLUMNS, "next_step", "account__name", "owner__username", "owner__first_name", "owner__last_name")
    page = keyset_page(qs, ordering=BOARD_ORDER, cursor=cursor, limit=limit)
    today = timezone.localdate()
    if rates is None:
        rates = RateTable([o.currency for o in page.items], today)
    for o in page.items:
        try:
            o.to_company = rates.rate(o.currency, today)
        except NoExchangeRate:
            o.to_company = None
    return page


def board_columns(
    *, actor: User, pipeline: Pipeline, limit: int = BOARD_PAGE, filters: dict[str, Any] | None = None
) -> list[Column]:
    """Every active stage of ``pipeline`` with its first page and its figures, in the company
    currency at today's rates (``Column``). The figures count the same deals as the cards: those
    the actor may see, narrowed by ``filters``."""
    permissions.require_model_perm(actor, Opportunity, "view")
    stages = list(pipeline.stages.filter(is_active=True).order_by("position"))
    # One rate table for the figures and every column's cards: the cards are among the deals the
    # figures grouped, so their currencies are too.
    figures, rates = _column_figures(
        opportunity_list(actor=actor, filters=_board_filters(filters)).filter(pipeline=pipeline),
        on=timezone.localdate())
    columns = []
    for stage in stages:
        fig = figures.get(stage.pk, ColumnFigures())
        # The figures count the very deals the cards would show, so a column they find empty
        # needs no query of its own (closed stages often are, on a board of open deals).
        page = (board_column_page(actor=actor, stage=stage, cursor=None, limit=limit, filters=filters, rates=rates)
                if fig.count else Page(items=[], next_cursor=None))
        columns.append(Column(stage=stage, page=page, count=fig.count, total=fig.total, weighted=fig.weighted,
                              currency=company_currency(), unconverted=fig.unconverted))
    return columns


WEIGHTED_PLACES = Decimal("0.0001")  # the scale of a weighted figure (amount × percent / 100)


@dataclass
class ColumnFigures:
    count: int = 0
    total: Decimal = Decimal(0)
    weighted: Decimal = Decimal(0)
    unconverted: dict[str, int] = field(default_factory=dict)


def _column_figures(deals: QuerySet[Opportunity], *, on: dt.date) -> tuple[dict[int, ColumnFigures], RateTable]:
    """``{stage id: ColumnFigures}`` of ``deals``, in the company currency at the rates of ``on``,
    and the rate table of their currencies.

    Grouped by stage, probability *and currency*, so the database only counts and adds amounts;
    each group's sum is converted once and the weighted total is ``Σ converted × probability /
    100`` over the few groups, in Python, exactly. Computing ``amount × probability / 100`` per
    row in SQL was most of the aggregate's cost at 100,000 deals: the row-access filter of a
    manager keeps nearly every row of the pipeline, so every plan reads them all (PostgreSQL
    rightly prefers a sequential scan to the covering index) and the per-row numeric arithmetic
    is what there is to save. ``COUNT(*)`` rather than ``COUNT(id)`` keeps the query answerable
    from ``opportunity_board_figures_cur`` alone.
    """
    rows = list(deals.order_by().values_list("stage_id", "probability", "currency")
                .annotate(n=Count("*"), total=Sum("amount")))
    rates = RateTable([currency for _, _, currency, _, _ in rows], on)
    figures: dict[int, ColumnFigures] = {}
    for stage_id, probability, currency, n, total in rows:
        fig = figures.setdefault(stage_id, ColumnFigures())
        fig.count += n
        try:
            converted = rates.convert(total or Decimal(0), currency, on)
        except NoExchangeRate:
            fig.unconverted[currency] = fig.unconverted.get(currency, 0) + n
            continue
        fig.total += converted
        fig.weighted += converted * probability / 100
    for fig in figures.values():
        fig.weighted = fig.weighted.quantize(WEIGHTED_PLACES)
    return figures, rates
