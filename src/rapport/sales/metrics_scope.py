"""Periods and scopes of the sales metrics: *when* (a month, quarter, year or custom range) and
*whose* (one rep, one team, or everything the actor may see).

Invariants:

* a :class:`Period` is a closed range of calendar days, ``start <= end``, at most ~10 years; its
  datetime range is ``[start 00:00, end + 1 day 00:00)`` in the current time zone, so comparing a
  timestamp column against it uses the column's index (``__date`` lookups would not);
* the previous period of a month/quarter/year is the calendar period before it; of a custom
  range, the range of the same length that ends the day before it starts;
* a :class:`Scope` names at most one of rep and team. Who may pick what (checked by
  :func:`scope_check`, never by the views): administrators anyone; a team manager their teams and
  the teams' members; everyone else themselves and their own team. Rows are then narrowed by
  ``core.permissions.readable`` as well, so a scope never widens what the actor may read.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from rapport.core import permissions
from rapport.core.choices import Role, Visibility
from rapport.core.errors import PermissionDenied, ValidationFailed
from rapport.core.models import Team, User
from rapport.sales.forecasting import period_bounds

M = TypeVar("M", bound=Model)
PERIOD_KINDS = ("month", "quarter", "year", "custom")
MAX_DAYS = 3700
SELLER_ROLES = (Role.SALES_REP, Role.SALES_MANAGER)


@dataclass(frozen=True)
class Period:
    kind: str
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def dt_range(self) -> tuple[dt.datetime, dt.datetime]:
        """``[start, end + 1 day)`` as aware datetimes in the current time zone (half-open)."""
        zone = timezone.get_current_timezone()
        first = dt.datetime.combine(self.start, dt.time.min, tzinfo=zone)
        after = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        return first, after

    def previous(self) -> Period:
        if self.kind == "custom":
            end = self.start - dt.timedelta(days=1)
            return Period("custom", end - dt.timedelta(days=self.days - 1), end)
        start, end = period_bounds(self.kind, self.start - dt.timedelta(days=1))
        return Period(self.kind, start, end)

    def back(self, count: int) -> list[Period]:
        """The ``count`` periods ending with this one, oldest first."""
        out = [self]
        while len(out) < count:
            out.append(out[-1].previous())
        return out[::-1]

    @property
    def label(self) -> str:
        if self.kind == "month":
            return self.start.strftime("%Y-%m")
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "year":
            return str(self.start.year)
        return f"{self.start.isoformat()}…{self.end.isoformat()}"


def period_index(periods: list[Period], day: dt.date) -> int | None:
    """The index of the period of ``periods`` (oldest first) that contains ``day``, by bisection;
    None when none does (before the first, after the last, or in a gap between them)."""
    at = bisect.bisect_right([p.start for p in periods], day) - 1
    return at if at >= 0 and day <= periods[at].end else None


def _date(raw: Any, name: str) -> dt.date:
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw)[:10])
    except ValueError:
        raise ValidationFailed(f"{name} {str(raw)[:20]!r} is not a date (YYYY-MM-DD).",
                               field_errors={name: ["A date: YYYY-MM-DD."]}) from None


def period_resolve(kind: str = "month", *, day: Any = None, start: Any = None, end: Any = None) -> Period:
    """The period of ``kind`` containing ``day`` (default today), or ``start``…``end`` for ``custom``."""
    if kind not in PERIOD_KINDS:
        raise ValidationFailed(f"{str(kind)[:20]!r} is not a period; use month, quarter, year or custom.",
                               field_errors={"period": ["Use month, quarter, year or custom."]})
    if kind == "custom":
        if not start or not end:
            raise ValidationFailed("A custom period needs a start and an end date.",
                                   field_errors={"start": ["Required."], "end": ["Required."]})
        first, last = _date(start, "start"), _date(end, "end")
        if last < first:
            raise ValidationFailed("The end is before the start.", field_errors={"end": ["On or after the start."]})
        if (last - first).days >= MAX_DAYS:
            raise ValidationFailed("A custom period is at most ten years.", field_errors={"end": ["Too far."]})
        return Period("custom", first, last)
    on = _date(day, "day") if day else timezone.localdate()
    first, last = period_bounds(kind, on)
    return Period(kind, first, last)


@dataclass(frozen=True)
class Scope:
    """Whose figures: ``owner_id`` (one rep), ``team_id`` (one team), or neither (all readable)."""

    owner_id: int | None = None
    team_id: int | None = None

    def narrow(self, queryset: QuerySet[M], prefix: str = "") -> QuerySet[M]:
        if self.owner_id is not None:
            return queryset.filter(**{f"{prefix}owner_id": self.owner_id})
        if self.team_id is not None:
            return queryset.filter(**{f"{prefix}team_id": self.team_id})
        return queryset


def visible_team_ids(actor: User) -> list[int] | None:
    """Teams whose metrics ``actor`` may pick; ``None`` means every team (administrators)."""
    if actor.is_administrator:
        return None
    teams = set(permissions.managed_team_ids(actor))
    if actor.team_id:
        teams.add(actor.team_id)
    return sorted(teams)


def scope_check(actor: User, *, owner_id: int | None = None, team_id: int | None = None) -> Scope:
    """The scope ``actor`` asked for, if allowed; ``PermissionDenied`` otherwise (rule: module doc)."""
    if owner_id is not None and team_id is not None:
        raise ValidationFailed("Pick a rep or a team, not both.", field_errors={"team": ["Not with a rep."]})
    teams = visible_team_ids(actor)
    if team_id is not None:
        if not Team.objects.filter(pk=team_id).exists():
            raise ValidationFailed(f"There is no team {team_id}.", field_errors={"team": ["No such team."]})
        if teams is not None and team_id not in teams:
            raise PermissionDenied("You may see the metrics of your own team (or of the teams you manage) only.")
    if owner_id is not None and owner_id != actor.pk:
        rep = User.objects.filter(pk=owner_id).only("id", "team_id").first()
        if rep is None:
            raise ValidationFailed(f"There is no user {owner_id}.", field_errors={"rep": ["No such user."]})
        if teams is not None and rep.team_id not in teams:
            raise PermissionDenied("You may see the metrics of yourself and your team's members only.")
    return Scope(owner_id=owner_id, team_id=team_id)


def _reads_whole_team(actor: User, model: type[Model], team_id: int) -> bool:
    """Whether ``core.permissions`` lets ``actor`` read every row of ``model`` whose team is
    ``team_id`` — the same rule as its row filter: a manager the teams they manage, a member
    their own team unless the model is private, an administrator (or a public model) all."""
    if actor.is_administrator:
        return True
    visibility = permissions.visibility_for(model)
    if visibility == Visibility.PUBLIC or team_id in permissions.managed_team_ids(actor):
        return True
    return visibility != Visibility.PRIVATE and actor.team_id == team_id


def owned(actor: User, queryset: QuerySet[M], scope: Scope, *, via: str = "",
          as_model: type[Model] | None = None) -> QuerySet[M]:
    """``queryset`` narrowed to what ``actor`` may read (``core.permissions``) and to ``scope``.

    ``via`` names the relation whose access the rows inherit; ``as_model`` says instead that the
    rows carry an exact copy of that model's owner and team (``permissions.readable_as``), so
    rule and scope apply to their own columns. When the scope alone implies the read rule (a
    team the actor reads whole, or the actor's own rows), the rule's ``owner = me OR team IN
    (…)`` is left out: it selects nothing more, and an OR across columns keeps PostgreSQL from
    using the scope's indexes (the team dashboard was slower than the company's)."""
    prefix = f"{via}__" if via else ""
    model = as_model or (queryset.model._meta.get_field(via).related_model if via else queryset.model)
    if scope.team_id is not None and _reads_whole_team(actor, model, scope.team_id):
        permissions.require_model_perm(actor, queryset.model, "view")
        return scope.narrow(queryset, prefix=prefix)
    if scope.owner_id is not None and scope.owner_id == actor.pk:
        permissions.require_model_perm(actor, queryset.model, "view")  # one's own rows are always readable
        return scope.narrow(queryset, prefix=prefix)
    rows = (permissions.readable_as(actor, queryset, as_model) if as_model is not None
            else permissions.readable(actor, queryset, via=via))
    return scope.narrow(rows, prefix=prefix)


def sellers(actor: User, scope: Scope) -> QuerySet[User]:
    """Users with a selling role whose activity ``actor`` may see in ``scope``: a rep themselves and
    their team, a manager their teams' members, an administrator everyone."""
    qs = User.objects.filter(groups__name__in=SELLER_ROLES)
    teams = visible_team_ids(actor)
    if teams is not None:
        qs = qs.filter(Q(pk=actor.pk) | Q(team_id__in=teams))
    if scope.owner_id is not None:
        qs = qs.filter(pk=scope.owner_id)
    elif scope.team_id is not None:
        qs = qs.filter(team_id=scope.team_id)
    return qs


def reps_in(actor: User, scope: Scope) -> list[User]:
    """The sellers the per-rep table lists (at most 500, by name)."""
    ids = sellers(actor, scope).values("pk")
    return list(User.objects.filter(pk__in=ids).order_by("first_name", "last_name", "username")
                .only("id", "username", "first_name", "last_name", "team_id")[:500])
