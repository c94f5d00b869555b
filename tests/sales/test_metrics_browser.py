"""The metrics page in a real browser: the manager opens it from the nav, sees the tiles and charts,
narrows it to one rep (htmx swaps the results, the URL follows) and downloads the CSV."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.browser.conftest import browser, login, page  # noqa: F401 - the browser fixtures live there
from tests.conftest import PASSWORD

from rapport.parties.services import account_create
from rapport.sales.models import Pipeline, Stage
from rapport.sales.services import opportunity_create, opportunity_move

pytestmark = pytest.mark.browser


def test_manager_reads_and_narrows_the_metrics(live_server, transactional_db, page, rep, manager) -> None:  # noqa: F811
    # The default pipeline (migration data) is gone with the transactional flush: make one.
    pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.create(name="Sales",
                                                                                            is_default=True)
    meeting = Stage.objects.create(pipeline=pipeline, name="Meeting (test)", position=90, probability=30)
    won = Stage.objects.create(pipeline=pipeline, name="Won (test)", position=91, probability=100, kind="won",
                               forecast_category="closed")
    customer = account_create(actor=rep, data={"name": "Prospect Ltd"})
    deal = opportunity_create(actor=rep, account=customer, name="Deal", amount="1234", currency="USD", stage=meeting)
    opportunity_move(actor=rep, opportunity=deal, stage=won, expected_version=deal.version)

    login(page, live_server.url, manager.username, PASSWORD)
    page.click("nav >> text=Sales metrics")
    page.wait_for_url(re.compile(r"/sales/metrics/$"))
    assert "1,234.00" in page.inner_text("#kpi-won_amount")
    assert page.locator("#metrics-results svg").count() >= 5  # four trends and the funnel
    page.select_option("#m-rep", str(manager.pk))
    page.wait_for_url(re.compile(rf"rep={manager.pk}"))
    page.locator("#kpi-won_amount", has_text="0.00").wait_for()
    assert "1,234.00" not in page.inner_text("#kpi-won_amount")
    with page.expect_download() as download:
        page.click("text=Export CSV")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("period_start,period_end,rep_id,rep") and "Total" in text
