"""Pages and API of scores and churn alerts: the permission matrix (anonymous, another team's rep,
a teammate, the owner, the team's manager, a role without the permission), outcome writes with
versions (409 stale, 422 bad, 428 none), escaping, and the account list's score filters."""

from __future__ import annotations

import json
from decimal import Decimal

import pandas as pd
import pytest

from rapport.insights.alerts import alerts_raise
from rapport.insights.models import ChurnAlert, CustomerScore, ScoringRun, ScoringSettings
from rapport.parties.services import account_create, party_scores_set

EVIL = "<script>alert(1)</script> Ltd"


@pytest.fixture
def scored(rep, other_rep):
    """Acme (rep's, team A) scored and with an open alert; Bolt (other_rep's, team B) scored only."""
    acme = account_create(actor=rep, data={"name": EVIL})
    bolt = account_create(actor=other_rep, data={"name": "Bolt Inc"})
    run = ScoringRun.objects.create(customers=2, cluster_descriptions={"0": "Lapsed <b>big</b> spenders"})
    for account, p in ((acme, 0.91), (bolt, 0.12)):
        CustomerScore.objects.create(
            account=account, run=run, recency_days=200, frequency=4, monetary=Decimal("55.00"), r_score=1,
            f_score=3, m_score=4, rfm_segment="cant_lose_them" if p > 0.5 else "champions",
            value_tier="gold" if p > 0.5 else "iron", cluster=0, p_alive=1 - p, expected_purchases=0.4,
            clv=Decimal("2500.00"), clv_kind="discounted", churn_probability=p, previous_churn_probability=0.4,
            churn_drivers=["+days_since_last_order", "-orders"])
    party_scores_set(rows=[(acme.pk, "cant_lose_them", "gold", "high"), (bolt.pk, "champions", "iron", "low")])
    alerts_raise(probability=pd.Series({acme.pk: 0.91, bolt.pk: 0.12}),
                 previous=pd.Series({acme.pk: 0.4, bolt.pk: 0.1}), settings=ScoringSettings.load(),
                 drivers=pd.Series({acme.pk: ["+days_since_last_order"], bolt.pk: []}, dtype=object))
    return {"acme": acme, "bolt": bolt, "alert": ChurnAlert.objects.get()}


def _patch(client, alert_id, body, **headers):
    return client.patch(f"/api/v1/insights/alerts/{alert_id}", json.dumps(body), content_type="application/json",
                        **headers)


# --- anonymous ---------------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in_and_the_api_says_401(scored, client_of):
    client = client_of(None)
    acme, alert = scored["acme"], scored["alert"]
    for url in ("/insights/churn/alerts/", f"/insights/customers/{acme.pk}/value"):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.post(f"/insights/churn/alerts/{alert.pk}/outcome", {"status": "saved"}).status_code == 302
    for url in ("/api/v1/insights/alerts", f"/api/v1/insights/scores/{acme.pk}", "/api/v1/insights/alerts/save-rate"):
        assert client.get(url).status_code == 401
    assert _patch(client, alert.pk, {"status": "saved", "version": 1}).status_code == 401
    assert ChurnAlert.objects.get().status == "open"


# --- another team's rep -------------------------------------------------------------------------


def test_other_teams_rep_sees_nothing_and_cannot_decide(scored, other_rep, client_of):
    client = client_of(other_rep)
    acme, alert = scored["acme"], scored["alert"]
    page = client.get("/insights/churn/alerts/?status=")
    assert page.status_code == 200
    assert "No alerts match." in page.content.decode() and "Ltd" not in page.content.decode()
    assert client.get("/api/v1/insights/alerts").json() == {"items": [], "next": None}
    assert client.get(f"/api/v1/insights/alerts/{alert.pk}").status_code == 404
    response = _patch(client, alert.pk, {"status": "saved", "version": 1})
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
    outcome = client.post(f"/insights/churn/alerts/{alert.pk}/outcome", {"status": "saved", "version": "1"})
    assert outcome.status_code == 404
    assert client.get(f"/api/v1/insights/scores/{acme.pk}").status_code == 404
    assert client.get(f"/insights/customers/{acme.pk}/value").status_code == 404
    assert ChurnAlert.objects.get().status == "open"


def test_a_teammate_sees_the_accounts_scores_but_not_its_alert(scored, teammate, client_of):
    client = client_of(teammate)
    acme = scored["acme"]
    body = client.get(f"/api/v1/insights/scores/{acme.pk}").json()
    assert (body["rfm_segment"], body["value_tier"], body["churn_probability"]) == ("cant_lose_them", "gold", 0.91)
    assert body["open_alert_id"] is None
    card = client.get(f"/insights/customers/{acme.pk}/value").content.decode()
    assert "Open churn alert" not in card
    assert client.get("/api/v1/insights/alerts").json()["items"] == []


def test_a_role_without_the_permission_gets_403(scored, analyst, client_of):
    client = client_of(analyst)
    assert client.get("/insights/churn/alerts/").status_code == 403
    assert client.get("/api/v1/insights/alerts").status_code == 403
    assert _patch(client, scored["alert"].pk, {"status": "saved", "version": 1}).status_code == 403


# --- the owner and the manager ------------------------------------------------------------------


