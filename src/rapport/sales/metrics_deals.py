"""Deal figures of a period: won/lost, win rate, won amount, average deal, cycle, velocity, and the
stage-to-stage conversion of a pipeline. Definitions are in ``metrics.DEFINITIONS``.

Every figure is one aggregate query (GROUP BY owner and currency, conditional Count/Sum); only
the groups come back to Python, to be converted to the company currency at the period's last day.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncDate

from rapport.commerce.rate_table import RateTable
from rapport.core.models import User
from rapport.sales.choices import OpportunityStatus, StageKind
from rapport.sales.metrics_scope import Period, Scope, owned, period_index
from rapport.sales.models import Opportunity, Pipeline, Stage, StageChange

TOTAL = "total"


def _key(row: dict[str, Any], by_owner: bool) -> Any:
    return row["owner_id"] if by_owner else TOTAL


def grouped(qs: Any, keys: list[str], **aggregates: Any) -> list[dict[str, Any]]:
    """``aggregates`` per ``keys`` (GROUP BY), or one row over all of ``qs`` when ``keys`` is empty
    (``values()`` with no fields would group by every column)."""
    if keys:
        return list(qs.values(*keys).annotate(**aggregates).order_by())
    return [qs.aggregate(**aggregates)]


def _seconds(value: Any) -> float:
    """A summed duration as seconds (PostgreSQL returns a timedelta, SQLite microseconds)."""
    if value is None:
        return 0.0
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value) / 1e6


def deal_figures(*, actor: User, scope: Scope, period: Period, by_owner: bool = False,
                 with_open: bool = True, with_total: bool = False) -> dict[Any, dict[str, Any]]:
    """Won, lost, won amount, average deal, cycle days, open deals, win rate and velocity per owner
    (or the total under ``TOTAL``). ``with_open=False`` skips counting the open deals (the trend
    does not need them; velocity is then unknown). ``with_total`` (with ``by_owner``) adds the
    ``TOTAL`` row summed from the same groups: every figure here is a count or a sum over deals,
    and the owner groups (the unassigned ``None`` one included) partition the rows in scope."""
    first, after = period.dt_range()
    opps = owned(actor, Opportunity.objects.all(), scope)
    keys = ["owner_id"] if by_owner else []
    won = Q(status=OpportunityStatus.WON)
    closed = (
        opps.filter(closed_at__gte=first, closed_at__lt=after)
        .values(*keys, "currency")
        .annotate(
            won=Count("id", filter=won), lost=Count("id", filter=Q(status=OpportunityStatus.LOST)),
            won_total=Sum("amount", filter=won),
            cycle=Sum(ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField()), filter=won),
        )
        .order_by()
    )
    groups = list(closed)
    rates = RateTable([g["currency"] for g in groups], period.end)
    out: dict[Any, dict[str, Any]] = defaultdict(_empty)
    totals = [TOTAL] if by_owner and with_total else []
    # The total's won amount is converted once per currency, as a query of the total alone
    # would: converting each owner's sum and adding the rounded results could differ by cents.
    total_won: dict[str, Decimal] = defaultdict(Decimal)
    for g in groups:
        for key in (_key(g, by_owner), *totals):
            row = out[key]
            row["won"] += g["won"]
            row["lost"] += g["lost"]
            if g["won"]:
                if key != TOTAL or not totals:
                    row["won_amount"] += rates.convert(g["won_total"], g["currency"], period.end)
                row["cycle_seconds"] += _seconds(g["cycle"])
        if totals and g["won"]:
            total_won[g["currency"]] += g["won_total"]
    if totals:
        out[TOTAL]["won_amount"] = sum((rates.convert(v, c, period.end) for c, v in total_won.items()), Decimal(0))
    open_rows = grouped(opps.filter(status=OpportunityStatus.OPEN), keys, n=Count("id")) if with_open else []
    for g in open_rows:
        for key in (_key(g, by_owner), *totals):
            out[key]["open_deals"] += g["n"]
    if not by_owner or with_total:
        out[TOTAL]  # an empty period still has a total row
    for row in out.values():
        _derive(row)
    return dict(out)


def _empty() -> dict[str, Any]:
    return {"won": 0, "lost": 0, "won_amount": Decimal(0), "cycle_seconds": 0.0, "open_deals": 0}


def deal_series(*, actor: User, scope: Scope, periods: list[Period]) -> list[dict[str, Any]]:
    """Won amount and win rate of each of ``periods`` (consecutive, oldest first) in one query.

    The same figures as :func:`deal_figures` per period (amounts converted at each period's last
    day): the closed deals of the whole span are grouped by currency and local close day, and
    each day's groups are added to the period that contains it."""
    first, _ = periods[0].dt_range()
    _, after = periods[-1].dt_range()
    won = Q(status=OpportunityStatus.WON)
    groups = list(
        owned(actor, Opportunity.objects.filter(closed_at__gte=first, closed_at__lt=after), scope)
        .annotate(day=TruncDate("closed_at")).values("currency", "day")
        .annotate(won=Count("id", filter=won), lost=Count("id", filter=Q(status=OpportunityStatus.LOST)),
                  won_total=Sum("amount", filter=won))
        .order_by()
    )
    rates = RateTable([g["currency"] for g in groups], periods[-1].end)
    rows = [_empty() for _ in periods]
    sums: list[dict[str, Decimal]] = [defaultdict(Decimal) for _ in periods]  # won total per currency
    for g in groups:
        at = period_index(periods, g["day"])
        if at is None:
            continue  # only for non-consecutive periods: a day outside every period counts nowhere
        rows[at]["won"] += g["won"]
        rows[at]["lost"] += g["lost"]
        if g["won"]:
            sums[at][g["currency"]] += g["won_total"]
    for row, by_currency, period in zip(rows, sums, periods, strict=True):
        # Converted once per currency and period, as deal_figures does: the same rounding.
        row["won_amount"] = sum((rates.convert(v, c, period.end) for c, v in by_currency.items()), Decimal(0))
        _derive(row)
    return rows


