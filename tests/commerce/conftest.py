"""A small catalogue built through the commerce services: tax rates, products, EUR and USD price
books, and an account owned by the rep of team A."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from rapport.commerce import services_catalogue as catalogue
from rapport.commerce.services import LineSpec, order_create_from_lines
from rapport.parties.services import account_create

D = Decimal
TODAY = dt.date(2026, 6, 15)


@pytest.fixture
def shop(admin_user) -> dict[str, Any]:
    catalogue.tax_rate_set(actor=admin_user, category="standard", rate="21")
    catalogue.tax_rate_set(actor=admin_user, category="standard", country="DE", rate="19")
    catalogue.tax_rate_set(actor=admin_user, category="reduced", rate="9")
    widget = catalogue.product_create(actor=admin_user, sku="W-1", name="Widget", tax_category="standard")
    gadget = catalogue.product_create(actor=admin_user, sku="G-1", name="Gadget", tax_category="reduced")
    setup = catalogue.product_create(
        actor=admin_user, sku="S-1", name="Set-up", kind="service", unit="h", tax_category="standard"
    )
    plan = catalogue.product_create(actor=admin_user, sku="P-1", name="Plan", kind="subscription", unit="month")
    eur = catalogue.price_book_create(actor=admin_user, name="List EUR", currency="EUR")
    usd = catalogue.price_book_create(actor=admin_user, name="List USD", currency="USD")
    for product, price in ((widget, "10.00"), (gadget, "2.50"), (setup, "80.00"), (plan, "49.00")):
        catalogue.price_book_entry_set(actor=admin_user, price_book=eur, product=product, unit_price=price)
    catalogue.price_book_entry_set(actor=admin_user, price_book=usd, product=widget, unit_price="11.00")
    return {"widget": widget, "gadget": gadget, "setup": setup, "plan": plan, "eur": eur, "usd": usd}


@pytest.fixture
def account(rep):
    return account_create(actor=rep, data={"name": "Buyer Ltd", "tier": "gold"})


@pytest.fixture
def make_order(shop, account, rep):
    def _make(actor=None, lines=None, **kwargs: Any):
        lines = lines or [LineSpec(product=shop["widget"], quantity="10"), LineSpec(product=shop["setup"], quantity=2)]
        kwargs.setdefault("currency", "EUR")
        kwargs.setdefault("order_date", TODAY)
        return order_create_from_lines(
            actor=actor or rep, account=kwargs.pop("account", account), lines=lines, **kwargs
        )

    return _make