def test_owner_sees_the_alert_escaped_and_decides_it_on_the_page(scored, rep, client_of):
    client = client_of(rep)
    alert = scored["alert"]
    html = client.get("/insights/churn/alerts/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Ltd" in html and EVIL not in html
    assert f'id="alert-{alert.pk}"' in html and "days since the last order" in html
    assert "91%" in html and "(was 40%)" in html
    response = client.post(f"/insights/churn/alerts/{alert.pk}/outcome", {"status": "saved", "version": "1"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'data-status="saved"' in response.content.decode()
    assert ChurnAlert.objects.get().status == "saved"
    rate = client.get("/insights/churn/alerts/?status=").content.decode()
    assert "100%" in rate and "1 saved of 1 decided" in rate


def test_a_stale_page_gets_409_and_the_current_row(scored, rep, client_of):
    client = client_of(rep)
    alert = scored["alert"]
    response = client.post(f"/insights/churn/alerts/{alert.pk}/outcome", {"status": "lost", "version": "7"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert "changed since version 7" in response.content.decode()
    assert ChurnAlert.objects.get().status == "open"


def test_owner_decides_through_the_api_with_versions(scored, rep, client_of):
    client = client_of(rep)
    alert = scored["alert"]
    items = client.get("/api/v1/insights/alerts?status=open").json()["items"]
    assert [(i["id"], i["account"], i["suggested_action"], i["reasons"]) for i in items] == [
        (alert.pk, EVIL, "call", ["days since the last order"])]
    assert _patch(client, alert.pk, {"status": "saved"}).status_code == 428
    bad = _patch(client, alert.pk, {"status": "maybe", "version": 1})
    assert bad.status_code == 422 and bad["Content-Type"].startswith("application/problem+json")
    stale = _patch(client, alert.pk, {"status": "saved", "version": 5})
    assert stale.status_code == 409 and stale.json()["current_version"] == 1
    assert ChurnAlert.objects.get().status == "open"
    ok = _patch(client, alert.pk, {"status": "lost", "note": "moved to a rival", "version": 1})
    assert ok.status_code == 200
    assert (ok.json()["status"], ok.json()["version"], ok.json()["note"]) == ("lost", 2, "moved to a rival")
    again = _patch(client, alert.pk, {"status": "saved", "version": 2})
    assert again.status_code == 422
    assert client.get("/api/v1/insights/alerts/save-rate").json()["rate"] == 0.0


def test_manager_sees_and_decides_the_teams_alert(scored, manager, client_of):
    client = client_of(manager)
    alert = scored["alert"]
    assert [i["id"] for i in client.get("/api/v1/insights/alerts").json()["items"]] == [alert.pk]
    assert _patch(client, alert.pk, {"status": "saved", "version": 1}).status_code == 200
    assert ChurnAlert.objects.get().decided_by == manager


# --- the 360° card and the account list ---------------------------------------------------------


def test_card_shows_the_scores_escaped(scored, rep, client_of):
    client = client_of(rep)
    acme = scored["acme"]
    detail = client.get(f"/accounts/{acme.pk}/").content.decode()
    assert f'hx-get="/insights/customers/{acme.pk}/value"' in detail
    card = client.get(f"/insights/customers/{acme.pk}/value").content.decode()
    assert "Can&#x27;t lose them" in card and "Gold" in card
    assert "Lapsed &lt;b&gt;big&lt;/b&gt; spenders" in card and "<b>big</b>" not in card
    assert "91%" in card and "days since the last order" in card and "Open churn alert" in card
    assert "2,500" in card and "9%" in card  # CLV, P(alive)
    body = client.get(f"/api/v1/insights/scores/{acme.pk}").json()
    assert body["open_alert_id"] == scored["alert"].pk and body["cluster_description"] == "Lapsed <b>big</b> spenders"


def test_card_of_an_unscored_account_says_so(rep, client_of):
    account = account_create(actor=rep, data={"name": "New Co"})
    client = client_of(rep)
    assert "Not scored yet" in client.get(f"/insights/customers/{account.pk}/value").content.decode()
    assert client.get(f"/api/v1/insights/scores/{account.pk}").status_code == 404


def test_account_list_filters_by_segment_tier_and_risk(scored, admin_user, client_of):
    client = client_of(admin_user)

    def names(query: str) -> list[str]:
        html = client.get(f"/accounts/?{query}").content.decode()
        return [n for n in ("Bolt Inc", "&lt;script&gt;") if n in html]

    assert names("value_segment=cant_lose_them") == ["&lt;script&gt;"]
    assert names("value_tier=iron") == ["Bolt Inc"]
    assert names("churn_risk=high") == ["&lt;script&gt;"]
    assert names("churn_risk=low&value_tier=gold") == []
    assert names("churn_risk=nonsense") == ["Bolt Inc", "&lt;script&gt;"]  # an unknown value is ignored


def test_party_scores_set_writes_only_changes_and_leaves_versions_alone(rep):
    acme = account_create(actor=rep, data={"name": "Acme"})
    assert party_scores_set(rows=[(acme.pk, "loyal", "gold", "low")]) == 1
    assert party_scores_set(rows=[(acme.pk, "loyal", "gold", "low")]) == 0
    acme.refresh_from_db()
    assert (acme.value_segment, acme.value_tier, acme.churn_risk, acme.version) == ("loyal", "gold", "low", 1)
