"""Pipelines and stages over the API: managers define them, reps may not; a used stage is kept."""

from __future__ import annotations

import json
from decimal import Decimal

from tests.conftest import client_for


def _send(client, method, url, body):
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def test_manager_defines_pipeline_rep_may_not(manager, rep, customer, stages):
    body = {"name": "Renewals", "stages": [{"name": "Open", "probability": 40}, {"name": "Won", "probability": 100,
                                                                                  "kind": "won"}]}
    assert _send(client_for(rep), "post", "/api/v1/pipelines", body).status_code == 403
    assert _send(client_for(None), "post", "/api/v1/pipelines", body).status_code == 401
    created = _send(client_for(manager), "post", "/api/v1/pipelines", body)
    assert created.status_code == 201, created.content
    ids = [s["id"] for s in created.json()["stages"]]
    reordered = _send(client_for(manager), "post", f"/api/v1/pipelines/{created.json()['id']}/stages/reorder",
                      {"stage_ids": ids[::-1]})
    assert [s["id"] for s in reordered.json()["items"]] == ids[::-1]
    _send(client_for(rep), "post", "/api/v1/opportunities", {"name": "D", "account_id": customer.pk})
    in_use = client_for(manager).delete(f"/api/v1/stages/{stages['generated'].pk}")
    assert in_use.status_code == 409
    unused = client_for(manager).delete(f"/api/v1/stages/{stages['meeting'].pk}")
    assert unused.status_code == 204


def test_board_columns_figures(rep, other_rep, customer, stages, settings):
    settings.RAPPORT_COMPANY_CURRENCY = "EUR"  # the customer's: the figures are plain sums
    client = client_for(rep)
    for amount in ("100", "300"):
        _send(client, "post", "/api/v1/opportunities", {"name": "D", "account_id": customer.pk, "amount": amount})
    board = client.get(f"/api/v1/pipelines/{stages['generated'].pipeline_id}/board").json()
    first = board["columns"][0]
    assert first["count"] == 2 and Decimal(first["total"]) == 400 and len(first["items"]) == 2
    other = client_for(other_rep).get(f"/api/v1/pipelines/{stages['generated'].pipeline_id}/board").json()
    assert other["columns"][0]["count"] == 0
