"""Sales metrics: win rate, deal size, cycle, velocity, open leads, proposals guard, row access."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from rapport.sales.metrics import sales_metrics
from rapport.sales.models import Lead, Opportunity
from rapport.sales.services import opportunity_create, opportunity_move


@pytest.mark.django_db
def test_metrics_for_the_period(rep, other_rep, customer, stages) -> None:
    today = dt.datetime.now(dt.UTC).date()
    close = today + dt.timedelta(days=30)
    deals = [opportunity_create(actor=rep, account=customer, name=f"d{i}", amount=amount, currency="USD",
                                expected_close_date=close, stage=stages["meeting"])
             for i, amount in enumerate(("100", "300", "50", "999"))]
    for deal, stage in zip(deals[:3], ("ordered", "ordered", "lost"), strict=True):
        opportunity_move(actor=rep, opportunity=deal, stage=stages[stage], expected_version=deal.version,
                         close_reason="r")
    ten_days = dt.timedelta(days=10)
    for deal in deals[:2]:
        deal.refresh_from_db()
        Opportunity.objects.filter(pk=deal.pk).update(created_at=deal.closed_at - ten_days)
    Lead.objects.create(owner=rep, team=rep.team, last_name="Open")
    Lead.objects.create(owner=rep, team=rep.team, last_name="Gone", status="disqualified")
    m = sales_metrics(actor=rep, period="month", day=today)
    assert (m.won, m.lost, m.open_opportunities, m.open_leads) == (2, 1, 1, 1)
    assert m.win_rate == pytest.approx(2 / 3)
    assert m.average_deal == Decimal("200.00")
    assert m.cycle_days == pytest.approx(10)
    assert float(m.velocity_per_day) == pytest.approx(1 * (2 / 3) * 200 / 10)  # open × win rate × deal / days
    other = sales_metrics(actor=other_rep, period="month", day=today)
    assert (other.won, other.open_opportunities, other.open_leads, other.win_rate) == (0, 0, 0, None)
