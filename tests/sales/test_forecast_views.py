"""The forecast page, its CSV, the inline manager adjustment and the quota page: numbers per rep
and for the team, scopes, and the permission matrix (anonymous, other team's rep, owner rep,
manager). Adjustments sit beside the reps' numbers and never change them."""

from __future__ import annotations

import csv
import datetime as dt
import io
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
def deals(rep, teammate, other_rep, customer, stages, month, manager):
    close = month + dt.timedelta(days=20) if month.month != 2 else month + dt.timedelta(days=10)
    opportunity_create(actor=rep, account=customer, name="commit", amount="1000", currency="EUR",
                       expected_close_date=close, stage=stages["quote"])      # commit, 70 %
    opportunity_create(actor=rep, account=customer, name="best", amount="400", currency="EUR",
                       expected_close_date=close, stage=stages["solution"])   # best case, 50 %
    won = opportunity_create(actor=rep, account=customer, name="won", amount="300", currency="EUR",
                             expected_close_date=close, stage=stages["meeting"])
    opportunity_move(actor=rep, opportunity=won, stage=stages["ordered"], expected_version=won.version,
                     close_reason="")
    opportunity_create(actor=teammate, account=customer, name="mate", amount="200", currency="EUR",
                       expected_close_date=close, stage=stages["solution"])
    from rapport.parties.services import account_create

    theirs = account_create(actor=other_rep, data={"name": "Elsewhere", "currency": "EUR"})
    opportunity_create(actor=other_rep, account=theirs, name="secret", amount="777777", currency="EUR",
                       expected_close_date=close, stage=stages["quote"])
    quota_set(actor=manager, user=rep, period="month", day=month, amount="600")


def test_anonymous_is_sent_to_login(deals) -> None:
    for url in ("/forecast/", "/forecast.csv", "/forecast/quotas/"):
        response = client_for(None).get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
    response = client_for(None).post("/forecast/adjust/", {"category": "commit", "amount": "1"})
    assert response.status_code == 302 and ForecastAdjustment.objects.count() == 0


def test_rep_sees_own_team_with_numbers(rep, deals, teammate) -> None:
    page = client_for(rep).get("/forecast/")
    body = page.content.decode()
    assert page.status_code == 200 and "777" not in body
    row = body.split(f'id="rep-{rep.pk}"')[1].split("</tr>")[0]
    cells = [c.split(">", 1)[1].split("<")[0].strip() for c in row.split('<td class="num')[1:]]
    # quota, closed, commit, best case, pipeline, weighted, attainment, gap
    assert cells == ["600.00 EUR", "300.00 EUR", "1,300.00 EUR", "1,700.00 EUR", "1,700.00 EUR", "900.00 EUR",
                     "50.0 %", "300.00 EUR"]
    assert f'id="rep-{teammate.pk}"' in body and 'id="total"' in body
    total = body.split('id="total"')[1].split("</tr>")[0]
    assert "1,900.00 EUR" in total  # the team's pipeline: 1,700 + 200
    # a rep may not adjust: no inline form on the page
    assert 'name="amount"' not in body and "/forecast/quotas/" not in body


