"""The dashboard computes each figure once (totals summed from the per-rep groups, the older trend
periods from two grouped queries over their span): its numbers must equal those of computing every
figure on its own, period by period and scope by scope, on the demo's deals, orders and invoices."""

from __future__ import annotations

import datetime as dt

import pytest

from rapport.core.models import Team, User
from rapport.demo.generate import DemoOptions, demo_generate
from rapport.sales.metrics import DEFINITIONS, SNAPSHOT, TREND, figures_for, metrics_dashboard
from rapport.sales.metrics_deals import TOTAL
from rapport.sales.metrics_scope import Scope, period_resolve

TODAY = dt.date(2026, 6, 15)


@pytest.fixture
def demo(db) -> None:
    demo_generate(DemoOptions(accounts=80, contacts=80, interactions=300, orders=400, leads=40, opportunities=400,
                              seed=11, today=TODAY))


def test_dashboard_equals_each_figure_computed_alone(demo) -> None:
    # One demo for the four cases (generating it is most of the time).
    for who in ("admin", "manager"):
        for kind in ("month", "quarter"):
            _check_dashboard(who, kind)


def _check_dashboard(who: str, kind: str) -> None:
    actor = User.objects.get(username=who)
    scope = Scope() if who == "admin" else Scope(team_id=Team.objects.get(pk=actor.team_id).pk)
    period = period_resolve(kind, day=TODAY)
    board = metrics_dashboard(actor=actor, period=period, scope=scope)

    alone = figures_for(actor=actor, scope=scope, period=period)[TOTAL]
    assert board.total == alone, (who, kind)
    assert board.total["won"] > 0 and board.total["new_revenue"] > 0  # the check has something to compare

    per_rep = figures_for(actor=actor, scope=scope, period=period, by_owner=True)
    assert board.reps and any(row["won"] for _, row in board.reps)
    for rep, row in board.reps:
        if rep.pk in per_rep:
            assert row == per_rep[rep.pk], rep.username

    before = figures_for(actor=actor, scope=scope, period=period.previous())[TOTAL]
    for key in DEFINITIONS:
        if key not in SNAPSHOT:
            assert board.before[key] == before[key], key

    assert [p.period for p in board.trend] == period.back(12)
    assert sum(1 for p in board.trend if p.values["won_amount"]) >= 3  # the demo's history spans periods
    for point in board.trend:
        expected = figures_for(actor=actor, scope=scope, period=point.period, snapshots=False)[TOTAL]
        assert {k: point.values[k] for k in TREND} == {k: expected[k] for k in TREND}, point.period.label
