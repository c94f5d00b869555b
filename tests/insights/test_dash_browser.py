"""The dashboards in a real browser: an analyst opens Insights from the menu, reads the overview,
and switches the survival dimension on the defection page (htmx swaps the body and the URL)."""

from __future__ import annotations

import os
import re

import pytest
from tests.browser.conftest import browser, login, page  # noqa: F401 - the browser fixtures live there
from tests.conftest import PASSWORD
from tests.insights.dash_data import small_base

from rapport.insights.warehouse import warehouse_build

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("RAPPORT_SCREENSHOTS")  # a directory: save what the test saw, for review


def test_analyst_reads_the_dashboards(live_server, transactional_db, page, admin_user, rep, other_rep,  # noqa: F811
                                      analyst, wh_path) -> None:
    page.set_default_timeout(60_000)  # the first dashboard request fits the models
    login(page, live_server.url, analyst.username, PASSWORD)
    small_base(admin_user, rep, other_rep)
    warehouse_build()
    page.reload()
    page.click("nav.mainnav >> text=Insights")
    page.wait_for_url(re.compile(r"/insights/$"))
    assert page.locator(".stat .num").first.inner_text() == "7"  # customers
    assert page.locator("svg[role=img] title").first.text_content() == "Customers per RFM segment"
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/insights-overview.png", full_page=True)
    page.click("nav.tabs >> text=Defection")
    page.wait_for_url(re.compile(r"/insights/defection/$"))
    assert "Survival by region" in page.inner_text("#dash-body")
    page.select_option("#km-dimension", "tier")
    page.wait_for_url(re.compile(r"dimension=tier"))
    page.locator("#dash-body h2", has_text="Survival by tier").wait_for()
    rows = page.locator("#km-groups tbody tr")
    assert [rows.nth(i).locator("th").inner_text() for i in range(rows.count())] == ["gold", "none"]
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/insights-defection.png", full_page=True)
        for name in ("rfm", "clv", "churn"):
            page.goto(f"{live_server.url}/insights/{name}/")
            page.screenshot(path=f"{SHOTS}/insights-{name}.png", full_page=True)
