"""The period forecast: categories, weighting, quotas, conversion and row access."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from rapport.commerce.models import ExchangeRate
from rapport.core.errors import ValidationFailed
from rapport.sales.forecasting import forecast_for, period_bounds
from rapport.sales.models import Quota
from rapport.sales.services import opportunity_create, opportunity_move

DAY = dt.date(2026, 5, 10)


def test_period_bounds() -> None:
    assert period_bounds("month", DAY) == (dt.date(2026, 5, 1), dt.date(2026, 5, 31))
    assert period_bounds("quarter", DAY) == (dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    assert period_bounds("year", DAY) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    with pytest.raises(ValidationFailed):
        period_bounds("week", DAY)


@pytest.mark.django_db
def test_categories_weighting_quota_and_access(rep, other_rep, customer, stages, settings) -> None:
    settings.RAPPORT_COMPANY_CURRENCY = "USD"
    ExchangeRate.objects.create(currency="EUR", date=dt.date(2026, 1, 1), rate=Decimal("1.2"))
    close = dt.date(2026, 5, 20)
    opportunity_create(actor=rep, account=customer, name="a", amount="1000", currency="EUR",
                       expected_close_date=close, stage=stages["quote"])          # commit, 70%
    opportunity_create(actor=rep, account=customer, name="b", amount="500", currency="USD",
                       expected_close_date=close, stage=stages["solution"])       # best case, 50%
    won = opportunity_create(actor=rep, account=customer, name="c", amount="100", currency="USD",
                             expected_close_date=close, stage=stages["meeting"])
    opportunity_move(actor=rep, opportunity=won, stage=stages["ordered"], expected_version=won.version,
                     close_reason="")
    opportunity_create(actor=rep, account=customer, name="next month", amount="999", currency="USD",
                       expected_close_date=dt.date(2026, 6, 2), stage=stages["quote"])
    Quota.objects.create(user=rep, period="month", period_start=dt.date(2026, 5, 1), amount=200, currency="USD")
    result = forecast_for(actor=rep, period="month", day=DAY)
    row = result.rows[0]
    assert row.closed == 0  # the won deal closed today (its closed_at), not in May
    assert row.commit == Decimal("1200.00")
    assert row.best_case == Decimal("1700.00")
    assert row.pipeline == Decimal("1700.00")
    assert row.weighted == Decimal("840.00") + Decimal("250.00")
    assert row.quota == Decimal("200.00")
    assert row.open_count == 2
    assert row.attainment == 0
    this_month = forecast_for(actor=rep, period="month", day=dt.datetime.now(dt.UTC).date())
    assert this_month.total.closed == Decimal("100.00")
    assert forecast_for(actor=other_rep, period="month", day=DAY).rows == []


@pytest.mark.django_db
def test_statistical_forecast_from_won_history(rep, other_rep, customer, stages) -> None:
    from rapport.sales.forecasting import statistical_forecast, won_history
    from rapport.sales.models import Opportunity

    base = dt.datetime(2023, 1, 15, 12, tzinfo=dt.UTC)
    for i in range(26):
        month = dt.datetime(2023 + (i // 12), i % 12 + 1, 15, 12, tzinfo=dt.UTC)
        opp = opportunity_create(actor=rep, account=customer, name=f"w{i}", amount=str(1000 + 300 * (i % 12)),
                                 currency="USD", expected_close_date=month.date(), stage=stages["meeting"])
        opportunity_move(actor=rep, opportunity=opp, stage=stages["ordered"], expected_version=opp.version,
                         close_reason="")
        Opportunity.objects.filter(pk=opp.pk).update(closed_at=month)
    months, won = won_history(actor=rep, first=base.date(), last=dt.date(2025, 2, 1))
    assert len(months) == 26 and won[0] == Decimal("1000.0000") and won[11] == Decimal("4300.0000")
    assert won_history(actor=other_rep, first=base.date(), last=dt.date(2025, 2, 1))[1] == [Decimal(0)] * 26
    result = statistical_forecast(actor=rep, first=base.date(), last=dt.date(2025, 2, 1), horizon=3,
                                  backtest_origins=2)
    assert result.ahead == [dt.date(2025, 3, 1), dt.date(2025, 4, 1), dt.date(2025, 5, 1)]
    assert result.mean[0] == pytest.approx(1600, abs=150)  # March repeats the season: 1000 + 2 × 300
    assert all(lo <= m <= hi for lo, m, hi in zip(result.lower, result.mean, result.upper, strict=True))
    assert result.mae is not None
    with pytest.raises(ValidationFailed, match="at least 24 observations"):
        statistical_forecast(actor=rep, first=dt.date(2024, 6, 1), last=dt.date(2025, 2, 1))


@pytest.mark.django_db
def test_manager_adjusts_beside_the_reps_numbers(rep, manager, other_rep, customer, stages) -> None:
    from rapport.core.errors import PermissionDenied
    from rapport.sales.forecasting import forecast_adjust
    from rapport.sales.models import ForecastAdjustment

    opportunity_create(actor=rep, account=customer, name="a", amount="1000", currency="USD",
                       expected_close_date=dt.date(2026, 5, 20), stage=stages["quote"])
    adj = forecast_adjust(actor=manager, period="month", day=DAY, category="commit", amount="800", user=rep,
                          note="slipping")
    again = forecast_adjust(actor=manager, period="month", day=DAY, category="commit", amount="750", user=rep)
    assert again.pk == adj.pk and again.amount == Decimal("750") and again.adjusted_by == manager
    assert forecast_for(actor=manager, period="month", day=DAY).rows[0].commit == Decimal("1000.00")
    for actor in (rep, other_rep):
        with pytest.raises(PermissionDenied):
            forecast_adjust(actor=actor, period="month", day=DAY, category="commit", amount="1", user=rep)
    with pytest.raises(ValidationFailed):
        forecast_adjust(actor=manager, period="month", day=DAY, category="omitted", amount="1", user=rep)
    with pytest.raises(ValidationFailed):
        forecast_adjust(actor=manager, period="month", day=DAY, category="commit", amount="-5", user=rep)
    assert ForecastAdjustment.objects.count() == 1
