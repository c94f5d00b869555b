"""Dashboard numbers on a small known data set (services → warehouse build → API and pages):
Kaplan–Meier values worked out by hand, segment and tier counts that add up, the declining
account, cohorts, reasons for leaving, and the "too little data" messages."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.insights.dash_data import buy, small_base

from rapport.insights.warehouse import warehouse_build


@pytest.fixture
def small(admin_user, rep, other_rep, wh_path):
    data = small_base(admin_user, rep, other_rep)
    warehouse_build()
    return data


def _get(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.django_db
def test_kaplan_meier_matches_the_hand_computed_curve(small, client_of, admin_user):
    # Lifetimes: C 0 (left), A 60 (left), F 180, E 305 (left), D 394, H 455, B 546 (still buying).
    body = _get(client_of(admin_user), "/api/v1/insights/defection?dimension=region")
    overall = body["survival"]["overall"]
    curve = dict(zip(overall["time"], overall["survival"], strict=True))
    assert curve[0.0] == pytest.approx(6 / 7, abs=1e-4)  # 7 at risk, C leaves at once
    assert curve[60.0] == pytest.approx(6 / 7 * 5 / 6, abs=1e-4)  # 6 at risk, A leaves
    assert curve[180.0] == pytest.approx(5 / 7, abs=1e-4)  # F censored: no step
    assert curve[305.0] == pytest.approx(5 / 7 * 3 / 4, abs=1e-4)  # E, D, H, B at risk; E leaves
    assert curve[546.0] == pytest.approx(15 / 28, abs=1e-4)
    assert body["survival"]["customers"] == 7 and body["survival"]["defected"] == 3
    groups = {g["group"]: g for g in body["survival"]["groups"]}
    assert set(groups) == {"Europe", "North America"}
    europe = dict(zip(groups["Europe"]["time"], groups["Europe"]["survival"], strict=True))
    america = dict(zip(groups["North America"]["time"], groups["North America"]["survival"], strict=True))
    assert europe[60.0] == pytest.approx(3 / 4, abs=1e-4)  # A of A, B, F, H
    assert america[0.0] == pytest.approx(2 / 3, abs=1e-4) and america[305.0] == pytest.approx(1 / 3, abs=1e-4)
    assert (groups["Europe"]["defected"], groups["North America"]["defected"]) == (1, 2)
    logrank = body["survival"]["logrank"]
    assert logrank["status"] == "ok" and logrank["degrees_of_freedom"] == 1 and 0 < logrank["p_value"] < 1


@pytest.mark.django_db
def test_survival_by_tier_and_channel(small, client_of, admin_user):
    tiers = _get(client_of(admin_user), "/api/v1/insights/defection?dimension=tier")["survival"]["groups"]
    assert {g["group"]: g["customers"] for g in tiers} == {"gold": 2, "none": 5}
    channels = _get(client_of(admin_user), "/api/v1/insights/defection?dimension=channel")["survival"]
    assert [g["group"] for g in channels["groups"]] == ["none"]  # nobody has interactions
    assert channels["logrank"]["status"] == "insufficient"  # one group: nothing to compare


@pytest.mark.django_db
def test_declining_account_and_cohorts(small, client_of, admin_user):
    body = _get(client_of(admin_user), "/api/v1/insights/defection")
    assert [a["name"] for a in body["declining"]] == ["Hotel SA"]
    hotel = body["declining"][0]
    assert (hotel["baseline"], hotel["recent"], hotel["drop_share"]) == (100.0, 0.0, 1.0)
    assert hotel["account_id"] == small["H"].pk
    cohorts = {r["cohort"]: r for r in body["cohorts"]["rows"]}
    # January 2024: A, B, E. A and E bought again in Mar / Nov, B in Jul: one of three in month 2.
    assert cohorts["2024-01"]["customers"] == 3
    assert cohorts["2024-01"]["retention"][:3] == [1.0, 0.0, pytest.approx(1 / 3, abs=1e-4)]
    assert cohorts["2025-01"]["customers"] == 1  # F
    assert body["reasons"]["status"] == "insufficient"


@pytest.mark.django_db
def test_segment_and_tier_counts_add_up(small, client_of, admin_user):
    rfm = _get(client_of(admin_user), "/api/v1/insights/rfm")
    assert rfm["customers"] == 7  # Idle Ltd has no orders: not a customer
    assert sum(s["customers"] for s in rfm["segments"]) == 7
    assert sum(sum(row) for row in rfm["grid"]["counts"]) == 7
    assert sum(t["customers"] for t in rfm["pyramid"]) == 7
    # Revenue: A 40, B 90, C 500, D 20, E 80, F 20, H 1200.
    assert rfm["revenue"] == 1950.0
    assert sum(s["revenue"] for s in rfm["segments"]) == pytest.approx(1950.0)
    overview = _get(client_of(admin_user), "/api/v1/insights/overview")
    assert overview["customers"] == 7 and overview["revenue"] == 1950.0
    assert {s["segment"]: s["customers"] for s in overview["segments"]} == {
        s["segment"]: s["customers"] for s in rfm["segments"]}


@pytest.mark.django_db
def test_too_little_data_says_so(small, client_of, admin_user):
    client = client_of(admin_user)
    clv = _get(client, "/api/v1/insights/clv?model=pnbd")
    assert clv["status"] == "insufficient" and "too few" in clv["message"]
    churn = _get(client, "/api/v1/insights/churn")  # no scoring run yet: what to run, not an error
    assert churn["status"] == "no_run" and "rapport insights score" in churn["message"]
    page = client.get("/insights/clv/").content.decode()
    assert "too few to fit a lifetime-value model" in page
    overview = _get(client, "/api/v1/insights/overview")
    assert overview["median_clv"] is None and "too few" in overview["clv_message"]
    assert overview["churn_risk"] is None and overview["churn_message"] == churn["message"]


@pytest.mark.django_db
def test_no_repeat_buying_is_a_clear_message(admin_user, rep, other_rep, wh_path, client_of):
    from tests.insights.dash_data import account, catalogue_usd

    cat = catalogue_usd(admin_user)
    for i in range(12):
        buy(rep, account(rep, f"Once {i}", "DE"), cat, dt.date(2025, 1, 1 + i))
    warehouse_build()
    body = _get(client_of(admin_user), "/api/v1/insights/clv")
    assert body["status"] == "insufficient" and body["repeat_buyers"] == 0
    assert "no repeat buying" in body["message"]


@pytest.mark.django_db
def test_lost_deal_reasons_are_tallied(small, client_of, admin_user, rep):
    from rapport.sales.models import Pipeline
    from rapport.sales.services import opportunity_create, opportunity_move

    lost = Pipeline.objects.get(is_default=True).stages.get(kind="lost")
    for reason in ("Price", "price ", "Went with a competitor"):
        deal = opportunity_create(actor=rep, account=small["A"], name="Deal", amount="100", currency="USD")
        opportunity_move(actor=rep, opportunity=deal, stage=lost, expected_version=deal.version, close_reason=reason)
    warehouse_build()  # a new build: the cached figures are recomputed
    reasons = _get(client_of(admin_user), "/api/v1/insights/defection")["reasons"]
    assert reasons["rows"] == [
        {"source": "lost deal", "reason": "price", "count": 2, "share": pytest.approx(2 / 3, abs=1e-4)},
        {"source": "lost deal", "reason": "went with a competitor", "count": 1,
         "share": pytest.approx(1 / 3, abs=1e-4)},
    ]
    html = client_of(admin_user).get("/insights/defection/").content.decode()
    assert "went with a competitor" in html and "<svg" in html
    # Reasons are operational rows: a deal lost after the build shows without one (not a stale cache).
    deal = opportunity_create(actor=rep, account=small["A"], name="Deal", amount="100", currency="USD")
    opportunity_move(actor=rep, opportunity=deal, stage=lost, expected_version=deal.version, close_reason="PRICE")
    reasons = _get(client_of(admin_user), "/api/v1/insights/defection")["reasons"]
    assert reasons["total"] == 4 and reasons["rows"][0] == {"source": "lost deal", "reason": "price", "count": 3,
                                                            "share": pytest.approx(3 / 4, abs=1e-4)}


@pytest.mark.django_db
def test_a_rebuild_invalidates_the_cached_figures(small, client_of, admin_user, rep):
    client = client_of(admin_user)
    assert _get(client, "/api/v1/insights/rfm")["revenue"] == 1950.0
    buy(rep, small["idle"], small["cat"], dt.date(2025, 6, 30), 5)
    assert _get(client, "/api/v1/insights/rfm")["revenue"] == 1950.0  # same build: cached
    warehouse_build(incremental=True)
    assert _get(client, "/api/v1/insights/rfm")["customers"] == 8
    assert _get(client, "/api/v1/insights/rfm")["revenue"] == 2000.0


def _dash_keys() -> list[str]:
    from django.core.cache import cache

    return sorted(k for k in cache._cache if ":insights:dash:" in k)  # LocMemCache: the tests' cache


@pytest.mark.django_db
def test_precompute_fills_the_cache_for_every_page(small, client_of, admin_user):
    from django.core.cache import cache

    from rapport.insights.scoring import customers_score
    from rapport.insights.tasks import dashboards_precompute_task

    customers_score()
    cache.clear()
    done = dashboards_precompute_task()
    assert done == ["rfm", "clv:bgnbd", "clv:pnbd", "clv:mbgnbd", "churn",
                    "defection:region", "defection:tier", "defection:channel"]
    assert len(_dash_keys()) == len(done)
    assert dashboards_precompute_task() == done and len(_dash_keys()) == len(done)  # cached: the same keys


@pytest.mark.django_db
def test_the_refresh_and_scoring_jobs_warm_the_dashboards(small, rep):
    from django.core.cache import cache

    from rapport.insights.tasks import customers_score_task, warehouse_build_task

    cache.clear()
    buy(rep, small["idle"], small["cat"], dt.date(2025, 6, 30), 5)
    warehouse_build_task(incremental=True)  # a new build: every warehouse page, no churn (no run yet)
    built = _dash_keys()
    assert len(built) == 7 and not any(":churn:" in k for k in built)
    customers_score_task()  # a scoring run: the churn page's stored risk is warmed too
    scored = _dash_keys()
    assert len(scored) == 8 and set(built) < set(scored)
    assert [k for k in scored if ":churn:" in k][0].endswith(":risk")


@pytest.mark.django_db
def test_an_idle_refresh_keeps_the_data_version_and_the_cached_figures(small, client_of, admin_user, rep):
    from rapport.activities.models import Interaction
    from rapport.activities.services import interaction_delete, interaction_record
    from rapport.commerce.models import Product
    from rapport.insights.warehouse import warehouse_info

    client = client_of(admin_user)
    assert _get(client, "/api/v1/insights/rfm")["revenue"] == 1950.0
    first, cached = warehouse_info()["data_version"], _dash_keys()
    for _ in range(2):  # the periodic refresh of a database nobody wrote to
        warehouse_build(incremental=True)
        assert warehouse_info()["data_version"] == first
        assert _get(client, "/api/v1/insights/rfm")["revenue"] == 1950.0
        assert _dash_keys() == cached  # served from the cache: no new key, nothing recomputed
    buy(rep, small["idle"], small["cat"], dt.date(2025, 6, 30), 5)
    warehouse_build(incremental=True)
    second = warehouse_info()["data_version"]
    assert second != first
    assert _get(client, "/api/v1/insights/rfm")["revenue"] == 2000.0
    # A deletion alone (nothing staged, one id block changed) is a change too.
    made = interaction_record(actor=rep, channel="email", account=small["A"])
    warehouse_build(incremental=True)
    third = warehouse_info()["data_version"]
    assert third != second
    interaction_delete(actor=rep, interaction=Interaction.objects.get(pk=made.pk))
    refresh = warehouse_build(incremental=True)
    assert refresh.extracted["stg_interaction"] == 0
    assert warehouse_info()["data_version"] != third
    # So is a product's new cost price (products are re-read whole and compared by content).
    before = warehouse_info()["data_version"]
    Product.objects.filter(pk=small["cat"]["widget"].pk).update(cost_price="1.00")
    warehouse_build(incremental=True)
    assert warehouse_info()["data_version"] != before
