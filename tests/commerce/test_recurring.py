"""Exchange rates, conversion to the company currency, subscriptions and MRR/ARR."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.test import override_settings

from rapport.commerce import services_catalogue as catalogue
from rapport.commerce.pricing import NoExchangeRate, convert
from rapport.commerce.selectors import recurring_revenue
from rapport.commerce.services import subscription_create, subscription_update
from rapport.core.errors import Conflict, ValidationFailed
from rapport.parties.services import account_create

pytestmark = pytest.mark.usefixtures("company_eur")


@pytest.fixture
def company_eur():
    with override_settings(RAPPORT_COMPANY_CURRENCY="EUR"):
        yield


@pytest.fixture
def rates(admin_user):
    catalogue.exchange_rate_set(actor=admin_user, currency="USD", date=dt.date(2026, 1, 1), rate="0.90")
    catalogue.exchange_rate_set(actor=admin_user, currency="USD", date=dt.date(2026, 6, 1), rate="0.80")
    catalogue.exchange_rate_set(actor=admin_user, currency="GBP", date=dt.date(2026, 6, 1), rate="1.20")


def test_conversion_uses_the_latest_rate_on_or_before_the_day(rates) -> None:
    assert convert(amount=D("100"), from_currency="USD", on=dt.date(2026, 5, 31)) == D("90.00")
    assert convert(amount=D("100"), from_currency="USD", on=dt.date(2026, 6, 1)) == D("80.00")
    assert convert(amount=D("100"), from_currency="USD", on=dt.date(2027, 1, 1)) == D("80.00")
    # USD → GBP through the company currency: 100 × 0.80 / 1.20
    assert convert(amount=D("100"), from_currency="USD", to_currency="GBP", on=dt.date(2026, 6, 2)) == D("66.67")
    assert convert(amount=D("100.005"), from_currency="EUR", on=dt.date(2026, 6, 2)) == D("100.01")


def test_conversion_without_a_rate_is_an_error_not_a_guess(rates) -> None:
    with pytest.raises(NoExchangeRate) as exc:
        convert(amount=D("1"), from_currency="USD", on=dt.date(2025, 12, 31))
    assert exc.value.slug == "no-exchange-rate"
    with pytest.raises(NoExchangeRate):
        convert(amount=D("1"), from_currency="JPY", on=dt.date(2026, 6, 2))


def test_setting_a_rate_again_replaces_it_and_the_company_currency_needs_none(admin_user, rates) -> None:
    catalogue.exchange_rate_set(actor=admin_user, currency="usd", date=dt.date(2026, 6, 1), rate="0.85")
    assert convert(amount=D("100"), from_currency="USD", on=dt.date(2026, 6, 1)) == D("85.00")
    with pytest.raises(ValidationFailed):
        catalogue.exchange_rate_set(actor=admin_user, currency="EUR", date=dt.date(2026, 6, 1), rate="1")
    with pytest.raises(ValidationFailed):
        catalogue.exchange_rate_set(actor=admin_user, currency="USD", date=dt.date(2026, 6, 1), rate="0")


def test_mrr_and_arr_per_account_in_the_company_currency(shop, rates, rep, account) -> None:
    other = account_create(actor=rep, data={"name": "Second GmbH"})
    plan = shop["plan"]
    start = dt.date(2026, 1, 1)
    subscription_create(actor=rep, account=account, product=plan, amount="100", currency="EUR", start_date=start)
    subscription_create(
        actor=rep,
        account=account,
        product=plan,
        amount="1200",
        currency="USD",
        start_date=start,
        billing_period="yearly",
    )
    subscription_create(
        actor=rep,
        account=other,
        product=plan,
        amount="30",
        currency="GBP",
        start_date=start,
        billing_period="quarterly",
    )
    ended = subscription_create(
        actor=rep,
        account=other,
        product=plan,
        amount="999",
        currency="EUR",
        start_date=start,
        end_date=dt.date(2026, 3, 31),
    )
    rows = recurring_revenue(actor=rep, on=dt.date(2026, 6, 15))
    # account: 100 + 1200 / 12 × 0.80 = 180.00; other: 30 / 3 × 1.20 = 12.00; the ended one is gone.
    assert [(r.account_name, r.mrr, r.arr, r.subscriptions) for r in rows] == [
        ("Buyer Ltd", D("180.00"), D("2160.00"), 2),
        ("Second GmbH", D("12.00"), D("144.00"), 1),
    ]
    assert ended.renewal_date == dt.date(2026, 3, 31)
    assert rows[0].currency == "EUR"


def test_cancelled_subscriptions_stop_counting_and_stale_updates_conflict(shop, rep, account) -> None:
    sub = subscription_create(
        actor=rep, account=account, product=shop["plan"], amount="50", currency="EUR", start_date=dt.date(2026, 1, 1)
    )
    subscription_update(actor=rep, subscription=sub, data={"status": "cancelled"}, expected_version=1)
    assert recurring_revenue(actor=rep, on=dt.date(2026, 6, 1)) == []
    with pytest.raises(Conflict):
        subscription_update(actor=rep, subscription=sub, data={"status": "active"}, expected_version=1)


def test_only_subscription_products_and_valid_dates(shop, rep, account) -> None:
    with pytest.raises(ValidationFailed):
        subscription_create(
            actor=rep,
            account=account,
            product=shop["widget"],
            amount="5",
            currency="EUR",
            start_date=dt.date(2026, 1, 1),
        )
    with pytest.raises(ValidationFailed):
        subscription_create(
            actor=rep,
            account=account,
            product=shop["plan"],
            amount="5",
            currency="EUR",
            start_date=dt.date(2026, 2, 1),
            end_date=dt.date(2026, 1, 1),
        )


def test_a_currency_without_a_rate_makes_mrr_refuse(shop, rep, account) -> None:
    subscription_create(
        actor=rep, account=account, product=shop["plan"], amount="5", currency="CHF", start_date=dt.date(2026, 1, 1)
    )
    with pytest.raises(NoExchangeRate):
        recurring_revenue(actor=rep, on=dt.date(2026, 6, 1))
