"""Opportunity API: create, stale move refused, lost needs a reason, permissions by row."""

from __future__ import annotations

import json

from tests.conftest import client_for


def _post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_create_and_move_with_version(rep, customer, stages):
    client = client_for(rep)
    created = _post(client, "/api/v1/opportunities", {"name": "Deal", "account_id": customer.pk, "amount": "1000"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["stage_id"] == stages["generated"].pk and body["probability"] == 5
    moved = _post(client, f"/api/v1/opportunities/{body['id']}/move",
                  {"stage_id": stages["quote"].pk, "version": body["version"]})
    assert moved.status_code == 200 and moved.json()["probability"] == 70
    stale = _post(client, f"/api/v1/opportunities/{body['id']}/move",
                  {"stage_id": stages["meeting"].pk, "version": body["version"]})
    assert stale.status_code == 409 and stale["Content-Type"].startswith("application/problem+json")
    lost = _post(client, f"/api/v1/opportunities/{body['id']}/move",
                 {"stage_id": stages["lost"].pk, "version": moved.json()["version"]})
    assert lost.status_code == 422


def test_permission_matrix(rep, other_rep, customer, client_of):
    created = _post(client_for(rep), "/api/v1/opportunities", {"name": "Deal", "account_id": customer.pk})
    url = f"/api/v1/opportunities/{created.json()['id']}"
    assert client_of(None).get(url).status_code == 401
    assert client_of(other_rep).get(url).status_code == 404
    assert client_of(rep).get(url).status_code == 200
