"""`rapport demo` loads deals: every stage, consistent history, won/lost with reasons, quotes, quotas;
and the metrics and forecast work on them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db.models import Count, Max

from rapport.core.models import User
from rapport.demo.generate import DemoOptions, demo_generate
from rapport.sales.forecasting import forecast_for
from rapport.sales.metrics import metrics_dashboard
from rapport.sales.metrics_scope import Scope, period_resolve
from rapport.sales.models import Opportunity, Quota, StageChange
from rapport.sales.models_quotes import Quote

TODAY = dt.date(2026, 6, 15)
OPTIONS = {"accounts": 60, "contacts": 60, "interactions": 0, "orders": 20, "leads": 0, "seed": 5, "today": TODAY}


@pytest.mark.django_db
def test_demo_deals_are_consistent_and_make_the_pages_alive() -> None:
    summary = demo_generate(DemoOptions(opportunities=150, **OPTIONS))
    assert summary.opportunities == 150 and "150 opportunities" in summary.line()
    deals = Opportunity.objects.all()
    assert deals.count() == 150
    assert set(deals.values_list("status", flat=True)) == {"open", "won", "lost"}
    assert deals.values("stage").distinct().count() >= 8  # spread over the pipeline
    anchor = dt.datetime(2026, 6, 15, tzinfo=dt.UTC)
    for deal in deals.annotate(n=Count("stage_changes"), last=Max("stage_changes__changed_at")):
        assert deal.n >= 1 and deal.last <= anchor and deal.created_at <= deal.stage_entered_at
        assert (deal.closed_at is None) == (deal.status == "open")
        assert (deal.close_reason != "") == (deal.status != "open")
        if deal.closed_at:
            assert deal.closed_at == deal.last
        assert deal.stage.kind == deal.status and deal.team_id == deal.owner.team_id
    last = {c.opportunity_id: c for c in StageChange.objects.order_by("opportunity_id", "changed_at", "id")}
    assert all(last[d.pk].to_stage_id == d.stage_id for d in deals)
    assert StageChange.objects.filter(from_stage__isnull=True).count() == 150
    statuses = set(Quote.objects.values_list("status", flat=True))
    assert {"accepted", "expired"} <= statuses and not Quote.objects.filter(sent_at__isnull=True).exists()
    assert set(Quota.objects.values_list("user__username", flat=True)) == {"rep", "rep2", "rep3", "manager"}
    assert Quota.objects.filter(user__username="rep", period="month").count() == 13

    admin = User.objects.get(username="admin")
    board = metrics_dashboard(actor=admin, period=period_resolve("quarter", day=TODAY), scope=Scope())
    assert board.total["won"] > 0 and board.total["proposals"] > 0 and board.total["new_revenue"] > 0
    assert board.stages[0].reached > board.stages[-1].reached
    forecast = forecast_for(actor=admin, period="quarter", day=TODAY)
    assert any(row.quota for row in forecast.rows)


@pytest.mark.django_db
def test_demo_deals_again_with_reset_and_the_flag() -> None:
    demo_generate(DemoOptions(opportunities=40, **OPTIONS))
    demo_generate(DemoOptions(opportunities=40, reset=True, **OPTIONS))
    assert Opportunity.objects.count() == 40 and Quota.objects.filter(user__username="rep").count() == 17
    call_command("demo", accounts=10, contacts=10, interactions=0, orders=0, leads=0, opportunities=0, reset=True,
                 today=TODAY)
    assert Opportunity.objects.count() == 0