def test_other_teams_rep_sees_nothing_of_team_a(other_rep, rep, deals, team_a) -> None:
    client = client_for(other_rep)
    body = client.get("/forecast/").content.decode()
    assert "1,700.00" not in body and "777,777.00 EUR" in body
    assert client.get(f"/forecast/?scope=team&team={team_a.pk}").status_code == 403
    assert client.get(f"/forecast/?scope=rep&rep={rep.pk}").status_code == 404
    assert client.get(f"/forecast.csv?scope=team&team={team_a.pk}").status_code == 403
    assert client.get("/forecast/quotas/").status_code == 403
    response = client.post("/forecast/adjust/", {"user": rep.pk, "category": "commit", "amount": "5",
                                                 "period": "month"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 404 and ForecastAdjustment.objects.count() == 0


def test_bad_parameters_are_400_not_500(rep, deals) -> None:
    client = client_for(rep)
    for query in ("period=week", "day=yesterday", "scope=galaxy", "scope=rep&rep=abc", "pipeline=-1"):
        assert client.get(f"/forecast/?{query}").status_code == 400, query
        assert client.get(f"/forecast.csv?{query}").status_code == 400, query


def test_scopes_me_rep_and_period(rep, teammate, manager, deals, month) -> None:
    client = client_for(manager)
    mine = client_for(teammate).get("/forecast/?scope=me").content.decode()
    assert f'id="rep-{teammate.pk}"' in mine and f'id="rep-{rep.pk}"' not in mine
    one = client.get(f"/forecast/?scope=rep&rep={rep.pk}").content.decode()
    assert f'id="rep-{rep.pk}"' in one and f'id="rep-{teammate.pk}"' not in one
    year = client.get(f"/forecast/?period=year&day={month.isoformat()}").content.decode()
    assert f"{month.year}-01-01" in year and f"{month.year}-12-31" in year
    next_month = client.get(f"/forecast/?day={(month + dt.timedelta(days=40)).isoformat()}").content.decode()
    assert "1,700.00 EUR" not in next_month


def test_manager_adjusts_inline_and_numbers_stay(manager, rep, deals, month) -> None:
    client = client_for(manager)
    page = client.get("/forecast/").content.decode()
    assert 'hx-post="/forecast/adjust/"' in page and "/forecast/quotas/" in page
    response = client.post("/forecast/adjust/", {
        "user": rep.pk, "period": "month", "day": month.isoformat(), "category": "commit", "amount": "1500",
        "note": "<b>big</b> renewal"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and f'id="adj-{rep.pk}"' in body
    assert "1,500.00 EUR" in body and "by manager" in body and "&lt;b&gt;big&lt;/b&gt;" in body
    adj = ForecastAdjustment.objects.get()
    assert (adj.user, adj.category, adj.amount, adj.adjusted_by) == (rep, "commit", Decimal("1500"), manager)
    again = client.get("/forecast/").content.decode()
    row = again.split(f'id="rep-{rep.pk}"')[1].split("</tr>")[0]
    assert "1,300.00 EUR" in row and "1,500.00 EUR" in row  # the rep's commit beside the manager's figure
    bad = client.post("/forecast/adjust/", {"user": rep.pk, "period": "month", "category": "commit",
                                            "amount": "lots"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 422 and b"not a number" in bad.content
    assert ForecastAdjustment.objects.get().amount == Decimal("1500")
    team = client.post("/forecast/adjust/", {"period": "month", "category": "best_case", "amount": "2500"},
                       HTTP_HX_REQUEST="true")
    assert team.status_code == 200 and 'id="adj-team"' in team.content.decode()
    assert ForecastAdjustment.objects.filter(team=manager.team, category="best_case").exists()


def test_rep_cannot_adjust(rep, teammate, deals) -> None:
    response = client_for(rep).post("/forecast/adjust/", {"user": teammate.pk, "period": "month",
                                                          "category": "commit", "amount": "5"},
                                    HTTP_HX_REQUEST="true")
    assert response.status_code == 403 and ForecastAdjustment.objects.count() == 0
    own = client_for(rep).post("/forecast/adjust/", {"user": rep.pk, "period": "month", "category": "commit",
                                                     "amount": "5"})
    assert own.status_code == 403 and ForecastAdjustment.objects.count() == 0


def test_csv_export(manager, rep, deals) -> None:
    Opportunity.objects.filter(owner=rep).update(name="=cmd")  # names do not reach the CSV; the rep's does
    rep.first_name = "=HYPERLINK(1)"
    rep.save(update_fields=["first_name"])
    response = client_for(manager).get("/forecast.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    mine = next(r for r in rows if "HYPERLINK" in r["rep"])
    assert mine["rep"].startswith("'=")
    assert (mine["quota"], mine["closed"], mine["commit"], mine["pipeline"], mine["weighted_pipeline"],
            mine["attainment_percent"], mine["gap"]) == ("600.00", "300.00", "1300.00", "1700.00", "900.00",
                                                        "50.0", "300.00")
    assert rows[-1]["rep"] == "Total" and rows[-1]["pipeline"] == "1900.00"


def test_quota_page_for_managers_only(manager, rep, teammate, other_rep, deals, month) -> None:
    assert client_for(rep).get("/forecast/quotas/").status_code == 403
    client = client_for(manager)
    page = client.get("/forecast/quotas/").content.decode()
    assert f'name="amount_{rep.pk}"' in page and f'name="amount_{other_rep.pk}"' not in page
    assert "600.00 EUR" in page
    saved = client.post("/forecast/quotas/", {"period": "month", "day": month.isoformat(),
                                              f"amount_{teammate.pk}": "450", "currency": "EUR"})
    assert saved.status_code == 302
    assert Quota.objects.get(user=teammate).amount == Decimal("450")
    bad = client.post("/forecast/quotas/", {"period": "month", "day": month.isoformat(),
                                            f"amount_{rep.pk}": "-5"})
    assert bad.status_code == 422 and b"zero or more" in bad.content
    assert Quota.objects.get(user=rep).amount == Decimal("600")
    other = client.post("/forecast/quotas/", {"period": "month", f"amount_{other_rep.pk}": "9"})
    assert other.status_code == 404 and not Quota.objects.filter(user=other_rep).exists()
    assert client_for(rep).post("/forecast/quotas/", {"period": "month", f"amount_{rep.pk}": "1"}).status_code == 403
    assert Quota.objects.get(user=rep).amount == Decimal("600")


def test_statistical_chart_with_backtest(rep, customer, stages, month) -> None:
    for i in range(30):
        first = month
        for _ in range(i + 1):
            first = (first - dt.timedelta(days=1)).replace(day=1)
        when = dt.datetime(first.year, first.month, 10, 12, tzinfo=dt.UTC)
        opp = opportunity_create(actor=rep, account=customer, name=f"w{i}", amount=str(1000 + 200 * (first.month % 6)),
                                 currency="EUR", expected_close_date=when.date(), stage=stages["meeting"])
        opportunity_move(actor=rep, opportunity=opp, stage=stages["ordered"], expected_version=opp.version,
                         close_reason="")
        Opportunity.objects.filter(pk=opp.pk).update(closed_at=when)
    body = client_for(rep).get("/forecast/").content.decode()
    assert '<polygon class="band"' in body and '<polyline class="mean"' in body and "MAE" in body
    assert "sMAPE" in body


def test_statistical_short_history_says_so(rep, deals, customer, stages, month) -> None:
    body = client_for(rep).get("/forecast/").content.decode()
    assert '<polygon class="band"' not in body and "needs a history" in body  # won only this month
    when = dt.datetime.combine(month - dt.timedelta(days=80), dt.time(12), tzinfo=dt.UTC)
    opp = opportunity_create(actor=rep, account=customer, name="old", amount="50", currency="EUR",
                             expected_close_date=when.date(), stage=stages["meeting"])
    opportunity_move(actor=rep, opportunity=opp, stage=stages["ordered"], expected_version=opp.version,
                     close_reason="")
    Opportunity.objects.filter(pk=opp.pk).update(closed_at=when)
    body = client_for(rep).get("/forecast/").content.decode()
    assert '<polygon class="band"' not in body and "at least 24 observations" in body
