"""The kanban board in a real browser: drag a card to another column (the API move is made and
the history written), move one with the keyboard, drop into Lost (the reason is asked), and a
stale card (changed behind the page's back) goes back with a clear message."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.browser.conftest import browser, login, page  # noqa: F401 - the browser fixtures live there
from tests.conftest import PASSWORD

from rapport.commerce import services_catalogue as catalogue
from rapport.parties.services import account_create
from rapport.sales.models import Opportunity, Pipeline, Stage, StageChange
from rapport.sales.services import opportunity_create, opportunity_move

pytestmark = pytest.mark.browser


@pytest.fixture
def board_data(transactional_db, rep, admin_user, settings):
    # the default pipeline (migration data) is gone with the transactional flush: make one
    Pipeline.objects.all().delete()
    pipeline = Pipeline.objects.create(name="Sales", is_default=True)
    stages = {key: Stage.objects.create(pipeline=pipeline, name=name, position=i, probability=p, kind=kind)
              for i, (key, name, p, kind) in enumerate([("new", "New", 10, "open"), ("meeting", "Meeting", 40, "open"),
                                                       ("won", "Won", 100, "won"), ("lost", "Lost", 0, "lost")])}
    account = account_create(actor=rep, data={"name": "Acme", "currency": "EUR"})
    # Column figures are in the company currency: the board's script converts a moved card too.
    settings.RAPPORT_COMPANY_CURRENCY = "USD"
    catalogue.exchange_rate_set(actor=admin_user, currency="EUR", date=dt.date(2020, 1, 1), rate="1.5")
    deals = [opportunity_create(actor=rep, account=account, name=f"Deal {n}", amount="1000", stage=stages["new"])
             for n in ("one", "two", "three")]
    return stages, deals


def _column(stage: Stage) -> str:
    return f'section.board-col[data-stage-id="{stage.pk}"]'


def test_drag_keyboard_lost_reason_and_stale(live_server, page, rep, board_data) -> None:  # noqa: F811
    stages, (one, two, three) = board_data
    login(page, live_server.url, rep.username, PASSWORD)
    page.goto(f"{live_server.url}/board/")
    assert page.locator(f"{_column(stages['new'])} .deal-card").count() == 3

    # drag and drop: the card lands in Meeting, the database agrees, one history row is added
    page.drag_and_drop(f"#card-{one.pk}", f"{_column(stages['meeting'])} .board-cards")
    page.locator("#board-message.success").wait_for()
    assert "moved to Meeting" in page.inner_text("#board-message")
    stored = Opportunity.objects.get(pk=one.pk)
    assert (stored.stage_id, stored.version, stored.probability) == (stages["meeting"].pk, 2, 40)
    assert StageChange.objects.filter(opportunity=one, from_stage=stages["new"],
                                      to_stage=stages["meeting"]).count() == 1
    assert page.locator(f"{_column(stages['meeting'])} #card-{one.pk}").count() == 1
    assert page.inner_text(f"{_column(stages['meeting'])} .col-count") == "1"
    assert page.inner_text(f"{_column(stages['new'])} .col-count") == "2"
    assert page.inner_text(f"{_column(stages['meeting'])} .col-weighted") == "600"  # 1,000 EUR × 40 % × 1.5

    # the keyboard way: choose the stage in the card's "Move to…" select and press Enter on Move
    page.focus(f"#move-{two.pk}")
    page.select_option(f"#move-{two.pk}", str(stages["meeting"].pk))
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.locator(f"{_column(stages['meeting'])} #card-{two.pk}").wait_for()
    page.wait_for_function(f"document.querySelector('#card-{two.pk}').dataset.version === '2'")
    assert Opportunity.objects.get(pk=two.pk).stage_id == stages["meeting"].pk
    assert page.url == f"{live_server.url}/board/"  # no page load: the API did it
    assert page.evaluate("document.activeElement.id") == f"move-{two.pk}"  # focus follows the card

    # into Lost: the reason is asked for, and recorded
    page.drag_and_drop(f"#card-{one.pk}", f"{_column(stages['lost'])} .board-cards")
    page.locator("#reason-dialog[open]").wait_for()
    page.fill("#reason-input", "Too expensive")
    page.click("#reason-dialog button[value=ok]")
    page.locator(f"{_column(stages['lost'])} #card-{one.pk}").wait_for()
    page.wait_for_function(f"document.querySelector('#card-{one.pk}').dataset.version === '3'")
    lost = Opportunity.objects.get(pk=one.pk)
    assert (lost.status, lost.close_reason) == ("lost", "Too expensive")

    # stale: someone else moves the deal after the page was drawn; the drop is refused (409)
    behind = Opportunity.objects.get(pk=three.pk)
    opportunity_move(actor=rep, opportunity=behind, stage=stages["meeting"], expected_version=1)
    page.drag_and_drop(f"#card-{three.pk}", f"{_column(stages['won'])} .board-cards")
    page.locator("#reason-dialog[open]").wait_for()  # a won reason is optional: just confirm
    page.click("#reason-dialog button[value=ok]")
    page.locator("#board-message.error").wait_for()
    assert "changed since version 1" in page.inner_text("#board-message")
    assert "back where it was" in page.inner_text("#board-message")
    assert page.locator(f"{_column(stages['new'])} #card-{three.pk}").count() == 1
    assert page.locator(f"{_column(stages['won'])} #card-{three.pk}").count() == 0
    after = Opportunity.objects.get(pk=three.pk)
    assert (after.stage_id, after.status, after.version) == (stages["meeting"].pk, "open", 2)
    assert not StageChange.objects.filter(opportunity=three, to_stage=stages["won"]).exists()
