"""The churn dashboard shows the scoring job's one churn model: the report stored on the run, the
stored probabilities (histogram, median, highest-risk list) and the churn alerts' save rate — never
a model of its own. Access: sign-in, the warehouse permission, row access on the list, and the
alerts' own visibility for the save rate."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from django.utils import timezone
from tests.insights.dash_data import buy, catalogue_usd

from rapport.analytics import churn as churn_lib
from rapport.analytics.churn import model as churn_model_module
from rapport.insights.alerts import alert_outcome_set, alerts_raise, save_rate
from rapport.insights.models import ChurnAlert, CustomerScore, ScoringRun, ScoringSettings
from rapport.insights.scoring import CHURN_FEATURES, customers_score
from rapport.insights.selectors_churn import NO_RUN
from rapport.insights.warehouse import warehouse_build
from rapport.parties.services import account_create

PROBLEM = "application/problem+json"
REPORT_KEYS = ("cutoff", "window_days", "scored_with", "customers", "churners", "base_rate", "folds", "auc",
               "baseline_auc", "time_auc", "time_baseline_auc", "time_split", "brier", "baseline_brier",
               "top_decile_lift", "lift", "features", "dropped", "drivers", "driver_customers")


@pytest.fixture
def scored(customer_base, wh_path):
    warehouse_build()
    result = customers_score()
    return {**customer_base, "run": ScoringRun.objects.get(pk=result.run_id)}


def _stored_probabilities() -> list[float]:
    return list(CustomerScore.objects.exclude(churn_probability=None).values_list("churn_probability", flat=True))


def _bands(probabilities: list[float]) -> list[int]:
    counts = [0] * 10
    for p in probabilities:
        counts[min(math.floor(p * 10), 9)] += 1
    return counts


def _no_training(*args, **kwargs):
    raise AssertionError("the churn dashboard must not train a model")


@pytest.mark.django_db
def test_the_run_stores_the_report_and_the_dashboard_shows_it(scored, client_of, admin_user, monkeypatch):
    # given: the scoring run's report
    run = scored["run"]
    report = run.notes["churn"]
    assert set(REPORT_KEYS) <= set(report)
    assert report["window_days"] == ScoringSettings.load().horizon_days == 90
    assert report["scored_with"] in ("trees", "baseline", "p_alive")
    # the evaluation: out-of-fold on every customer known at the cut-off, ten deciles
    assert report["customers"] == sum(r["customers"] for r in report["lift"]) and len(report["lift"]) == 10
    assert 0 < report["churners"] < report["customers"]
    for key in ("auc", "baseline_auc", "brier", "baseline_brier", "base_rate"):
        assert 0 <= report[key] <= 1 and report[key] == round(report[key], 4)  # rounded as figures._f does
    assert report["time_auc"] is not None or report["time_split_message"].startswith("no time split")
    assert set(report["features"]) | {d["name"] for d in report["dropped"]} == set(CHURN_FEATURES)
    # driver importance is the tally of the drivers stored on the customers the churn step scored
    rows = CustomerScore.objects.exclude(recency_days=None).values_list("churn_drivers", flat=True)
    tally: Counter[tuple[str, str]] = Counter()
    first: Counter[str] = Counter()
    for drivers in rows:
        tally.update((d[0], d[1:]) for d in drivers)
        first.update(d[1:] for d in drivers[:1])
    assert report["driver_customers"] == len(rows) == 70
    assert {r["feature"]: (r["raises"], r["lowers"], r["top"]) for r in report["drivers"]} == {
        name: (tally["+", name], tally["-", name], first[name]) for _sign, name in tally}

    # when: the dashboard is read, with any model training made to fail
    monkeypatch.setattr(churn_lib, "train", _no_training)
    monkeypatch.setattr(churn_model_module, "train", _no_training)
    client = client_of(admin_user)
    body = client.get("/api/v1/insights/churn?top=200").json()
    # then: it is the stored report, the stored probabilities and the stored ranking
    assert body["status"] == "ok" and body["model_trained"] is True
    assert {k: body[k] for k in run.notes["churn"]} == run.notes["churn"]
    assert body["run"]["id"] == run.pk and body["run"]["customers"] == 70
    assert body["fallbacks"] == run.notes["fallbacks"]
    probabilities = _stored_probabilities()
    assert body["risk"]["counts"] == _bands(probabilities) and body["risk"]["scored"] == len(probabilities) == 70
    assert body["risk"]["median"] == round(float(np.median(probabilities)), 4)
    ranked = list(CustomerScore.objects.exclude(churn_probability=None).order_by("-churn_probability", "account_id")
                  .values_list("account_id", "churn_probability", "churn_drivers"))
    assert [(c["account_id"], c["risk"], c["drivers"]) for c in body["highest_risk"]] == [
        (pk, round(p, 4), drivers) for pk, p, drivers in ranked]
    assert [c["rank"] for c in body["highest_risk"]] == list(range(1, 71))

    # when: a later run stored numbers no model would give (a report and a score written by hand)
    notes = run.notes
    notes["churn"]["auc"], notes["churn"]["lift"][0]["lift"] = 0.1234, 9.876
    notes["fallbacks"] = ["churn: a reason <b>written</b> by the test"]
    safest = ranked[-1][0]
    CustomerScore.objects.filter(account_id=safest).update(churn_probability=0.99991, churn_drivers=["-orders"])
    ScoringRun.objects.filter(pk=run.pk).update(notes=notes, finished_at=timezone.now())
    # then: the API and the page show exactly those
    body = client.get("/api/v1/insights/churn?top=5").json()
    assert (body["auc"], body["lift"][0]["lift"]) == (0.1234, 9.876)
    assert body["highest_risk"][0] == {
        "rank": 1, "account_id": safest, "name": CustomerScore.objects.get(account_id=safest).account.name,
        "risk": 0.9999, "driver": "-orders", "driver_label": "number of orders", "driver_raises": False,
        "drivers": ["-orders"]}
    assert body["risk"]["counts"] == _bands(_stored_probabilities())
    html = client.get("/insights/churn/").content.decode()
    assert "0.1234" in html and "9.88" in html  # the lift table's two decimals
    assert "churn: a reason &lt;b&gt;written&lt;/b&gt; by the test" in html
    assert "number of orders (lowers risk)" in html
    assert f"From scoring run {run.pk}," in html


@pytest.mark.django_db
def test_the_pages_draw_the_stored_report(scored, client_of, analyst):
    body = client_of(analyst).get("/api/v1/insights/churn").json()
    page = client_of(analyst).get("/insights/churn/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "AUC, 5-fold cross-validation" in html and "AUC, time-based split" in html
    assert f"<td class=\"num\">{body['auc']}</td>" in html
    # lift, calibration and risk always (a model was trained); drivers when a customer has one
    assert html.count('class="chart') == 3 + bool(body["drivers"])
    assert 'href="/insights/churn/alerts/"' in html
    assert "Your role does not see churn alerts." in html  # analysts see no alerts, so no save rate
    assert body["save_rate"] is None
    # the overview's churn tiles are the same stored figures
    overview = client_of(analyst).get("/api/v1/insights/overview").json()
    assert overview["churn_risk"] == body["risk"] and overview["churn_message"] is None
    html = client_of(analyst).get("/insights/").content.decode()
    assert f'{body["risk"]["median"]:.2f}</span> median churn risk' in html


@pytest.mark.django_db
def test_without_a_scoring_run_the_page_says_what_to_run(wh_path, client_of, analyst):
    # given: no warehouse and no scoring run (the churn page needs neither to answer)
    body = client_of(analyst).get("/api/v1/insights/churn")
    assert body.status_code == 200
    assert body.json() == {"status": "no_run", "message": NO_RUN, "save_rate": None}
    assert "rapport insights score" in NO_RUN and "rapport warehouse build" in NO_RUN
    page = client_of(analyst).get("/insights/churn/")
    assert page.status_code == 200
    assert NO_RUN in page.content.decode()
    # a run that has not finished yet does not count
    ScoringRun.objects.create(customers=3, notes={"churn": {"auc": 0.9}})
    assert client_of(analyst).get("/api/v1/insights/churn").json()["status"] == "no_run"


@pytest.mark.django_db
def test_churn_page_access(wh_path, client_of, rep, manager):
    page = client_of(None).get("/insights/churn/")
    assert page.status_code == 302 and page["Location"].startswith("/login/")
    api = client_of(None).get("/api/v1/insights/churn")
    assert api.status_code == 401 and api["Content-Type"] == PROBLEM
    assert client_of(rep).get("/insights/churn/").status_code == 403  # reps have no warehouse permission
    forbidden = client_of(rep).get("/api/v1/insights/churn")
    assert forbidden.status_code == 403 and forbidden["Content-Type"] == PROBLEM
    assert client_of(manager).get("/api/v1/insights/churn").status_code == 200


@pytest.mark.django_db
def test_the_highest_risk_list_follows_row_access(scored, client_of, manager, admin_user):
    # Active and Once accounts are rep's (team A, the manager's), Lapsed ones other_rep's (team B).
    team_a = {a.pk for a in scored["active"] + scored["once"]}
    everyone = client_of(admin_user).get("/api/v1/insights/churn?top=200").json()["highest_risk"]
    assert len(everyone) == 70
    mine = client_of(manager).get("/api/v1/insights/churn?top=200").json()
    assert [c["account_id"] for c in mine["highest_risk"]] == [c["account_id"] for c in everyone
                                                               if c["account_id"] in team_a]
    assert [c["rank"] for c in mine["highest_risk"]] == list(range(1, 41))  # ranked among themselves
    assert mine["risk"]["scored"] == 70  # the aggregates are the whole base's
    html = client_of(manager).get("/insights/churn/").content.decode()
    assert "Lapsed" not in html and "Active " in html
    assert len(client_of(manager).get("/api/v1/insights/churn?top=3").json()["highest_risk"]) == 3


def _decide(actor, account, status):
    alert = ChurnAlert.objects.get(account=account)
    alert_outcome_set(actor=actor, alert=alert, status=status, expected_version=alert.version)


@pytest.mark.django_db
def test_save_rate_tile_counts_the_alerts_each_user_may_see(admin_user, rep, other_rep, manager, analyst,
                                                            client_of, wh_path):
    # given: alerts on seven of rep's accounts (team A) and three of other_rep's (team B) ...
    cfg = ScoringSettings.load()
    mine = [account_create(actor=rep, data={"name": f"Mine {i}"}) for i in range(7)]
    theirs = [account_create(actor=other_rep, data={"name": f"Theirs {i}"}) for i in range(3)]
    ids = [a.pk for a in mine + theirs]
    alerts_raise(probability=pd.Series(dict.fromkeys(ids, 0.9)), previous=pd.Series(dict.fromkeys(ids, 0.1)),
                 settings=cfg)
    for account, outcome in zip(mine, ("saved", "saved", "saved", "lost", "dismissed"), strict=False):
        _decide(rep, account, outcome)  # two stay open
    for account, outcome in zip(theirs, ("lost", "lost"), strict=False):
        _decide(other_rep, account, outcome)  # one stays open
    # ... and one on a team B account that the save team (the manager) was given, and saved
    cfg.save_team_user, cfg.always_save_team = manager, True
    cfg.save()
    handed = account_create(actor=other_rep, data={"name": "Handed over"})
    alerts_raise(probability=pd.Series({handed.pk: 0.95}), previous=pd.Series({handed.pk: 0.2}), settings=cfg)
    _decide(manager, handed, "saved")
    # and orders, so that the overview has a warehouse to show
    cat = catalogue_usd(admin_user)
    for account in mine[:3]:
        buy(rep, account, cat, timezone.now().date())
    warehouse_build()

    # then: the manager counts their team's alerts and the one assigned to them
    manager_tile = {"open": 2, "saved": 4, "lost": 1, "dismissed": 1, "decided": 5, "rate": 0.8}
    assert client_of(manager).get("/api/v1/insights/churn").json()["save_rate"] == manager_tile
    assert client_of(manager).get("/api/v1/insights/overview").json()["save_rate"] == manager_tile
    assert save_rate(actor=manager)["rate"] == manager_tile["rate"]  # as the alerts page says
    # the administrator every alert; an analyst (no alert permission) none
    admin = client_of(admin_user).get("/api/v1/insights/churn").json()["save_rate"]
    assert admin == {"open": 3, "saved": 4, "lost": 3, "dismissed": 1, "decided": 7,
                     "rate": pytest.approx(4 / 7)}
    assert client_of(analyst).get("/api/v1/insights/overview").json()["save_rate"] is None
    # the pages show the tile
    for url in ("/insights/churn/", "/insights/"):
        html = client_of(manager).get(url).content.decode()
        assert '<span class="num" data-rate>80%</span>' in html, url
        assert "4 saved, 1 lost, 2 open" in html, url
    assert "Your role does not see churn alerts." in client_of(analyst).get("/insights/").content.decode()
