"""The metrics page, its CSV and the API: the permission matrix, the figures they show, bad parameters."""

from __future__ import annotations

import csv
import io

import pytest
from tests.conftest import client_for

from rapport.core.choices import Role
from rapport.sales.services import opportunity_create, opportunity_move

PAGE, CSV, API, TREND = "/sales/metrics/", "/sales/metrics.csv", "/api/v1/sales/metrics", "/api/v1/sales/metrics/trend"


@pytest.fixture
def deals(rep, customer, stages):
    for amount, stage in (("100", "ordered"), ("300", "ordered"), ("50", "lost")):
        deal = opportunity_create(actor=rep, account=customer, name="d", amount=amount, currency="USD",
                                  stage=stages["meeting"])
        opportunity_move(actor=rep, opportunity=deal, stage=stages[stage], expected_version=deal.version,
                         close_reason="r")


def _figure(body, key):
    return next(f for f in body["figures"] if f["key"] == key)


@pytest.mark.django_db
def test_anonymous_is_sent_to_sign_in_and_the_api_refuses() -> None:
    anon = client_for(None)
    for url in (PAGE, CSV):
        response = anon.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
    for url in (API, TREND):
        assert anon.get(url).status_code == 401


@pytest.mark.django_db
def test_owner_rep_sees_their_figures_on_page_csv_and_api(rep, teammate, deals) -> None:
    client = client_for(rep)
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="kpi-won_amount"' in html and "400.00" in html and "66.7 %" in html
    assert "<svg" in html and 'id="funnel"' in html and "Sales metrics" in html
    assert client.get(PAGE, headers={"HX-Request": "true", "HX-Target": "metrics-results"}).content.decode(
    ).lstrip().startswith("<p")
    rows = list(csv.DictReader(io.StringIO(client.get(CSV, {"team": rep.team_id}).content.decode())))
    by_rep = {r["rep"]: r for r in rows}
    assert set(by_rep) == {"Rita Rep", "teammate", "Total"} and rows[-1]["rep"] == "Total"
    assert by_rep["Rita Rep"]["won_amount"] == "400.00" and by_rep["teammate"]["won_amount"] == "0.00"
    assert by_rep["Total"]["won"] == "2" and by_rep["Total"]["won_amount"] == "400.00"
    body = client.get(API, {"rep": "me"}).json()
    assert body["scope"] == {"rep": rep.pk, "team": None}
    won = _figure(body, "won_amount")
    assert won["value"] == "400.00" and won["previous"] == "0.00" and won["change"] == "400.00"
    assert won["definition"].startswith("Sum of the amounts")
    assert _figure(body, "win_rate")["value"] == pytest.approx(0.6667)
    assert len(body["trend"]) == 12 and body["trend"][-1]["won_amount"] == "400.00"
    assert body["stage_conversion"][0]["name"] == "Opportunity generated"
    assert client.get(TREND).json()["trend"][-1]["win_rate"] == pytest.approx(0.6667)
    csv_api = client.get(API, {"format": "csv"})
    assert csv_api["Content-Type"].startswith("text/csv") and "Total" in csv_api.content.decode()


@pytest.mark.django_db
def test_other_teams_rep_may_not_pick_them_and_sees_none_of_it(rep, other_rep, deals) -> None:
    client = client_for(other_rep)
    assert client.get(PAGE, {"team": rep.team_id}).status_code == 403
    assert client.get(CSV, {"rep": rep.pk}).status_code == 403
    refused = client.get(API, {"team": rep.team_id})
    assert refused.status_code == 403 and refused["Content-Type"].startswith("application/problem+json")
    assert client.get(API, {"rep": rep.pk}).status_code == 403
    own = client.get(API).json()
    assert _figure(own, "won_amount")["value"] == "0.00" and _figure(own, "won")["value"] == 0
    assert "400.00" not in client.get(PAGE).content.decode()


@pytest.mark.django_db
def test_manager_sees_their_team_and_its_reps_only(manager, rep, other_rep, team_b, deals) -> None:
    client = client_for(manager)
    body = client.get(API, {"team": rep.team_id}).json()
    assert _figure(body, "won")["value"] == 2
    assert {r["name"] for r in body["reps"]} >= {"Rita Rep"}
    assert client.get(API, {"rep": rep.pk}).status_code == 200
    assert client.get(API, {"team": team_b.pk}).status_code == 403
    assert client.get(PAGE, {"rep": other_rep.pk}).status_code == 403


@pytest.mark.django_db
def test_a_role_without_deals_may_not_see_metrics(make_user) -> None:
    marketer = make_user(Role.MARKETER, None)
    client = client_for(marketer)
    assert client.get(PAGE).status_code == 403
    assert client.get(API).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("params", [{"period": "week"}, {"day": "2026-13-45"}, {"rep": "abc"}, {"team": "987654"},
                                    {"period": "custom", "start": "2026-01-01"}, {"pipeline": "987654"},
                                    {"period": "custom", "start": "2026-02-01", "end": "2026-01-01"}])
def test_bad_parameters_are_refused_with_the_reason(rep, params) -> None:
    client = client_for(rep)
    page = client.get(PAGE, params)
    assert page.status_code == 422 and 'role="alert"' in page.content.decode()
    assert client.get(CSV, params).status_code == 422
    api = client.get(API, params)
    assert api.status_code == 422 and api["Content-Type"].startswith("application/problem+json")


@pytest.mark.django_db
def test_names_are_escaped_on_the_page_and_in_the_csv(make_user, team_a, manager) -> None:
    make_user(Role.SALES_REP, team_a, username="evil", first_name="<script>x</script>", last_name="")
    make_user(Role.SALES_REP, team_a, username="formula", first_name="=HYPERLINK(1)", last_name="")
    client = client_for(manager)
    html = client.get(PAGE, {"team": team_a.pk}).content.decode()
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    text = client.get(CSV, {"team": team_a.pk}).content.decode()
    assert "'=HYPERLINK(1)" in text and ",=HYPERLINK" not in text
