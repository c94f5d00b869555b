"""The opportunity pages: board, list (and CSV), detail, create/edit, close, log, products; as
anonymous, as another team's rep, as the owner and the manager. User content is escaped."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.conftest import client_for

from rapport.activities.models import Interaction
from rapport.commerce import services_catalogue as catalogue
from rapport.parties.services import account_create
from rapport.sales.models import Opportunity, OpportunityLine, StageChange
from rapport.sales.services import opportunity_create, opportunity_move

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"


@pytest.fixture
def deal(rep, customer):
    return opportunity_create(actor=rep, account=customer, name=f"Widgets {XSS}", amount="1000",
                              expected_close_date=dt.date(2026, 1, 15), next_step="Call the CFO")


@pytest.fixture
def hidden(other_rep):
    account = account_create(actor=other_rep, data={"name": "Hidden Corp", "currency": "EUR"})
    return opportunity_create(actor=other_rep, account=account, name="Hidden deal", amount="777")


def _urls(deal) -> list[str]:
    return ["/board/", f"/pipelines/{deal.pipeline_id}/board/", f"/board/stages/{deal.stage_id}/cards/",
            "/opportunities/", "/opportunities/export.csv", "/opportunities/new/", f"/opportunities/{deal.pk}/",
            f"/opportunities/{deal.pk}/edit/", "/pipelines/", f"/pipelines/{deal.pipeline_id}/"]


def test_anonymous_is_sent_to_login(deal, stages) -> None:
    for url in _urls(deal):
        response = client_for(None).get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
    for action in ("move", "close", "log"):
        url = f"/opportunities/{deal.pk}/{action}/"
        assert client_for(None).post(url, {"stage_id": stages["lost"].pk, "close_reason": "x"}).status_code == 302
    assert Opportunity.objects.get(pk=deal.pk).stage == stages["generated"]


def test_other_teams_rep_gets_404_and_does_not_see_the_deal(deal, other_rep, stages) -> None:
    client = client_for(other_rep)
    for url in (f"/opportunities/{deal.pk}/", f"/opportunities/{deal.pk}/edit/"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/opportunities/{deal.pk}/edit/", {"name": "Taken", "version": 1}).status_code == 404
    assert client.post(f"/opportunities/{deal.pk}/move/", {"stage_id": stages["quote"].pk,
                                                           "version": 1}).status_code == 404
    assert client.post(f"/opportunities/{deal.pk}/close/", {"stage_id": stages["lost"].pk, "close_reason": "x",
                                                            "version": 1}).status_code == 404
    stored = Opportunity.objects.get(pk=deal.pk)
    assert (stored.name, stored.stage_id, stored.version) == (deal.name, stages["generated"].pk, 1)
    assert b"Widgets" not in client.get("/board/").content
    assert b"Widgets" not in client.get("/opportunities/").content
    assert b"Widgets" not in client.get("/opportunities/export.csv").getvalue()


def test_owner_and_manager_see_it_escaped(deal, rep, manager) -> None:
    for user in (rep, manager):
        client = client_for(user)
        for url in (f"/opportunities/{deal.pk}/", "/board/", "/opportunities/", f"/opportunities/{deal.pk}/edit/"):
            page = client.get(url)
            assert page.status_code == 200, (user, url)
            assert XSS.encode() not in page.content, url
            assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in page.content, url


def test_board_columns_show_figures_cards_and_filters(deal, rep, customer, stages, hidden, settings) -> None:
    settings.RAPPORT_COMPANY_CURRENCY = "EUR"  # the deals' own: the figures are their plain sums
    other = opportunity_create(actor=rep, account=customer, name="Gadgets", amount="500", stage=stages["quote"],
                               expected_close_date=dt.date(2030, 6, 1))
    page = client_for(rep).get("/board/").content.decode()
    assert page.count('class="board-col ') == 10  # every active stage of the default pipeline
    assert f'id="card-{deal.pk}"' in page and f'id="card-{other.pk}"' in page and "Hidden deal" not in page
    assert f'data-version="{deal.version}"' in page
    assert "Call the CFO" in page and "overdue" in page  # closing 2026-01-15 is in the past
    quote_col = page[page.index(f'data-stage-id="{stages["quote"].pk}"'):]
    assert '<span class="col-count" data-value="1">1</span>' in quote_col[:2000]
    # 500 × 70 %: the weighted figure (PostgreSQL keeps the scale, SQLite does not)
    assert re.search(r'class="col-weighted" data-value="350(\.0+)?">350<', quote_col[:2000])
    # filters narrow the cards and the figures alike
    mine = client_for(rep).get("/board/?q=Gadg").content.decode()
    assert f'id="card-{other.pk}"' in mine and f'id="card-{deal.pk}"' not in mine
    late = client_for(rep).get("/board/?close_from=2030-01-01&close_to=2030-12-31").content.decode()
    assert f'id="card-{other.pk}"' in late and f'id="card-{deal.pk}"' not in late
    generated = late[late.index(f'data-stage-id="{stages["generated"].pk}"'):]
    assert '<span class="col-count" data-value="0">0</span>' in generated[:2000]
    bad = client_for(rep).get("/board/?close_from=yesterday")
    assert bad.status_code == 200 and b"must be a date" in bad.content


def test_board_weighted_figure_is_exact_per_deal_probability(rep, customer, stages, settings) -> None:
    """Σ amount × probability / 100 over the column, to the cent, whatever each deal's own
    probability (SQLite once divided integers and dropped the fraction: 333 × 70 / 100 = 233)."""
    settings.RAPPORT_COMPANY_CURRENCY = "EUR"  # the deals' own: no conversion
    odd = opportunity_create(actor=rep, account=customer, name="Odd", amount="333", stage=stages["quote"])
    small = opportunity_create(actor=rep, account=customer, name="Small", amount="1.50", stage=stages["quote"])
    Opportunity.objects.filter(pk=small.pk).update(probability=10)  # a deal's probability may differ from its stage's
    assert (odd.probability, Opportunity.objects.get(pk=small.pk).probability) == (70, 10)
    with CaptureQueriesContext(connection) as queries:
        page = client_for(rep).get("/board/").content.decode()
    # one page of cards is read for the one column with deals; the empty ones need no query
    card_reads = [q["sql"] for q in queries.captured_queries
                  if q["sql"].startswith('SELECT "sales_opportunity"."id"') and "ORDER BY" in q["sql"]]
    assert len(card_reads) == 1 and f'"stage_id" = {stages["quote"].pk}' in card_reads[0], card_reads
    assert page.count('class="deal-card') == 2 and page.count('class="board-col ') == 10
    quote_col = page[page.index(f'data-stage-id="{stages["quote"].pk}"'):][:2000]
    assert '<span class="col-count" data-value="2">2</span>' in quote_col
    assert re.search(r'class="col-total" data-value="334\.50*">335<', quote_col), quote_col
    # 333 × 70 % + 1.50 × 10 % = 233.10 + 0.15
    assert re.search(r'class="col-weighted" data-value="233\.250*">233<', quote_col), quote_col


def test_board_figures_are_in_the_company_currency_and_name_what_lacks_a_rate(rep, admin_user, stages,
                                                                              settings) -> None:
    settings.RAPPORT_COMPANY_CURRENCY = "USD"
    catalogue.exchange_rate_set(actor=admin_user, currency="EUR", date=dt.date(2020, 1, 1), rate="1.2")
    buyer = account_create(actor=rep, data={"name": "Buyer", "currency": "EUR"})
    for amount, currency in (("100", "EUR"), ("50", "USD"), ("999", "JPY")):
        opportunity_create(actor=rep, account=buyer, name=f"In {currency}", amount=amount, currency=currency,
                           stage=stages["quote"])
    page = client_for(rep).get("/board/").content.decode()
    col = page[page.index(f'data-stage-id="{stages["quote"].pk}"'):][:3000]
    assert '<span class="col-count" data-value="3">3</span>' in col  # every deal is counted
    # 100 EUR × 1.2 + 50 USD; the yen deal has no rate and is named, not guessed
    assert re.search(r'class="col-total" data-value="170\.0*">170</span> USD', col), col
    assert re.search(r'class="col-weighted" data-value="119\.0*">119<', col), col  # 70 %
    assert "excludes 1 deal in JPY: no exchange rate" in col
    assert 'data-rate="1.2' in page and 'data-rate="1"' in page and 'data-rate=""' in page  # the board's JS uses them
    api = client_for(rep).get(f"/api/v1/pipelines/{stages['quote'].pipeline_id}/board").json()
    quote = next(c for c in api["columns"] if c["stage"]["id"] == stages["quote"].pk)
    assert (Decimal(quote["total"]), quote["currency"], quote["unconverted"]) == (Decimal("170"), "USD", {"JPY": 1})


def test_board_reads_the_exchange_rates_once(rep, admin_user, customer, stages, settings) -> None:
    settings.RAPPORT_COMPANY_CURRENCY = "USD"
    catalogue.exchange_rate_set(actor=admin_user, currency="EUR", date=dt.date(2020, 1, 1), rate="1.2")
    for stage in ("quote", "meeting", "contacted"):
        opportunity_create(actor=rep, account=customer, name=stage, amount="10", currency="EUR", stage=stages[stage])
    with CaptureQueriesContext(connection) as queries:
        page = client_for(rep).get("/board/").content.decode()
    assert page.count('data-rate="1.2') == 3  # three columns of cards, each converted
    rate_reads = [q["sql"] for q in queries.captured_queries if "commerce_exchangerate" in q["sql"]]
    assert len(rate_reads) == 1, rate_reads


def test_board_owner_filter_me_and_team(deal, rep, teammate, manager, customer) -> None:
    theirs = opportunity_create(actor=teammate, account=customer, name="Teammate deal", owner=teammate)
    page = client_for(manager).get("/board/?owner=me").content.decode()
    assert f'id="card-{deal.pk}"' not in page and f'id="card-{theirs.pk}"' not in page
    team = client_for(manager).get("/board/?owner=team").content.decode()
    assert f'id="card-{deal.pk}"' in team and f'id="card-{theirs.pk}"' in team
    mine = client_for(rep).get("/board/?owner=me").content.decode()
    assert f'id="card-{deal.pk}"' in mine and f'id="card-{theirs.pk}"' not in mine


def test_board_columns_load_more_through_the_cursor(rep, customer, stages) -> None:
    made = [opportunity_create(actor=rep, account=customer, name=f"Deal {i:02d}") for i in range(23)]
    page = client_for(rep).get("/board/").content.decode()
    assert page.count('class="deal-card') == 20 and "Load more" in page
    start = page.index('hx-get="/board/stages/')
    url = page[start + len('hx-get="'):page.index('"', start + len('hx-get="'))].replace("&amp;", "&")
    more = client_for(rep).get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in more and more.count('class="deal-card') == 3 and "Load more" not in more
    shown = {int(x.split('"')[0]) for x in (page + more).split('id="card-')[1:]}
    assert shown == {d.pk for d in made}
    assert client_for(rep).get(f"/board/stages/{stages['generated'].pk}/cards/?cursor=junk").status_code == 422


def test_pipeline_switcher(rep, manager, deal) -> None:
    from rapport.sales.services_deals import pipeline_create

    second = pipeline_create(actor=manager, data={"name": "Renewals"}, stages=[{"name": "Due", "probability": 50}])
    page = client_for(rep).get(f"/board/?pipeline={second.pk}").content.decode()
    assert "Board: Renewals" in page and page.count('class="board-col ') == 1 and "Widgets" not in page
    assert client_for(rep).get("/pipelines/999999/board/").status_code == 404


def test_move_form_without_javascript_and_its_stale_version(deal, rep, stages) -> None:
    client = client_for(rep)
    moved = client.post(f"/opportunities/{deal.pk}/move/", {"stage_id": stages["meeting"].pk, "version": 1,
                                                            "next": "/board/"})
    assert moved.status_code == 302 and moved["Location"] == "/board/"
    assert Opportunity.objects.get(pk=deal.pk).stage == stages["meeting"]
    stale = client.post(f"/opportunities/{deal.pk}/move/", {"stage_id": stages["quote"].pk, "version": 1},
                        follow=True)
    assert b"changed since version 1" in stale.content
    assert Opportunity.objects.get(pk=deal.pk).stage == stages["meeting"]
    lost = client.post(f"/opportunities/{deal.pk}/move/", {"stage_id": stages["lost"].pk, "version": 2},
                       follow=True)
    assert b"Say why the deal was lost" in lost.content
    assert StageChange.objects.filter(opportunity=deal).count() == 2


def test_list_filters_sorts_totals_and_exports(deal, rep, customer, stages, hidden) -> None:
    big = opportunity_create(actor=rep, account=customer, name="=HYPERLINK(evil)", amount="9000",
                             stage=stages["quote"], expected_close_date=dt.date(2027, 3, 1))
    client = client_for(rep)
    page = client.get("/opportunities/").content.decode()
    assert "Hidden deal" not in page and "2 opportunities" in page
    assert 'id="total-amount">10,000.00<' in page and 'id="total-weighted">6,350.00<' in page
    by_amount = client.get("/opportunities/?sort=-amount").content.decode()
    assert by_amount.index("HYPERLINK") < by_amount.index("Widgets")
    assert 'aria-sort="descending"' in by_amount
    filtered = client.get(f"/opportunities/?stage={stages['quote'].pk}&status=open").content.decode()
    assert "HYPERLINK" in filtered and "Widgets" not in filtered and "1 opportunity" in filtered
    partial = client.get("/opportunities/?q=Widg", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
    assert b"<html" not in partial.content and b"Widgets" in partial.content
    assert client.get("/opportunities/?status=bogus").status_code == 200
    export = client.get(f"/opportunities/export.csv?pipeline={deal.pipeline_id}")
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.getvalue().decode())))
    assert rows[0][:3] == ["id", "name", "account"] and len(rows) == 3
    assert {r[1] for r in rows[1:]} == {deal.name, "'=HYPERLINK(evil)"}  # a formula is quoted as text
    assert {r[0] for r in rows[1:]} == {str(deal.pk), str(big.pk)}


def test_list_cursor_pages(rep, customer) -> None:
    for i in range(55):
        opportunity_create(actor=rep, account=customer, name=f"D{i:02d}", expected_close_date=dt.date(2026, 5, 1))
    client = client_for(rep)
    first = client.get("/opportunities/?sort=name").content.decode()
    assert first.count("/edit/") == 0 and first.count('<tr><td><a href="/opportunities/') == 50
    start = first.index('rel="next" href="') + len('rel="next" href="')
    second = client.get("/opportunities/" + first[start:first.index('"', start)].replace("&amp;", "&")).content.decode()
    assert second.count('<tr><td><a href="/opportunities/') == 5 and "D54" in second and "D00" not in second
    assert client.get("/opportunities/?cursor=garbage").status_code == 200


def test_detail_shows_path_history_quotes_and_logs(deal, rep, stages) -> None:
    opportunity_move(actor=rep, opportunity=deal, stage=stages["meeting"], expected_version=1)
    client = client_for(rep)
    page = client.get(f"/opportunities/{deal.pk}/").content.decode()
    assert 'aria-current="step">Meeting<' in page and 'aria-valuenow="67"' in page  # 4th of 6 open stages
    history = page[page.index('id="history"'):page.index('id="products"')]
    assert "Opportunity generated" in history and "Meeting" in history and "Rita Rep" in history
    assert "No quotes yet." in page
    client.post(f"/opportunities/{deal.pk}/log/", {"kind": "call", "subject": "Discovery", "body": "Keen"})
    call = Interaction.objects.get()
    assert (call.channel, call.subject, call.related_id, call.account_id) == ("phone", "Discovery", deal.pk,
                                                                             deal.account_id)
    assert "Discovery" in client.get(f"/opportunities/{deal.pk}/").content.decode()
    empty = client.post(f"/opportunities/{deal.pk}/log/", {"kind": "call"}, follow=True)
    assert b"Write what happened" in empty.content and Interaction.objects.count() == 1


def test_quotes_are_listed_with_links(deal, rep, admin_user) -> None:
    from rapport.sales.services_quotes import QuoteLineSpec, quote_create

    product = catalogue.product_create(actor=admin_user, sku="Q", name="Quoted")
    quote = quote_create(actor=rep, opportunity=deal, currency="EUR",
                         lines=[QuoteLineSpec(product=product, quantity=1, unit_price="100")])
    page = client_for(rep).get(f"/opportunities/{deal.pk}/").content.decode()
    quotes = page[page.index('id="quotes"'):page.index('id="activity"')]
    assert f'href="/quotes/{quote.pk}/"' in quotes and quote.number in quotes and "Draft" in quotes


def test_won_and_lost_buttons(deal, rep, stages) -> None:
    client = client_for(rep)
    refused = client.post(f"/opportunities/{deal.pk}/close/", {"stage_id": stages["lost"].pk, "version": 1},
                          follow=True)
    assert b"Say why the deal was lost" in refused.content and Opportunity.objects.get(pk=deal.pk).status == "open"
    assert b"Choose a won or a lost stage" in client.post(
        f"/opportunities/{deal.pk}/close/", {"stage_id": stages["quote"].pk, "version": 1}, follow=True).content
    client.post(f"/opportunities/{deal.pk}/close/", {"stage_id": stages["lost"].pk, "version": 1,
                                                     "close_reason": "Price"})
    stored = Opportunity.objects.get(pk=deal.pk)
    assert (stored.status, stored.close_reason, stored.probability) == ("lost", "Price", 0)
    page = client.get(f"/opportunities/{deal.pk}/").content.decode()
    assert 'id="opp-reason">Price<' in page and "Mark lost" not in page


def test_create_form(rep, customer, stages, hidden) -> None:
    client = client_for(rep)
    form = client.get(f"/opportunities/new/?account={customer.pk}").content.decode()
    assert "Prospect Ltd" in form and "Hidden Corp" not in form
    response = client.post("/opportunities/new/", {
        "name": "New deal", "account": customer.pk, "pipeline": stages["quote"].pipeline_id,
        "stage": stages["quote"].pk, "amount": "250.5", "currency": "", "probability": "80",
        "expected_close_date": "2026-09-30", "next_step": "Demo", "owner": rep.pk})
    created = Opportunity.objects.get(name="New deal")
    assert response.status_code == 302 and response["Location"] == f"/opportunities/{created.pk}/"
    assert (created.amount, created.currency, created.probability, created.probability_overridden) == (
        Decimal("250.5"), "EUR", 80, True)
    # another team's account, forged into the post: not found, nothing written
    forged = client.post("/opportunities/new/", {
        "name": "Forged", "account": hidden.account_id, "pipeline": stages["quote"].pipeline_id,
        "stage": stages["quote"].pk, "amount": "1", "expected_close_date": "2026-09-30", "owner": rep.pk})
    assert forged.status_code in (200, 404) and not Opportunity.objects.filter(name="Forged").exists()
    bad = client.post("/opportunities/new/", {"name": "", "account": customer.pk, "amount": "-5"})
    assert bad.status_code == 200 and b"errorlist" in bad.content and Opportunity.objects.count() == 2


def test_edit_saves_moves_and_refuses_a_stale_version(deal, rep, stages) -> None:
    client = client_for(rep)
    data = {"name": "Renamed", "contact": "", "stage": stages["meeting"].pk, "amount": "1500", "currency": "EUR",
            "probability": "", "expected_close_date": "2026-02-01", "next_step": "", "competitors": "Acme",
            "owner": rep.pk, "description": "", "close_reason": "", "version": 1}
    assert client.post(f"/opportunities/{deal.pk}/edit/", data).status_code == 302
    stored = Opportunity.objects.get(pk=deal.pk)
    assert (stored.name, stored.amount, stored.stage, stored.competitors) == (
        "Renamed", Decimal("1500"), stages["meeting"], "Acme")
    assert StageChange.objects.filter(opportunity=deal, to_stage=stages["meeting"]).count() == 1
    stale = client.post(f"/opportunities/{deal.pk}/edit/", {**data, "name": "Stale", "version": 1})
    assert stale.status_code == 200 and b"changed since version 1" in stale.content
    assert Opportunity.objects.get(pk=deal.pk).name == "Renamed"
    # a refused move (lost without reason) rolls the field changes back too
    refused = client.post(f"/opportunities/{deal.pk}/edit/", {**data, "name": "Half", "stage": stages["lost"].pk,
                                                              "version": stored.version})
    assert refused.status_code == 200 and b'data-error-for="close_reason"' in refused.content
    assert Opportunity.objects.get(pk=deal.pk).name == "Renamed"


def test_products_editor_and_suggestion_add(deal, rep, admin_user) -> None:
    book = catalogue.price_book_create(actor=admin_user, name="EUR", currency="EUR")
    widget = catalogue.product_create(actor=admin_user, sku="W", name="Widget")
    gadget = catalogue.product_create(actor=admin_user, sku="G", name="Gadget")
    catalogue.price_book_entry_set(actor=admin_user, price_book=book, product=gadget, unit_price="42")
    client = client_for(rep)
    client.post(f"/opportunities/{deal.pk}/lines/", {"version": 1, "product": [widget.pk, ""],
                                                     "quantity": ["2", "1"], "unit_price": ["100", "0"],
                                                     "discount": ["10", "0"]})
    line = OpportunityLine.objects.get(opportunity=deal)
    assert (line.product, line.quantity, line.unit_price, line.discount_percent) == (widget, 2, 100, 10)
    page = client.get(f"/opportunities/{deal.pk}/").content.decode()
    assert 'id="lines-total">180.00 EUR<' in page
    bad = client.post(f"/opportunities/{deal.pk}/lines/", {"version": 2, "product": [widget.pk],
                                                           "quantity": ["-1"], "unit_price": ["1"], "discount": ["0"]},
                      follow=True)
    assert b"msg error" in bad.content and OpportunityLine.objects.get(opportunity=deal).quantity == 2
    client.post(f"/opportunities/{deal.pk}/lines/add/", {"version": 2, "product_id": gadget.pk})
    assert [(ln.product_id, ln.unit_price) for ln in OpportunityLine.objects.filter(opportunity=deal)] == [
        (widget.pk, 100), (gadget.pk, 42)]
    stale = client.post(f"/opportunities/{deal.pk}/lines/add/", {"version": 2, "product_id": widget.pk}, follow=True)
    assert b"changed since version 2" in stale.content and OpportunityLine.objects.filter(opportunity=deal).count() == 2
    client.post(f"/opportunities/{deal.pk}/lines/", {"version": 3, "product": [widget.pk, gadget.pk],
                                                     "quantity": ["2", "1"], "unit_price": ["100", "42"],
                                                     "discount": ["10", "0"], "remove": ["0"]})
    assert [ln.product_id for ln in OpportunityLine.objects.filter(opportunity=deal)] == [gadget.pk]
