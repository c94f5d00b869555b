"""Who may see the dashboards, what per-customer lists show to whom, bad parameters, a missing
warehouse, and escaping of customer-written text (account names, lost-deal reasons)."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.insights.dash_data import account, buy, small_base

from rapport.insights.warehouse import warehouse_build

PROBLEM = "application/problem+json"
PAGES = ("/insights/", "/insights/rfm/", "/insights/clv/", "/insights/churn/", "/insights/defection/")
ENDPOINTS = ("overview", "rfm", "clv", "churn", "defection")


@pytest.fixture
def small(admin_user, rep, other_rep, wh_path):
    data = small_base(admin_user, rep, other_rep)
    warehouse_build()
    return data


@pytest.mark.django_db
def test_permission_matrix(small, client_of, rep, other_rep, analyst, manager, admin_user):
    for url in PAGES:
        assert client_of(None).get(url).status_code == 302, url  # to the login page
        assert client_of(None).get(url)["Location"].startswith("/login/")
        for user in (rep, other_rep):  # reps have no warehouse permission
            assert client_of(user).get(url).status_code == 403, url
        for user in (analyst, manager, admin_user):
            page = client_of(user).get(url)
            assert page.status_code == 200, (url, page.content[:500])
            assert '<nav class="tabs" aria-label="Insights">' in page.content.decode()
    for name in ENDPOINTS:
        anonymous = client_of(None).get(f"/api/v1/insights/{name}")
        assert anonymous.status_code == 401 and anonymous["Content-Type"] == PROBLEM
        forbidden = client_of(rep).get(f"/api/v1/insights/{name}")
        assert forbidden.status_code == 403 and forbidden["Content-Type"] == PROBLEM
        for user in (analyst, manager):
            assert client_of(user).get(f"/api/v1/insights/{name}").status_code == 200


@pytest.mark.django_db
def test_nav_links_the_insights_pages_for_those_allowed(small, client_of, analyst, rep):
    html = client_of(analyst).get("/insights/rfm/").content.decode()
    assert 'href="/insights/"' in html and 'href="/insights/defection/"' in html and 'href="/insights/olap/"' in html
    assert 'href="/insights/"' not in client_of(rep).get("/accounts/").content.decode()


@pytest.mark.django_db
def test_per_customer_lists_follow_row_access(small, client_of, manager, analyst, admin_user):
    # Hotel SA belongs to other_rep (team B): team A's manager and analyst see the aggregates
    # (seven customers) but not Hotel SA in the list of declining accounts; the administrator does.
    for user in (manager, analyst):
        body = client_of(user).get("/api/v1/insights/defection").json()
        assert body["declining"] == [] and body["declining_count"] == 1
        assert body["survival"]["customers"] == 7
        assert "Hotel SA" not in client_of(user).get("/insights/defection/").content.decode()
    admin = client_of(admin_user).get("/api/v1/insights/defection").json()
    assert [a["name"] for a in admin["declining"]] == ["Hotel SA"]
    html = client_of(admin_user).get("/insights/defection/").content.decode()
    assert f'href="/accounts/{small["H"].pk}/">Hotel SA</a>' in html


@pytest.mark.django_db
def test_account_names_and_reasons_are_escaped(small, client_of, manager, rep):
    from rapport.sales.models import Pipeline
    from rapport.sales.services import opportunity_create, opportunity_move

    evil = account(rep, "<script>alert('name')</script>", "DE")
    for month in range(12):  # a monthly buyer who stopped: listed as declining, to team A too
        buy(rep, evil, small["cat"], dt.date(2024 + (3 + month) // 12, (3 + month) % 12 + 1, 2), 3)
    lost = Pipeline.objects.get(is_default=True).stages.get(kind="lost")
    deal = opportunity_create(actor=rep, account=evil, name="Deal", amount="1", currency="USD")
    opportunity_move(actor=rep, opportunity=deal, stage=lost, expected_version=deal.version,
                     close_reason="<script>alert('reason')</script>")
    warehouse_build()
    html = client_of(manager).get("/insights/defection/").content.decode()
    assert "&lt;script&gt;alert(&#x27;name&#x27;)&lt;/script&gt;" in html  # the list (Django's escaping)
    assert "&lt;script&gt;alert('reason')&lt;/script&gt;" in html  # the chart (XML escaping)
    assert "<script>alert(" not in html
    api = client_of(manager).get("/api/v1/insights/defection").json()
    assert api["declining"][0]["name"] == "<script>alert('name')</script>"  # JSON carries the text as it is


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/insights/clv?model=weibull",
        "/api/v1/insights/clv?top=0",
        "/api/v1/insights/clv?top=abc",
        "/api/v1/insights/churn?top=100000",
        "/api/v1/insights/defection?dimension=owner",
        "/api/v1/insights/defection?dimension=",
    ],
)
def test_bad_parameters_are_422_problems(small, client_of, analyst, url):
    response = client_of(analyst).get(url)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == PROBLEM


@pytest.mark.django_db
def test_bad_parameters_on_the_pages_show_the_message(small, client_of, analyst):
    clv = client_of(analyst).get("/insights/clv/?model=weibull")
    assert clv.status_code == 422 and "model must be one of bgnbd, pnbd, mbgnbd" in clv.content.decode()
    km = client_of(analyst).get("/insights/defection/?dimension=<b>")
    assert km.status_code == 422 and "dimension must be one of region, tier, channel" in km.content.decode()
    assert "<b>" not in km.content.decode().split("</nav>", 2)[-1]


@pytest.mark.django_db
def test_missing_warehouse(wh_path, client_of, analyst):
    api = client_of(analyst).get("/api/v1/insights/rfm")
    assert api.status_code == 409 and api["Content-Type"] == PROBLEM
    page = client_of(analyst).get("/insights/")
    assert page.status_code == 409 and "rapport warehouse build" in page.content.decode()


@pytest.mark.django_db
def test_pickers_swap_only_the_body(small, client_of, analyst):
    partial = client_of(analyst).get(
        "/insights/defection/?dimension=tier", headers={"HX-Request": "true", "HX-Target": "dash-body"}
    )
    body = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in body and "Survival by tier" in body
    full = client_of(analyst).get("/insights/defection/?dimension=tier").content.decode()
    assert "<html" in full and '<option value="tier" selected>' in full
