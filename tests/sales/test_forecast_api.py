"""The forecast API: /forecast, /forecast/adjustments, /forecast/statistical, /quotas; the same
numbers as the page, problem+json for bad input, and the permission matrix (anonymous, other
team's rep, owner rep, manager)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone
from tests.conftest import client_for

from rapport.sales.models import Opportunity
from rapport.sales.models_forecast import ForecastAdjustment, Quota
from rapport.sales.services import opportunity_create, opportunity_move
from rapport.sales.services_forecast import quota_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def month(settings):
    settings.RAPPORT_COMPANY_CURRENCY = "EUR"
    return timezone.localdate().replace(day=1)


@pytest.fixture
def deals(rep, customer, stages, month, manager):
    close = month + dt.timedelta(days=10)
    opportunity_create(actor=rep, account=customer, name="commit", amount="1000", currency="EUR",
                       expected_close_date=close, stage=stages["quote"])
    won = opportunity_create(actor=rep, account=customer, name="won", amount="300", currency="EUR",
                             expected_close_date=close, stage=stages["meeting"])
    opportunity_move(actor=rep, opportunity=won, stage=stages["ordered"], expected_version=won.version,
                     close_reason="")
    quota_set(actor=manager, user=rep, period="month", day=month, amount="600")


def _post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def test_anonymous_gets_401(deals) -> None:
    anon = client_for(None)
    for url in ("/api/v1/forecast", "/api/v1/forecast/statistical", "/api/v1/quotas"):
        assert anon.get(url).status_code == 401, url
    assert _post(anon, "/api/v1/forecast/adjustments", {"category": "commit", "amount": "1"}).status_code == 401
    assert _post(anon, "/api/v1/quotas", {"user_id": 1, "amount": "1"}).status_code == 401
    assert ForecastAdjustment.objects.count() == 0


def test_forecast_numbers_for_the_owner_rep(rep, deals, month) -> None:
    body = client_for(rep).get(f"/api/v1/forecast?period=month&day={month.isoformat()}").json()
    assert body["currency"] == "EUR" and body["scope"] == "team" and body["start"] == month.isoformat()
    row = next(r for r in body["rows"] if r["user_id"] == rep.pk)
    assert (row["quota"], row["closed"], row["commit"], row["best_case"], row["pipeline"],
            row["weighted_pipeline"], row["attainment_percent"], row["gap"]) == (
        "600.00", "300.00", "1300.00", "1300.00", "1300.00", "700.00", "50.0", "300.00")
    assert body["total"]["pipeline"] == "1300.00"


def test_other_teams_rep_sees_none_of_it(other_rep, rep, deals, team_a) -> None:
    client = client_for(other_rep)
    body = client.get("/api/v1/forecast").json()
    assert all(r["user_id"] != rep.pk for r in body["rows"]) and body["total"]["pipeline"] == "0.00"
    _problem(client.get(f"/api/v1/forecast?scope=team&team={team_a.pk}"), 403)
    _problem(client.get(f"/api/v1/forecast?scope=rep&rep={rep.pk}"), 404)
    assert client.get("/api/v1/quotas").json()["items"] == []
    _problem(_post(client, "/api/v1/quotas", {"user_id": rep.pk, "amount": "1"}), 404)
    _problem(_post(client, "/api/v1/forecast/adjustments", {"user_id": rep.pk, "category": "commit",
                                                            "amount": "1"}), 404)
    _problem(_post(client, "/api/v1/forecast/adjustments", {"team_id": team_a.pk, "category": "commit",
                                                            "amount": "1"}), 403)
    assert ForecastAdjustment.objects.count() == 0 and Quota.objects.get(user=rep).amount == Decimal("600")


def test_reps_may_not_adjust_or_set_quotas(rep, teammate, deals) -> None:
    client = client_for(rep)
    _problem(_post(client, "/api/v1/forecast/adjustments", {"user_id": teammate.pk, "category": "commit",
                                                            "amount": "1"}), 403)
    _problem(_post(client, "/api/v1/quotas", {"user_id": rep.pk, "amount": "1000000"}), 403)
    assert ForecastAdjustment.objects.count() == 0 and Quota.objects.get(user=rep).amount == Decimal("600")
    # but they see their team's quotas
    assert [q["user_id"] for q in client_for(teammate).get("/api/v1/quotas").json()["items"]] == [rep.pk]


def test_manager_adjusts_and_sets_quotas(manager, rep, teammate, deals, month) -> None:
    client = client_for(manager)
    made = _post(client, "/api/v1/forecast/adjustments", {"user_id": rep.pk, "category": "commit",
                                                          "amount": "1500", "note": "renewal"})
    assert made.status_code == 201 and made.json()["adjusted_by_id"] == manager.pk
    row = next(r for r in client.get("/api/v1/forecast").json()["rows"] if r["user_id"] == rep.pk)
    assert row["commit"] == "1300.00" and [(a["category"], a["amount"]) for a in row["adjustments"]] == [
        ("commit", "1500.00")]
    created = _post(client, "/api/v1/quotas", {"user_id": teammate.pk, "amount": "450", "period": "quarter",
                                               "day": month.isoformat()})
    assert created.status_code == 201 and created.json()["period"] == "quarter"
    replaced = _post(client, "/api/v1/quotas", {"user_id": rep.pk, "amount": "700"})
    assert replaced.status_code == 200 and Quota.objects.get(user=rep, period="month").amount == Decimal("700")


def test_bad_input_is_problem_json(manager, rep, deals) -> None:
    client = client_for(manager)
    for query in ("period=week", "day=tomorrow", "scope=galaxy", "rep=-3&scope=rep", "scope=rep"):
        assert client.get(f"/api/v1/forecast?{query}").status_code in (400, 422), query
    _problem(client.get("/api/v1/forecast?scope=rep"), 422)
    _problem(_post(client, "/api/v1/forecast/adjustments", {"user_id": rep.pk, "category": "omitted",
                                                            "amount": "1"}), 422)
    _problem(_post(client, "/api/v1/forecast/adjustments", {"user_id": rep.pk, "team_id": rep.team_id,
                                                            "category": "commit", "amount": "1"}), 422)
    _problem(_post(client, "/api/v1/forecast/adjustments", {"user_id": rep.pk, "category": "commit",
                                                            "amount": "1", "currency": "ZZZ"}), 422)
    _problem(_post(client, "/api/v1/quotas", {"user_id": rep.pk, "amount": "-1"}), 422)
    _problem(_post(client, "/api/v1/quotas", {"user_id": rep.pk, "amount": "1", "surprise": True}), 422)
    _problem(client.get("/api/v1/forecast/statistical?horizon=0"), 422)
    _problem(client.get("/api/v1/forecast/statistical?first=2026-05-01&last=2026-01-01"), 422)
    _problem(client.get("/api/v1/forecast/statistical"), 422)  # too short a history
    assert ForecastAdjustment.objects.count() == 0 and Quota.objects.get(user=rep).amount == Decimal("600")


def test_statistical_returns_forecast_and_backtest(rep, customer, stages) -> None:
    for i in range(28):
        when = dt.datetime(2023 + i // 12, i % 12 + 1, 12, 12, tzinfo=dt.UTC)
        opp = opportunity_create(actor=rep, account=customer, name=f"w{i}", amount=str(1000 + 250 * (i % 4)),
                                 currency="USD", expected_close_date=when.date(), stage=stages["meeting"])
        opportunity_move(actor=rep, opportunity=opp, stage=stages["ordered"], expected_version=opp.version,
                         close_reason="")
        Opportunity.objects.filter(pk=opp.pk).update(closed_at=when)
    body = client_for(rep).get("/api/v1/forecast/statistical?first=2023-01-01&last=2025-04-30&horizon=3").json()
    assert len(body["history"]) == 28 and body["history"][1] == {"month": "2023-02-01", "won": "1250.00"}
    assert [f["month"] for f in body["forecast"]] == ["2025-05-01", "2025-06-01", "2025-07-01"]
    assert all(f["lower"] <= f["mean"] <= f["upper"] for f in body["forecast"])
    assert body["backtest"]["mae"] is not None and body["level"] == 0.9