def _derive(row: dict[str, Any]) -> None:
    won, lost = row["won"], row["lost"]
    row["win_rate"] = won / (won + lost) if won + lost else None
    row["average_deal"] = row["won_amount"] / won if won else None
    row["cycle_days"] = row.pop("cycle_seconds") / 86400 / won if won else None
    row["velocity_per_day"] = velocity(row)


def velocity(row: dict[str, Any]) -> Decimal | None:
    """Open deals × win rate × average deal ÷ cycle days of a derived row (None when unknown)."""
    if row["win_rate"] is not None and row["average_deal"] is not None and row["cycle_days"]:
        return (Decimal(row["open_deals"]) * Decimal(str(row["win_rate"])) * row["average_deal"]
                / Decimal(str(row["cycle_days"])))
    return None


@dataclass(frozen=True)
class StageStep:
    """Of ``reached`` deals that got to ``stage``, ``advanced`` got to the next (``ratio``)."""

    stage_id: int
    name: str
    position: int
    kind: str
    reached: int
    advanced: int | None  # None for the last stage of the funnel

    @property
    def ratio(self) -> float | None:
        return self.advanced / self.reached if self.reached and self.advanced is not None else None


def stage_conversion(*, actor: User, scope: Scope, period: Period, pipeline: Pipeline) -> list[StageStep]:
    """The funnel of the deals of ``pipeline`` created in the period (``metrics.DEFINITIONS``).

    A deal reached every non-lost stage up to the furthest one its history (``StageChange``) shows:
    skipping a stage counts as passing it. One query: the furthest position per deal as a
    correlated subquery, counted per position; the cumulative counts are summed in Python over
    the pipeline's (few) stages."""
    first, after = period.dt_range()
    funnel = list(pipeline.stages.exclude(kind=StageKind.LOST).filter(is_active=True).order_by("position"))
    furthest = (StageChange.objects.filter(opportunity_id=OuterRef("pk"))
                .exclude(to_stage__kind=StageKind.LOST).values("opportunity_id")
                .annotate(m=Max("to_stage__position")).values("m"))
    counts = (owned(actor, Opportunity.objects.filter(pipeline=pipeline, created_at__gte=first, created_at__lt=after),
                    scope)
              .annotate(furthest=Subquery(furthest)).values("furthest").annotate(n=Count("id")).order_by())
    at_position = {g["furthest"]: g["n"] for g in counts if g["furthest"] is not None}
    steps: list[StageStep] = []
    for index, stage in enumerate(funnel):
        reached = sum(n for pos, n in at_position.items() if pos >= stage.position)
        nxt: Stage | None = funnel[index + 1] if index + 1 < len(funnel) else None
        advanced = sum(n for pos, n in at_position.items() if pos >= nxt.position) if nxt else None
        steps.append(StageStep(stage_id=stage.pk, name=stage.name, position=stage.position, kind=stage.kind,
                               reached=reached, advanced=advanced))
    return steps
