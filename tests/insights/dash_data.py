"""Known operational data for the dashboard tests, made through the real services.

``small_base``: seven customers whose lifetimes are worked out by hand in the tests (see
``test_dash_figures``). The last order in the data is 2025-06-30 (the dashboards' "as of").
Every order line is ``quantity × 10.00`` USD (the company currency), so amounts are exact.

``repeat_base``: forty customers with a seeded, realistic repeat-buying pattern (some keep buying,
some stop), enough for the CLV models and the churn model to fit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from rapport.commerce import services_catalogue as catalogue
from rapport.commerce.services import LineSpec, order_create_from_lines
from rapport.core.models import User
from rapport.parties.services import account_create

D = dt.date


def catalogue_usd(admin: User) -> dict[str, Any]:
    catalogue.tax_rate_set(actor=admin, category="standard", rate="0")
    widget = catalogue.product_create(actor=admin, sku="W-1", name="Widget", tax_category="standard")
    book = catalogue.price_book_create(actor=admin, name="List USD", currency="USD")
    catalogue.price_book_entry_set(actor=admin, price_book=book, product=widget, unit_price="10.00")
    return {"widget": widget, "book": book}


def buy(actor: User, account: Any, cat: dict[str, Any], day: dt.date, quantity: int = 1) -> None:
    order_create_from_lines(actor=actor, account=account, currency="USD", price_book=cat["book"], order_date=day,
                            lines=[LineSpec(product=cat["widget"], quantity=str(quantity))])


def account(actor: User, name: str, country: str, tier: str = "") -> Any:
    data: dict[str, Any] = {"name": name, "addresses": [{"country": country}]}
    if tier:
        data["tier"] = tier
    return account_create(actor=actor, data=data)


def small_base(admin: User, rep: User, other_rep: User) -> dict[str, Any]:
    """A, B, F (DE, rep), C (US, rep, named like a script), D, E (US, rep), H (DE, other_rep: monthly
    buyer who stopped after March 2025, the one declining account), and Idle (no orders).

    Lifetimes (days from first order; defected = no order in the last 180 days before 2025-06-30):
    C 0 defected · A 60 defected · F 180 censored · E 305 defected · D 394 censored ·
    H 455 censored · B 546 censored.
    """
    cat = catalogue_usd(admin)
    a = account(rep, "Alpha AG", "DE", "gold")
    b = account(rep, "Beta GmbH", "DE", "gold")
    c = account(rep, "<script>alert(1)</script>", "US")
    d = account(rep, "Delta Inc", "US")
    e = account(rep, "Echo LLC", "US")
    f = account(rep, "Foxtrot KG", "DE")
    h = account(other_rep, "Hotel SA", "DE")
    idle = account(rep, "Idle Ltd", "DE")
    for who, days, qty in (
        (a, (D(2024, 1, 1), D(2024, 3, 1)), 2),
        (b, (D(2024, 1, 1), D(2024, 7, 1), D(2025, 6, 1)), 3),
        (c, (D(2024, 2, 1),), 50),
        (d, (D(2024, 6, 1), D(2025, 6, 30)), 1),
        (e, (D(2024, 1, 1), D(2024, 11, 1)), 4),
        (f, (D(2025, 1, 1), D(2025, 6, 15)), 1),
    ):
        for day in days:
            buy(rep, who, cat, day, qty)
    for month in range(12):  # 2024-04 .. 2025-03, 100 USD each
        buy(other_rep, h, cat, D(2024 + (3 + month) // 12, (3 + month) % 12 + 1, 1), 10)
    return {"A": a, "B": b, "C": c, "D": d, "E": e, "F": f, "H": h, "idle": idle, "cat": cat}


def repeat_base(admin: User, rep: User, other_rep: User, n: int = 40, seed: int = 7) -> dict[str, Any]:
    """``n`` customers (half rep's, half other_rep's) from 2023-01 to 2025-06-30: each starts in a
    random month, buys every few weeks, and a seeded share stops at a random point."""
    rng = np.random.default_rng(seed)
    cat = catalogue_usd(admin)
    end = D(2025, 6, 30)
    accounts = []
    for i in range(n):
        owner = rep if i % 2 == 0 else other_rep
        acct = account(owner, f"Customer {i:02d}", ("DE", "US", "FR", "CA")[i % 4], ("gold", "iron")[i % 3 == 0])
        accounts.append(acct)
        day = D(2023, 1, 1) + dt.timedelta(days=int(rng.integers(0, 600)))
        stops = day + dt.timedelta(days=int(rng.integers(30, 900))) if rng.random() < 0.6 else end
        gap = int(rng.integers(15, 70))
        while day <= min(stops, end):
            buy(owner, acct, cat, day, int(rng.integers(1, 6)))
            day += dt.timedelta(days=gap + int(rng.integers(0, 20)))
    buy(rep, accounts[0], cat, end, 1)  # the data end on 2025-06-30 whatever the draws
    return {"accounts": accounts, "cat": cat}
