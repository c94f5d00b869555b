"""README screenshots of the analytical pages: only when RAPPORT_SCREENSHOTS=1 (writes
docs/screenshots/insights-*.png), on a seeded base of a few hundred customers (``_customers``)."""

from __future__ import annotations

import datetime as dt
import os
import random
from pathlib import Path

import pytest
from tests.browser.conftest import browser, login  # noqa: F401 - the browser fixture lives there
from tests.conftest import PASSWORD
from tests.insights.dash_data import account, buy, catalogue_usd

from rapport.commerce import services_catalogue as catalogue
from rapport.commerce.services import subscription_create, subscription_update
from rapport.insights.scoring import customers_score
from rapport.insights.warehouse import warehouse_build
from rapport.marketing.models import Campaign, CampaignMember
from rapport.service.models import Case

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(os.environ.get("RAPPORT_SCREENSHOTS") != "1", reason="set RAPPORT_SCREENSHOTS=1 to write them"),
]
OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


FIRST = ("Northwind", "Blue Harbor", "Alpine", "Granite", "Silverline", "Redwood", "Lakeside", "Summit", "Ironclad",
         "Brightwater", "Oakmont", "Copperfield", "Westgate", "Harbor Point", "Evergreen")
SECOND = ("Trading", "Logistics", "Foods", "Engineering", "Retail", "Clinics", "Software", "Textiles", "Motors",
          "Pharma")
COUNTRIES = ("DE", "FR", "GB", "US", "CA", "NL", "SE", "ES")
REASONS = (  # the unhappy leave for the first two as well
    ("service", "Support took days to answer, every time."), ("competitor", "Moved to a supplier with a bundle."),
    ("price", "The price went up and our budget did not."), ("no_need", ""), ("budget", "Budget frozen this year."),
)


def _customers(admin, owners, n: int = 260) -> None:
    """``n`` customers over two years: unhappy ones (two in five) complain, rate service low, open
    few mailings and mostly stop buying; a few happy ones stop too. Through the services (orders)
    and the models (cases, campaign members) — the data the analytics read."""
    rng = random.Random(11)
    cat = catalogue_usd(admin)
    now = dt.datetime.now(dt.UTC)
    today = now.date()
    plan = catalogue.product_create(actor=admin, sku="PLAN", name="Service plan", kind="subscription",
                                    tax_category="standard")
    campaigns = [Campaign.objects.create(name=name, channel="email", status="completed", owner=owners[0])
                 for name in ("Spring offer", "Product launch", "Autumn newsletter")]
    for i in range(n):
        owner = owners[i % len(owners)]
        tier = rng.choice(["gold", "iron", "iron", ""])
        acct = account(owner, f"{FIRST[i % len(FIRST)]} {SECOND[(i // len(FIRST)) % len(SECOND)]}"
                       f"{'' if i < len(FIRST) * len(SECOND) else f' {i}'}", rng.choice(COUNTRIES), tier)
        unhappy = rng.random() < 0.4
        stops = rng.random() < (0.75 if unhappy else 0.15)
        start = rng.randint(200, 730)
        end = rng.randint(60, min(330, start - 60)) if stops else 0
        gap = rng.uniform(15, 50)
        day = start
        while day > end:
            buy(owner, acct, cat, today - dt.timedelta(days=day), rng.randint(1, 8))
            day -= max(3, int(rng.expovariate(1 / gap)))
        for _ in range(rng.choice([1, 2, 3]) if unhappy else rng.choice([0, 0, 1])):
            opened = now - dt.timedelta(days=rng.randint(min(max(end, 20), start), start))
            Case.objects.create(
                account=acct, subject="Delivery late" if unhappy else "Question", owner=owner,
                kind=rng.choice(["complaint", "complaint", "problem"] if unhappy else ["question", "request"]),
                channel=rng.choice(["email", "phone", "chat", "portal"]), status="resolved", opened_at=opened,
                resolved_at=opened + dt.timedelta(hours=rng.randint(2, 120)),
                satisfaction=rng.choice([1, 2, 2, 3] if unhappy else [4, 4, 5]),
            )  # fmt: skip
        if rng.random() < 0.4:
            sub = subscription_create(actor=owner, account=acct, product=plan, amount="49", currency="USD",
                                      start_date=today - dt.timedelta(days=start))
            if stops:
                reason, words = rng.choice(REASONS) if unhappy else rng.choice(REASONS[2:])
                subscription_update(actor=owner, subscription=sub, expected_version=sub.version, data={
                    "status": "cancelled", "cancelled_on": today - dt.timedelta(days=end),
                    "cancellation_reason": reason, "cancellation_comment": words})
        for campaign, days_ago in zip(campaigns, (400, 250, 140), strict=True):
            if days_ago > start:
                continue
            sent = now - dt.timedelta(days=days_ago)
            CampaignMember.objects.create(
                campaign=campaign, account=acct, sent_at=sent,
                opened_at=sent + dt.timedelta(hours=3) if rng.random() < (0.15 if unhappy else 0.55) else None,
            )  # fmt: skip


def test_insights_screenshots(live_server, transactional_db, browser, admin_user, rep, other_rep,  # noqa: F811
                              analyst, wh_path) -> None:
    _customers(admin_user, (rep, other_rep))
    warehouse_build()
    customers_score()
    OUT.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1360, "height": 900}, device_scale_factor=1, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(60_000)
    login(page, live_server.url, analyst.username, PASSWORD)
    for name, path in (("overview", ""), ("rfm", "rfm/"), ("clv", "clv/"), ("churn", "churn/"),
                       ("defection", "defection/")):
        page.goto(f"{live_server.url}/insights/{path}")
        page.locator("#dash-body").wait_for()
        page.screenshot(path=str(OUT / f"insights-{name}.png"), full_page=True)
    page.goto(f"{live_server.url}/insights/olap/?m=cases&m=complaints&m=avg_satisfaction&d=customer.tier"
              "&d=channel.channel&chart=bar")
    page.locator("#olap-results table").first.wait_for()
    page.screenshot(path=str(OUT / "insights-olap.png"), full_page=True)
    context.close()
