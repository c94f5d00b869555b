"""The OLAP API and page: permission matrix (anonymous / rep / analyst / manager), queries,
drill-down links, pivot, exports, and bad input as 4xx problem+json."""

from __future__ import annotations

import json

import pytest

from rapport.insights.warehouse import warehouse_build

PROBLEM = "application/problem+json"


@pytest.fixture
def built(sales, wh_path):
    warehouse_build()
    return wh_path


def _post(client, body, query=""):
    return client.post(f"/api/v1/olap/query{query}", data=json.dumps(body), content_type="application/json")


REVENUE_BY_YEAR = {"measures": ["revenue", "order_count"], "dimensions": [{"dimension": "date", "level": "year"}]}


@pytest.mark.django_db
def test_permission_matrix(built, client_of, rep, analyst, manager):
    anonymous = _post(client_of(None), REVENUE_BY_YEAR)
    assert anonymous.status_code == 401 and anonymous["Content-Type"] == PROBLEM
    assert client_of(None).get("/insights/olap/").status_code == 302  # to the login page
    forbidden = _post(client_of(rep), REVENUE_BY_YEAR)
    assert forbidden.status_code == 403 and forbidden["Content-Type"] == PROBLEM
    assert client_of(rep).get("/api/v1/olap/schema").status_code == 403
    assert client_of(rep).get("/insights/olap/").status_code == 403
    assert client_of(rep).get("/insights/olap/export?m=revenue&format=csv").status_code == 403
    for user in (analyst, manager):
        ok = _post(client_of(user), REVENUE_BY_YEAR)
        assert ok.status_code == 200, ok.content
        assert ok.json()["rows"] == [[2024, "180.0000", 1], [2025, "258.0000", 2]]


@pytest.mark.django_db
def test_schema_lists_measures_and_hierarchies(built, client_of, analyst):
    body = client_of(analyst).get("/api/v1/olap/schema").json()
    assert {"revenue", "margin", "interactions"} <= {m["name"] for m in body["measures"]}
    region = next(d for d in body["dimensions"] if d["name"] == "region")
    assert [lv["name"] for lv in region["levels"]] == ["region", "country"]
    assert body["warehouse"]["mode"] == "full"


@pytest.mark.django_db
def test_drill_pivot_and_export(built, client_of, analyst):
    client = client_of(analyst)
    drilled = _post(client, {**REVENUE_BY_YEAR, "drill": {"dimension": "date", "member": 2025}})
    assert drilled.json()["dimensions"] == ["date.quarter"]
    assert drilled.json()["rows"] == [["2025-Q1", "198.0000", 1], ["2025-Q3", "60.0000", 1]]
    pivoted = _post(
        client,
        {
            "measures": ["revenue"],
            "dimensions": [{"dimension": "region", "level": "country"}, {"dimension": "date", "level": "year"}],
            "pivot": "date_year",
        },
    ).json()["pivot"]
    assert pivoted["column_members"] == [2024, 2025]
    assert pivoted["rows"] == [
        {"key": ["DE"], "cells": [None, "258.0000"]},
        {"key": ["US"], "cells": ["180.0000", None]},
    ]
    csv = _post(client, REVENUE_BY_YEAR, "?format=csv")
    assert csv["Content-Type"].startswith("text/csv")
    assert csv.content.decode().splitlines() == ["date_year,revenue,order_count", "2024,180.0000,1", "2025,258.0000,2"]
    parquet = _post(client, REVENUE_BY_YEAR, "?format=parquet")
    assert parquet.status_code == 200 and parquet.content[:4] == b"PAR1"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "query"),
    [
        ({"measures": ["profit"]}, ""),
        ({"measures": []}, ""),
        ({"measures": ["revenue"], "dimensions": [{"dimension": "date", "level": "week"}]}, ""),
        ({"measures": ["revenue"], "filters": [{"dimension": "x", "level": "y", "op": "eq", "value": 1}]}, ""),
        ({"measures": ["revenue"], "filters": [{"dimension": "date", "level": "year", "op": "like", "value": 1}]}, ""),
        ({"measures": ["revenue"], "sort": ["revenue; drop table x"]}, ""),
        ({"measures": ["revenue"], "limit": -1}, ""),
        ({"measures": ["revenue", "interactions"]}, ""),
        ({"measures": ["revenue"], "dimensions": [{"dimension": "date", "level": "day"}], "pivot": "nope"}, ""),
        ({**REVENUE_BY_YEAR, "drill": {"dimension": "date", "member": "x"}, "dimensions": []}, ""),
        (REVENUE_BY_YEAR, "?format=xlsx"),
        ("not an object", ""),
    ],
)
def test_bad_queries_are_4xx_problems(built, client_of, analyst, body, query):
    response = _post(client_of(analyst), body, query)
    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"] == PROBLEM


@pytest.mark.django_db
def test_injection_in_filter_values_is_data(built, client_of, analyst):
    body = {
        "measures": ["revenue"],
        "filters": [{"dimension": "region", "level": "country", "op": "eq", "value": "DE' OR '1'='1"}],
    }
    assert _post(client_of(analyst), body).json()["rows"] == [[None]]


@pytest.mark.django_db
def test_missing_warehouse_is_a_409_problem(sales, wh_path, client_of, analyst):
    response = _post(client_of(analyst), REVENUE_BY_YEAR)
    assert response.status_code == 409 and response["Content-Type"] == PROBLEM


@pytest.mark.django_db
def test_page_drill_down_pivot_chart_export(built, client_of, analyst):
    client = client_of(analyst)
    page = client.get("/insights/olap/?m=revenue&d=date.year")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and "258.0000" in html
    # The year links to its quarters.
    assert "d=date.quarter&amp;f=date.year%3A2025" in html
    quarters = client.get(
        "/insights/olap/?m=revenue&d=date.quarter&f=date.year:2025",
        headers={"HX-Request": "true", "HX-Target": "olap-results"},
    )
    body = quarters.content.decode()
    assert "<html" not in body and "2025-Q3" in body and "2024" not in body.split("<tbody>")[1]
    pivot = client.get("/insights/olap/?m=revenue&d=region.country&d=date.year&pivot=date_year").content.decode()
    assert '<th scope="col">2024</th>' in pivot
    export = client.get("/insights/olap/export?m=revenue&d=date.year&format=csv")
    assert export.content.decode().splitlines()[0] == "date_year,revenue"
    bad = client.get("/insights/olap/?m=nope")
    assert bad.status_code == 422 and "unknown measure" in bad.content.decode()


@pytest.mark.django_db
def test_page_escapes_member_names(sales, wh_path, client_of, analyst, rep):
    from rapport.activities.services import interaction_record
    from rapport.parties.services import account_create

    evil = account_create(actor=rep, data={"name": "<script>alert(1)</script>"})
    interaction_record(actor=rep, channel="email", account=evil)
    warehouse_build()
    html = client_of(analyst).get("/insights/olap/?m=interactions&d=customer.customer").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html
