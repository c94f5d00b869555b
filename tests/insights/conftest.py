"""Operational data made through the services, for warehouse builds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from rapport.activities.services import interaction_record
from rapport.commerce import services_catalogue as catalogue
from rapport.commerce.services import LineSpec, order_create_from_lines
from rapport.parties.services import account_create


@pytest.fixture
def wh_path(tmp_path, settings):
    settings.RAPPORT_COMPANY_CURRENCY = "USD"
    settings.RAPPORT_WAREHOUSE_PATH = tmp_path / "warehouse.duckdb"
    return settings.RAPPORT_WAREHOUSE_PATH


@pytest.fixture
def sales(admin_user, rep, other_rep) -> dict[str, Any]:
    """Two accounts (DE gold, US iron), two products (one with a cost), EUR rates on two days,
    three orders (two in EUR, one in USD) and two interactions."""
    catalogue.tax_rate_set(actor=admin_user, category="standard", rate="0")
    widget = catalogue.product_create(
        actor=admin_user, sku="W-1", name="Widget", tax_category="standard", cost_price="4.00"
    )
    setup = catalogue.product_create(
        actor=admin_user, sku="S-1", name="Set-up", kind="service", tax_category="standard"
    )
    eur = catalogue.price_book_create(actor=admin_user, name="List EUR", currency="EUR")
    usd = catalogue.price_book_create(actor=admin_user, name="List USD", currency="USD")
    for book, w, s in ((eur, "10.00", "80.00"), (usd, "12.00", "90.00")):
        catalogue.price_book_entry_set(actor=admin_user, price_book=book, product=widget, unit_price=w)
        catalogue.price_book_entry_set(actor=admin_user, price_book=book, product=setup, unit_price=s)
    catalogue.exchange_rate_set(actor=admin_user, currency="EUR", date=dt.date(2025, 1, 1), rate="1.10")
    catalogue.exchange_rate_set(actor=admin_user, currency="EUR", date=dt.date(2025, 6, 1), rate="1.20")
    acme = account_create(
        actor=rep, data={"name": "Acme GmbH", "tier": "gold", "size": "1001+", "addresses": [{"country": "DE"}]}
    )
    bolt = account_create(
        actor=other_rep, data={"name": "Bolt Inc", "tier": "iron", "size": "11-50", "addresses": [{"country": "US"}]}
    )
    o1 = order_create_from_lines(
        actor=rep,
        account=acme,
        currency="EUR",
        price_book=eur,
        order_date=dt.date(2025, 3, 10),
        lines=[LineSpec(product=widget, quantity="10"), LineSpec(product=setup, quantity="1")],
    )  # 180 EUR × 1.10 = 198 USD; cost 40
    o2 = order_create_from_lines(
        actor=rep,
        account=acme,
        currency="EUR",
        price_book=eur,
        order_date=dt.date(2025, 7, 2),
        lines=[LineSpec(product=widget, quantity="5")],
    )  # 50 EUR × 1.20 = 60 USD; cost 20
    o3 = order_create_from_lines(
        actor=other_rep,
        account=bolt,
        currency="USD",
        price_book=usd,
        order_date=dt.date(2024, 11, 5),
        lines=[LineSpec(product=setup, quantity="2")],
    )  # 180 USD
    at = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)
    i1 = interaction_record(actor=rep, channel="email", account=acme, occurred_at=at, subject="Hello")
    i2 = interaction_record(actor=other_rep, channel="phone", account=bolt, occurred_at=at, duration_seconds=60)
    return {"acme": acme, "bolt": bolt, "orders": (o1, o2, o3), "interactions": (i1, i2), "widget": widget, "eur": eur}


D = Decimal


@pytest.fixture
def customer_base(admin_user, rep, other_rep) -> dict[str, Any]:
    """A small simulated customer base, made through the services, dated relative to today:

    - ``active`` (30 accounts of ``rep``): buying for a year at random (exponential gaps, mean 6
      weeks), the last order at most a month ago;
    - ``lapsed`` (30 accounts of ``other_rep``): four orders, the last one 5–8 months ago;
    - ``once`` (10 accounts of ``rep``): one order 2–10 months ago.
    Seeded, so every run sees the same base.
    """
    import random

    rng = random.Random(7)
    catalogue.tax_rate_set(actor=admin_user, category="standard", rate="0")
    widget = catalogue.product_create(
        actor=admin_user, sku="W-1", name="Widget", tax_category="standard", cost_price="6.00"
    )
    usd = catalogue.price_book_create(actor=admin_user, name="List USD", currency="USD")
    catalogue.price_book_entry_set(actor=admin_user, price_book=usd, product=widget, unit_price="10.00")
    today = dt.datetime.now(dt.UTC).date()

    def buy(actor, account, days_ago: int) -> None:
        order_create_from_lines(
            actor=actor, account=account, currency="USD", price_book=usd,
            order_date=today - dt.timedelta(days=days_ago),
            lines=[LineSpec(product=widget, quantity=str(rng.randint(2, 12)))],
        )

    groups: dict[str, list[Any]] = {"active": [], "lapsed": [], "once": []}
    for i in range(30):
        account = account_create(actor=rep, data={"name": f"Active {i}", "size": "51-250"})
        day = 365 - rng.randint(0, 30)
        while day > 30:
            buy(rep, account, day)
            day -= max(3, int(rng.expovariate(1 / 42)))
        buy(rep, account, rng.randint(1, 30))
        groups["active"].append(account)
    for i in range(30):
        account = account_create(actor=other_rep, data={"name": f"Lapsed {i}", "size": "51-250"})
        last = rng.randint(150, 240)
        for k in range(4):
            buy(other_rep, account, last + k * rng.randint(20, 50))
        groups["lapsed"].append(account)
    for i in range(10):
        account = account_create(actor=rep, data={"name": f"Once {i}", "size": "1-10"})
        buy(rep, account, rng.randint(60, 300))
        groups["once"].append(account)
    return groups
