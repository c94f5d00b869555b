"""The scoring job end to end: a customer base made through the services → warehouse build → score →
CustomerScore rows with sensible values, the accounts' filter columns, alerts once, the CLI, and the
graceful fallbacks (no repeat buying; subscriptions)."""

from __future__ import annotations

import datetime as dt
import logging
from statistics import mean

import pytest
from django.core.management import call_command

from rapport.activities.models import Task
from rapport.commerce import services_catalogue as catalogue
from rapport.commerce.services import LineSpec, order_create_from_lines, subscription_create
from rapport.insights.models import ChurnAlert, CustomerScore, ScoringRun
from rapport.insights.scoring import customers_score
from rapport.insights.warehouse import warehouse_build
from rapport.parties.models import Account
from rapport.parties.services import account_create


def test_scores_every_customer_sensibly_and_alerts_once(customer_base, wh_path, rep, other_rep):
    # given: the base in the warehouse
    warehouse_build()
    # when
    result = customers_score()
    # then: one row per customer
    scores = {s.account_id: s for s in CustomerScore.objects.all()}
    everyone = [a for group in customer_base.values() for a in group]
    assert set(scores) == {a.pk for a in everyone}
    assert result.customers == len(everyone)

    def of(group: str, attr: str) -> list[float]:
        return [getattr(scores[a.pk], attr) for a in customer_base[group]]

    # customers who stopped buying are riskier and less alive than frequent recent buyers
    assert mean(of("lapsed", "churn_probability")) > mean(of("active", "churn_probability")) + 0.3
    assert mean(of("lapsed", "p_alive")) < mean(of("active", "p_alive")) - 0.3
    assert mean(of("lapsed", "expected_purchases")) < mean(of("active", "expected_purchases"))
    assert mean(float(x) for x in of("lapsed", "clv")) < mean(float(x) for x in of("active", "clv"))
    most_recent = min(customer_base["active"], key=lambda a: scores[a.pk].recency_days)
    stalest = max(customer_base["lapsed"], key=lambda a: scores[a.pk].recency_days)
    assert scores[stalest.pk].churn_probability > scores[most_recent.pk].churn_probability
    assert scores[stalest.pk].p_alive < scores[most_recent.pk].p_alive
    # RFM segments: the active ones are mostly champions/loyal, the lapsed never are
    good = {"champions", "loyal", "potential_loyalist"}
    assert sum(s in good for s in of("active", "rfm_segment")) >= 20
    assert not any(s in good for s in of("lapsed", "rfm_segment"))
    assert {s.value_tier for s in scores.values()} <= {"platinum", "gold", "iron", "lead"}
    assert all(s.cluster is not None and s.cluster_description for s in scores.values())
    assert all(s.clv_kind == "discounted" and s.scored_at is not None for s in scores.values())
    assert all(0 <= s.churn_probability <= 1 and s.previous_churn_probability is None for s in scores.values())
    # the accounts carry the filter columns
    first = Account.objects.get(pk=stalest.pk)
    assert first.value_segment == scores[stalest.pk].rfm_segment
    assert first.churn_risk == ("high" if scores[stalest.pk].churn_probability >= 0.7 else "medium"
                                if scores[stalest.pk].churn_probability >= 0.35 else "low")
    assert first.version == 1  # a score is not an edit
    # alerts: one per customer at or above 0.7, each with a task for the owner
    high = {pk for pk, s in scores.items() if s.churn_probability >= 0.7}
    alerts = list(ChurnAlert.objects.all())
    assert high and {a.account_id for a in alerts} == high and result.alerts == len(high)
    owners = {a.pk: a.owner_id for a in everyone}
    assert all(a.task.assignee_id == owners[a.account_id] for a in alerts)
    run = ScoringRun.objects.get(pk=result.run_id)
    assert run.finished_at is not None and run.customers == len(everyone) and run.notes["clv"]["model"] == "bgnbd"
    # when: scored again with nothing changed
    first_p = {pk: s.churn_probability for pk, s in scores.items()}
    call_command("rapport_insights", "score")
    # then: the previous probability is the first run's, no alert or task is duplicated
    again = {s.account_id: s for s in CustomerScore.objects.all()}
    assert {pk: s.previous_churn_probability for pk, s in again.items()} == pytest.approx(first_p)
    assert ChurnAlert.objects.count() == len(alerts)
    assert Task.objects.count() == len(alerts)
    assert ScoringRun.objects.count() == 2


def test_without_repeat_buying_clv_falls_back_with_a_logged_reason(db, admin_user, rep, wh_path, caplog):
    # given: five customers with one order each, one of them with a monthly subscription
    catalogue.tax_rate_set(actor=admin_user, category="standard", rate="0")
    widget = catalogue.product_create(actor=admin_user, sku="W-1", name="Widget", tax_category="standard")
    plan = catalogue.product_create(actor=admin_user, sku="P-1", name="Plan", kind="subscription",
                                    tax_category="standard")
    usd = catalogue.price_book_create(actor=admin_user, name="USD", currency="USD")
    catalogue.price_book_entry_set(actor=admin_user, price_book=usd, product=widget, unit_price="10.00")
    today = dt.datetime.now(dt.UTC).date()
    accounts = [account_create(actor=rep, data={"name": f"One-off {i}"}) for i in range(5)]
    for i, account in enumerate(accounts):
        order_create_from_lines(actor=rep, account=account, currency="USD", price_book=usd,
                                order_date=today - dt.timedelta(days=30 * (i + 1)),
                                lines=[LineSpec(product=widget, quantity=str(i + 1))])
    subscription_create(actor=rep, account=accounts[0], product=plan, amount="50.00", currency="USD",
                        start_date=today - dt.timedelta(days=100))
    warehouse_build()
    # when
    with caplog.at_level(logging.WARNING, logger="rapport.insights.scoring"):
        result = customers_score()
    # then
    assert any("no purchase model" in r.getMessage() and "repeat purchase" in r.getMessage() for r in caplog.records)
    assert any("no purchase model" in reason for reason in result.notes["fallbacks"])
    scores = {s.account_id: s for s in CustomerScore.objects.all()}
    assert len(scores) == 5
    assert all(s.p_alive is None and s.expected_purchases is None for s in scores.values())
    historical = [scores[a.pk] for a in accounts[1:]]
    assert [(s.clv_kind, s.clv) for s in historical] == [("historical", 10 * (i + 2)) for i in range(4)]
    subscriber = scores[accounts[0].pk]
    assert subscriber.clv_kind == "subscription"
    # no subscriber ever left: 12 undiscounted-at-first monthly payments of 50 at 1 % a month
    assert float(subscriber.clv) == pytest.approx(sum(50 / 1.01**j for j in range(12)), abs=0.01)
    # too few customers to train a churn model either: the probability is left unknown, not made up
    assert all(s.churn_probability is None for s in scores.values())
    assert not ChurnAlert.objects.exists()


def test_scoring_without_a_warehouse_is_a_clear_error(db, wh_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="has not been built yet"):
        call_command("rapport_insights", "score")
    assert not ScoringRun.objects.exists()
