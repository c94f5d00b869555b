"""Service cases, campaign responses and cancellations in the warehouse: they reach their facts on
a full build and are upserted by an incremental refresh; the churn features built from them are
what stood at the cut-off (nothing resolved, rated, opened or cancelled after it is seen); the OLAP
measures over them; the defection reasons from the exit survey's codes."""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import pytest

from rapport.analytics.olap import DEFAULT_REGISTRY, QuerySpec, run_query
from rapport.commerce import services_catalogue as catalogue
from rapport.commerce.services import subscription_create, subscription_update
from rapport.insights.alerts import DRIVER_LABELS, suggested_action
from rapport.insights.scoring import CHURN_FEATURES
from rapport.insights.scoring_features import churn_features
from rapport.insights.selectors_dash import defection_reason_counts, exit_comments
from rapport.insights.warehouse import warehouse_build, warehouse_connect
from rapport.marketing.models import Campaign, CampaignMember
from rapport.parties.merge import contact_merge
from rapport.parties.merge_accounts import account_merge
from rapport.parties.services import contact_create
from rapport.service.models import Case

pytestmark = pytest.mark.django_db(transaction=True)
D = dt.date


def _t(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


@pytest.fixture
def serviced(sales, rep):
    """Acme: a complaint (opened 1 June 2025, resolved a day later, rated 2), a question (opened
    20 June, resolved 10 July, rated 4) and a problem opened 1 July, still open. Campaigns: Summer
    (sent 10 June to Acme, opened the next day, and to Bolt, never opened) and July (sent 1 July to
    Acme, not opened; Acme unsubscribed on 3 July)."""
    acme, bolt = sales["acme"], sales["bolt"]
    cases = [
        Case.objects.create(account=acme, subject="Late delivery", kind="complaint", channel="phone",
                            opened_at=_t(D(2025, 6, 1)), resolved_at=_t(D(2025, 6, 2)), status="resolved",
                            satisfaction=2, owner=rep),
        Case.objects.create(account=acme, subject="Export?", kind="question", channel="email",
                            opened_at=_t(D(2025, 6, 20)), resolved_at=_t(D(2025, 7, 10)), status="resolved",
                            satisfaction=4, owner=rep),
        Case.objects.create(account=acme, subject="Scanner", kind="problem", channel="email",
                            opened_at=_t(D(2025, 7, 1)), status="open", owner=rep),
    ]  # fmt: skip
    summer = Campaign.objects.create(name="Summer", channel="email", status="completed", owner=rep)
    july = Campaign.objects.create(name="July", channel="email", status="completed", owner=rep)
    CampaignMember.objects.create(campaign=summer, account=acme, sent_at=_t(D(2025, 6, 10)),
                                  opened_at=_t(D(2025, 6, 11)))
    CampaignMember.objects.create(campaign=summer, account=bolt, sent_at=_t(D(2025, 6, 10)))
    CampaignMember.objects.create(campaign=july, account=acme, sent_at=_t(D(2025, 7, 1)),
                                  unsubscribed_at=_t(D(2025, 7, 3)))
    return {**sales, "cases": cases}


def _features(end: dt.date, account) -> dict:
    con = warehouse_connect()
    try:
        frame = churn_features(con, end=end, horizon_days=90)
    finally:
        con.close()
    return frame.loc[account.pk].to_dict()


def _pick(row: dict, *names: str) -> tuple:
    return tuple(row[n] for n in names)


SERVICE = ("cases", "complaints", "open_cases")
ENGAGEMENT = ("campaigns_received", "campaign_open_rate", "unsubscribed")


def test_cases_and_campaign_responses_as_churn_features_at_the_cut_off(serviced):
    built = warehouse_build()
    assert (built.facts["fact_case"], built.facts["fact_campaign_response"]) == (3, 3)
    acme, bolt = serviced["acme"], serviced["bolt"]

    early = _features(D(2025, 6, 10), acme)  # only the complaint is there, resolved and rated 2
    assert _pick(early, *SERVICE) == (1, 1, 0) and early["avg_satisfaction"] == 2.0
    assert _pick(early, *ENGAGEMENT) == (1, 0.0, 0)  # sent that day, opened the next

    mid = _features(D(2025, 7, 5), acme)  # the question is resolved only on 10 July: still open here
    assert _pick(mid, *SERVICE) == (3, 1, 2) and mid["avg_satisfaction"] == 2.0
    assert _pick(mid, *ENGAGEMENT) == (2, 0.5, 1)

    late = _features(D(2025, 8, 1), acme)
    assert _pick(late, *SERVICE) == (3, 1, 1) and late["avg_satisfaction"] == 3.0

    # Bolt had no case (zero, and no satisfaction to average: NaN, not 0) and opened nothing.
    b = _features(D(2025, 7, 5), bolt)
    assert _pick(b, *SERVICE) == (0, 0, 0) and math.isnan(b["avg_satisfaction"])
    assert _pick(b, *ENGAGEMENT) == (1, 0.0, 0)


def test_an_incremental_refresh_upserts_changed_cases_and_responses(serviced, rep):
    warehouse_build()
    open_case = serviced["cases"][2]
    Case.objects.filter(pk=open_case.pk).update(status="resolved", resolved_at=_t(D(2025, 7, 20)), satisfaction=5,
                                                updated_at=_t(D(2030, 1, 1)))
    bolt_member = CampaignMember.objects.get(account=serviced["bolt"])
    CampaignMember.objects.filter(pk=bolt_member.pk).update(opened_at=_t(D(2025, 6, 12)),
                                                            updated_at=_t(D(2030, 1, 1)))
    Case.objects.create(account=serviced["bolt"], subject="Invoice twice", kind="complaint",
                        opened_at=_t(D(2025, 7, 25)), owner=rep)
    refreshed = warehouse_build(incremental=True)
    assert (refreshed.extracted["stg_case"], refreshed.extracted["stg_campaign_member"]) == (2, 1)
    assert (refreshed.facts["fact_case"], refreshed.facts["fact_campaign_response"]) == (4, 3)  # upserted
    late = _features(D(2025, 8, 1), serviced["acme"])
    assert _pick(late, *SERVICE) == (3, 1, 0) and late["avg_satisfaction"] == pytest.approx(11 / 3)
    b = _features(D(2025, 8, 1), serviced["bolt"])
    assert _pick(b, *SERVICE) == (1, 1, 1)
    assert b["campaign_open_rate"] == 1.0


def test_olap_measures_over_cases_and_campaign_responses(serviced):
    warehouse_build()
    con = warehouse_connect()
    try:
        cases = run_query(con, QuerySpec.from_dict({
            "measures": ["cases", "complaints", "open_cases", "avg_satisfaction", "avg_resolution_hours"],
            "dimensions": ["region.region", "channel.channel"]}))
        campaigns = run_query(con, QuerySpec.from_dict({
            "measures": ["campaign_sends", "campaign_opens", "campaign_open_rate", "campaign_unsubscribes",
                         "customers_reached"],
            "dimensions": ["campaign.campaign"]}))
        by_month = run_query(con, QuerySpec.from_dict({"measures": ["cases"], "dimensions": ["date.month"]}))
    finally:
        con.close()
    # email: the question (rated 4, 20 days = 480 h) and the open problem; phone: the complaint (24 h, rated 2)
    assert cases.rows == [("Europe", "email", 2, 0, 1, 4.0, 480.0), ("Europe", "phone", 1, 1, 0, 2.0, 24.0)]
    assert campaigns.rows == [("July", 1, 0, 0.0, 1, 1), ("Summer", 2, 1, 0.5, 0, 2)]
    assert by_month.rows == [("2025-06", 2), ("2025-07", 1)]


def test_cancelled_subscriptions_give_reasons_and_stop_counting_as_active(sales, admin_user):
    plan = catalogue.product_create(actor=admin_user, sku="SUB-1", name="Support plan", kind="subscription",
                                    tax_category="standard")
    subs = [subscription_create(actor=admin_user, account=sales["acme"], product=plan, amount="20", currency="EUR",
                                start_date=D(2025, 1, 1)) for _ in range(3)]
    subscription_update(actor=admin_user, subscription=subs[0], expected_version=subs[0].version,
                        data={"status": "cancelled", "cancelled_on": D(2025, 5, 1), "cancellation_reason": "price",
                              "cancellation_comment": "Too dear"})
    subscription_update(actor=admin_user, subscription=subs[1], expected_version=subs[1].version,
                        data={"status": "cancelled", "cancelled_on": D(2025, 6, 1), "cancellation_reason": "price"})
    warehouse_build()
    assert _features(D(2025, 4, 1), sales["acme"])["active_subscriptions"] == 3
    assert _features(D(2025, 5, 15), sales["acme"])["active_subscriptions"] == 2
    assert _features(D(2025, 7, 1), sales["acme"])["active_subscriptions"] == 1
    subscription_update(actor=admin_user, subscription=subs[2], expected_version=subs[2].version,
                        data={"status": "cancelled", "cancelled_on": D(2025, 6, 1)})
    rows = [r for r in defection_reason_counts() if r["source"] == "cancelled subscription"]
    assert sorted((r["reason"], r["count"]) for r in rows) == [("Too expensive", 2), ("no reason recorded", 1)]


def test_the_service_and_campaign_features_are_model_inputs_with_labels_and_actions():
    for name in (*SERVICE, "avg_satisfaction", *ENGAGEMENT):
        assert name in CHURN_FEATURES
        assert name in DRIVER_LABELS
    assert suggested_action(["+complaints"]) == "service"
    assert suggested_action(["+avg_satisfaction"]) == "service"
    assert suggested_action(["+campaign_open_rate"]) == "call"


def test_exit_survey_comments_show_only_readable_subscriptions_and_are_escaped(sales, rep, other_rep, manager,
                                                                               admin_user, client_of):
    plan = catalogue.product_create(actor=admin_user, sku="SUB-1", name="Support plan", kind="subscription",
                                    tax_category="standard")
    for actor, account, words in ((rep, sales["acme"], "<b>Too dear</b>"), (other_rep, sales["bolt"], "Moved away")):
        sub = subscription_create(actor=actor, account=account, product=plan, amount="20", currency="EUR",
                                  start_date=D(2025, 1, 1))
        subscription_update(actor=actor, subscription=sub, expected_version=sub.version,
                            data={"status": "cancelled", "cancelled_on": D(2025, 6, 1), "cancellation_reason": "price",
                                  "cancellation_comment": words})
    assert [c["comment"] for c in exit_comments(actor=rep)] == ["<b>Too dear</b>"]
    assert [c["comment"] for c in exit_comments(actor=other_rep)] == ["Moved away"]
    assert sorted(c["comment"] for c in exit_comments(actor=admin_user)) == ["<b>Too dear</b>", "Moved away"]
    warehouse_build()
    assert client_of(None).get("/insights/defection/").status_code == 302  # to the login page
    assert client_of(rep).get("/insights/defection/").status_code == 403  # no warehouse access
    page = client_of(manager).get("/insights/defection/")
    html = page.content.decode()
    assert page.status_code == 200 and "&lt;b&gt;Too dear&lt;/b&gt;" in html and "<b>Too dear" not in html
    assert "Moved away" not in html  # another team's customer
    api = client_of(manager).get("/api/v1/insights/defection").json()
    assert [c["comment"] for c in api["exit_comments"]] == ["<b>Too dear</b>"]


def test_the_olap_page_offers_every_measure_grouped_by_its_fact(serviced, analyst, client_of):
    warehouse_build()
    page = client_of(analyst).get("/insights/olap/", {"m": ["cases", "complaints"], "d": ["channel.channel"]})
    html = page.content.decode()
    assert page.status_code == 200
    for group in ("Orders", "Interactions", "Service cases", "Campaigns"):
        assert f"Measures: {group}" in html
    for name in DEFAULT_REGISTRY.measures:
        assert f'value="{name}"' in html
    # email: the question and the open problem, no complaint; phone: the complaint
    assert '<tr><td>email</td><td class="num">2</td><td class="num">0</td></tr>' in html
    assert '<tr><td>phone</td><td class="num">1</td><td class="num">1</td></tr>' in html


def _same_as_full_build(path, tmp_path, tables):
    full = tmp_path / "full.duckdb"
    warehouse_build(path=full)
    con, ref = duckdb.connect(str(path), read_only=True), duckdb.connect(str(full), read_only=True)
    try:
        for table in tables:
            sql = f"SELECT * FROM {table} ORDER BY ALL"
            assert con.execute(sql).fetchall() == ref.execute(sql).fetchall(), table
    finally:
        con.close()
        ref.close()


def test_a_merge_then_an_incremental_refresh_equals_a_full_build(serviced, wh_path, tmp_path, admin_user):
    """Merging Bolt into Acme moves Bolt's orders, interactions and campaign member to Acme (the
    re-pointed rows count as changed) and deletes Bolt (its dimension row goes); merging two Acme
    contacts who were both sent one campaign drops the duplicate's member (found by id blocks)."""
    acme, bolt = serviced["acme"], serviced["bolt"]
    ann = contact_create(actor=admin_user, data={"first_name": "Ann", "last_name": "Lee", "account_id": acme.pk})
    anne = contact_create(actor=admin_user, data={"first_name": "Anne", "last_name": "Lee", "account_id": acme.pk})
    summer = Campaign.objects.get(name="Summer")
    for contact in (ann, anne):
        CampaignMember.objects.create(campaign=summer, account=acme, contact=contact, sent_at=_t(D(2025, 6, 10)))
    warehouse_build()
    account_merge(actor=admin_user, survivor=acme, duplicate=bolt)
    contact_merge(actor=admin_user, survivor=ann, duplicate=anne)
    refreshed = warehouse_build(incremental=True)
    assert refreshed.incremental and refreshed.facts["fact_campaign_response"] == 4  # 5 sent, one dropped
    con = warehouse_connect()
    try:
        assert con.execute("SELECT count(*) FROM dim_customer WHERE customer_key = ?", [bolt.pk]).fetchone() == (0,)
        keys = con.execute("SELECT DISTINCT customer_key FROM fact_order_line UNION "
                           "SELECT customer_key FROM fact_campaign_response").fetchall()
    finally:
        con.close()
    assert keys == [(acme.pk,)]
    _same_as_full_build(wh_path, tmp_path, ["fact_order_line", "fact_interaction", "fact_case",
                                            "fact_campaign_response", "dim_customer",
                                            *(r.table for r in DEFAULT_REGISTRY.rollups)])
