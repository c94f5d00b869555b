"""The forecast table the page, the CSV and the API show: one row per rep of the chosen scope and
a total, each with its quota, categories, attainment, gap and the managers' adjustments beside.

Scope (who is in the table), decided here once:

* ``me`` — the actor's own deals;
* ``team`` — one team: the actor's own, or (``team_id``) one the actor manages; an administrator
  may name any team;
* ``rep`` — one rep the actor may see (same team, a managed team, or anyone for an administrator);
* ``all`` — every deal the actor may read (``core.permissions``);
* ``pipeline_id`` narrows any scope to one pipeline.

Numbers are ``forecasting.forecast_for``'s (deals narrowed by row access); a rep of the scope with
no deals in the period still gets a row, so a quota without pipeline shows as a gap. Adjustments
are read beside the rows and never change them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Q

from rapport.commerce.pricing import convert
from rapport.core import permissions
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed
from rapport.core.models import Team, User
from rapport.sales.forecasting import Forecast, ForecastRow, forecast_for, period_bounds
from rapport.sales.models import Opportunity
from rapport.sales.models_forecast import ForecastAdjustment, PeriodKind, Quota
from rapport.sales.services_forecast import may_manage

SCOPES = ("me", "team", "rep", "all")
CATEGORIES = ("closed", "commit", "best_case", "pipeline")


@dataclass(frozen=True)
class Scope:
    kind: str
    team: Team | None = None
    rep: User | None = None
    pipeline_id: int | None = None


@dataclass
class TableRow:
    """A rep (or the total, ``user`` None) with the numbers and the adjustments by category."""

    user: User | None
    numbers: ForecastRow
    adjustments: dict[str, ForecastAdjustment] = field(default_factory=dict)
    can_adjust: bool = False

    @property
    def gap(self) -> Decimal | None:
        """What is left to close to reach the quota (never below zero); None without a quota."""
        if self.numbers.quota is None:
            return None
        return max(self.numbers.quota - self.numbers.closed, Decimal(0))

    @property
    def attainment_percent(self) -> Decimal | None:
        value = self.numbers.attainment
        return (value * 100).quantize(Decimal("0.1")) if value is not None else None


@dataclass
class ForecastTable:
    forecast: Forecast
    scope: Scope
    rows: list[TableRow]
    total: TableRow


def visible_reps(actor: User) -> list[User]:
    """The reps ``actor`` may pick: themself, their team, the teams they manage (all for admins)."""
    qs = User.objects.filter(is_active=True)
    if not actor.is_administrator:
        q = Q(pk=actor.pk)
        if actor.team_id:
            q |= Q(team_id=actor.team_id)
        managed = permissions.managed_team_ids(actor)
        if managed:
            q |= Q(team_id__in=managed)
        qs = qs.filter(q)
    return list(qs.order_by("first_name", "last_name", "username")[:500])


def rep_get(*, actor: User, pk: Any) -> User:
    """The active user ``pk`` if ``actor`` may see them as a rep (as ``visible_reps``), else ``NotFound``."""
    wanted = _id(pk, "rep")
    qs = User.objects.filter(pk=wanted, is_active=True)
    if not actor.is_administrator:
        q = Q(pk=actor.pk)
        if actor.team_id:
            q |= Q(team_id=actor.team_id)
        managed = permissions.managed_team_ids(actor)
        if managed:
            q |= Q(team_id__in=managed)
        qs = qs.filter(q)
    rep = qs.first()
    if rep is None:
        raise NotFound(f"Rep {wanted} was not found.")
    return rep


def visible_teams(actor: User) -> list[Team]:
    if actor.is_administrator:
        return list(Team.objects.order_by("name")[:200])
    ids = set(permissions.managed_team_ids(actor)) | ({actor.team_id} if actor.team_id else set())
    return list(Team.objects.filter(pk__in=ids).order_by("name"))


def _id(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{name} must be an id.", field_errors={name: ["An id."]}) from None
    if not 0 < number < 2**63:
        raise ValidationFailed(f"{name} must be an id.", field_errors={name: ["An id."]})
    return number


def scope_resolve(*, actor: User, kind: str = "", team_id: Any = None, rep_id: Any = None,
                  pipeline_id: Any = None) -> Scope:
    """The scope asked for, if allowed: a team the actor neither belongs to nor manages is
    forbidden; a rep the actor may not see is not found."""
    permissions.require_model_perm(actor, Opportunity, "view")
    kind = kind or "team"
    if kind not in SCOPES:
        raise ValidationFailed(f"{kind!r} is not a scope.", field_errors={"scope": [", ".join(SCOPES)]})
    pipeline = _id(pipeline_id, "pipeline")
    if kind == "me":
        return Scope("me", rep=actor, pipeline_id=pipeline)
    if kind == "rep":
        if rep_id in (None, ""):
            raise ValidationFailed("Choose a rep.", field_errors={"rep": ["Required for scope rep."]})
        return Scope("rep", rep=rep_get(actor=actor, pk=rep_id), pipeline_id=pipeline)
    if kind == "all":
        return Scope("all", pipeline_id=pipeline)
    wanted_team = _id(team_id, "team") or actor.team_id or next(iter(permissions.managed_team_ids(actor)), None)
    team = next((t for t in visible_teams(actor) if t.pk == wanted_team), None)
    if team is None:
        if wanted_team is None:
            return Scope("me", rep=actor, pipeline_id=pipeline)  # no team at all: their own deals
        raise PermissionDenied("You may see the forecast of your own team and the teams you manage only.")
    return Scope("team", team=team, pipeline_id=pipeline)


def forecast_table(*, actor: User, period: str, day: dt.date, scope: Scope) -> ForecastTable:
    """The table for ``scope``: rows sorted by rep name, the total, the adjustments beside."""
    forecast = forecast_for(actor=actor, period=period, day=day, pipeline_id=scope.pipeline_id,
                            team_id=scope.team.pk if scope.team else None,
                            owner_id=scope.rep.pk if scope.rep else None)
    start, end = forecast.start, forecast.end
    by_owner = {row.owner_id: row for row in forecast.rows}
    if scope.rep is not None:
        members = [scope.rep]
    elif scope.team is not None:
        members = list(User.objects.filter(team=scope.team, is_active=True))
    else:
        members = []
    users = {u.pk: u for u in members}
    users.update({u.pk: u for u in User.objects.filter(pk__in=[k for k in by_owner if k and k not in users])})
    quotas = {q.user_id: q for q in Quota.objects.filter(user_id__in=list(users), period=period, period_start=start)}
    for pk in users:
        if pk not in by_owner:
            quota = quotas.get(pk)
            by_owner[pk] = ForecastRow(owner_id=pk, quota=convert(
                amount=quota.amount, from_currency=quota.currency, to_currency=forecast.currency, on=end)
                if quota else None)
    adjustments: dict[int, dict[str, ForecastAdjustment]] = {}
    for adj in ForecastAdjustment.objects.filter(period=period, period_start=start, user_id__in=list(users)
                                                 ).select_related("adjusted_by"):
        adjustments.setdefault(adj.user_id, {})[adj.category] = adj  # type: ignore[index]
    rows = [TableRow(user=users.get(pk) if pk else None, numbers=row, adjustments=adjustments.get(pk or 0, {}),
                     can_adjust=bool(pk in users and may_manage(actor, users[pk])))
            for pk, row in by_owner.items()]
    rows.sort(key=lambda r: (str(r.user) if r.user else "~").lower())
    forecast.rows = [r.numbers for r in rows]
    total = TableRow(user=None, numbers=forecast.total)
    if scope.team is not None:
        total.adjustments = {a.category: a for a in ForecastAdjustment.objects.filter(
            period=period, period_start=start, team=scope.team).select_related("adjusted_by")}
        total.can_adjust = actor.is_administrator or scope.team.pk in permissions.managed_team_ids(actor)
    return ForecastTable(forecast=forecast, scope=scope, rows=rows, total=total)


def parse_period(period: str | None, day: str | dt.date | None) -> tuple[str, dt.date]:
    """``period`` (default month) and any day of it (default today), from query strings."""
    from django.utils import timezone

    kind = period or PeriodKind.MONTH
    if isinstance(day, dt.date):
        when = day
    elif day:
        try:
            when = dt.date.fromisoformat(str(day)[:10])
        except ValueError:
            raise ValidationFailed("The day is not a date (YYYY-MM-DD).", field_errors={"day": ["A date."]}) from None
    else:
        when = timezone.localdate()
    period_bounds(kind, when)  # refuses an unknown period kind
    return kind, when


def shift(kind: str, day: dt.date, steps: int) -> dt.date:
    """The first day of the period ``steps`` away from the one containing ``day``."""
    start, end = period_bounds(kind, day)
    for _ in range(abs(steps)):
        start = (end + dt.timedelta(days=1)) if steps > 0 else period_bounds(kind, start - dt.timedelta(days=1))[0]
        end = period_bounds(kind, start)[1]
    return start


def first_won_day(*, actor: User) -> dt.date | None:
    """The close day of the first won deal ``actor`` may read (None: none won yet)."""
    from django.db.models import Min

    from rapport.sales.choices import OpportunityStatus

    first = permissions.readable(actor, Opportunity.objects.filter(status=OpportunityStatus.WON)).aggregate(
        first=Min("closed_at"))["first"]
    return timezone_day(first) if first is not None else None


def history_window(*, actor: User, months: int = 36) -> tuple[dt.date, dt.date]:
    """The default history of the statistical forecast: up to ``months`` whole months ending last
    month, starting no earlier than the first won deal (months of zeros before the company sold
    anything would only teach the model that revenue is zero). No won deal before this month is
    a ``ValidationFailed``."""
    from django.utils import timezone

    last = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    earliest = first_won_day(actor=actor)
    if earliest is None or earliest > last:
        raise ValidationFailed("No won deals in past months yet: the statistical forecast needs a history.",
                               field_errors={"history": ["No won deals yet."]})
    return max(shift(PeriodKind.MONTH, last, -(months - 1)), earliest), last


def timezone_day(moment: dt.datetime) -> dt.date:
    from django.utils import timezone

    return timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()


def quota_rows(*, actor: User, period: str, day: dt.date) -> list[tuple[User, Quota | None]]:
    """The reps whose quota ``actor`` may set, each with the quota of the period (or None)."""
    start, _ = period_bounds(period, day)
    reps = [u for u in visible_reps(actor) if may_manage(actor, u)]
    quotas = {q.user_id: q for q in Quota.objects.filter(user_id__in=[u.pk for u in reps], period=period,
                                                          period_start=start)}
    return [(u, quotas.get(u.pk)) for u in reps]


def quota_list(*, actor: User, period: str, day: dt.date) -> list[Quota]:
    """Quotas of the period that ``actor`` may see: their own, their team's, their managed teams'."""
    permissions.require_model_perm(actor, Opportunity, "view")
    start, _ = period_bounds(period, day)
    ids = [u.pk for u in visible_reps(actor)]
    qs = Quota.objects.filter(period=period, period_start=start)
    if not actor.is_administrator:
        qs = qs.filter(user_id__in=ids)
    return list(qs.select_related("user").order_by("user__username")[:1000])
