"""The contacts API: CRUD, validation as problem+json, keyset pagination, optimistic concurrency."""

from __future__ import annotations

import json

from rapport.core.models import AuditEvent, User
from rapport.parties.models import Contact
from rapport.parties.services import contact_create

JSON = "application/json"


def _post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type=JSON)


def _patch(client, url, body, **headers):
    return client.patch(url, data=json.dumps(body), content_type=JSON, headers=headers)


def test_create_returns_201_with_etag_and_normalised_values(rep: User, client_of) -> None:
    # given
    client = client_of(rep)
    # when
    response = _post(
        client,
        "/api/v1/contacts",
        {
            "first_name": "Grace",
            "last_name": "Hopper",
            "emails": ["Grace@Navy.MIL", {"email": "g.hopper@example.org", "kind": "home"}],
            "phones": ["+44 20 7946 0958"],
            "tags": ["vip"],
        },
    )
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["email"] == "grace@navy.mil"
    assert [e["email"] for e in body["emails"]] == ["grace@navy.mil", "g.hopper@example.org"]
    assert body["phone"] == "+442079460958"
    assert body["tags"] == ["vip"]
    assert response["ETag"] == f'"{body["id"]}-1"'
    assert response["Location"] == f"/api/v1/contacts/{body['id']}"


def test_invalid_email_is_422_problem_json_and_nothing_is_written(rep: User, client_of) -> None:
    # given
    client = client_of(rep)
    # when
    response = _post(client, "/api/v1/contacts", {"last_name": "X", "emails": ["not-an-email"]})
    # then
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/problems/validation"
    assert list(problem["errors"]) == ["emails.0"]
    assert Contact.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_malformed_json_and_unknown_fields_are_4xx_problems(rep: User, client_of) -> None:
    client = client_of(rep)
    broken = client.post("/api/v1/contacts", data="{not json", content_type=JSON)
    unknown = _post(client, "/api/v1/contacts", {"last_name": "X", "favourite_colour": "blue"})
    nul = _post(client, "/api/v1/contacts", {"last_name": "X\x00"})
    huge_id = client.get("/api/v1/contacts/99999999999999999999999")
    assert (broken.status_code, unknown.status_code, nul.status_code, huge_id.status_code) == (400, 422, 422, 422)
    assert all(r["Content-Type"] == "application/problem+json" for r in (broken, unknown, nul, huge_id))
    assert Contact.objects.count() == 0


def test_stale_version_is_409_and_does_not_overwrite(rep: User, client_of) -> None:
    # given: two clients read version 1
    contact = contact_create(actor=rep, data={"first_name": "Ann", "last_name": "Lee"})
    client = client_of(rep)
    # when: the first writes, the second writes with the version it read
    first = _patch(client, f"/api/v1/contacts/{contact.pk}", {"title": "CTO", "version": 1})
    second = _patch(client, f"/api/v1/contacts/{contact.pk}", {"title": "Intern", "version": 1})
    # then
    assert first.status_code == 200 and first.json()["version"] == 2
    assert second.status_code == 409
    assert second.json()["current_version"] == 2
    contact.refresh_from_db()
    assert (contact.title, contact.version) == ("CTO", 2)


def test_if_match_precondition(rep: User, client_of) -> None:
    contact = contact_create(actor=rep, data={"first_name": "Ann", "last_name": "Lee"})
    client = client_of(rep)
    stale = _patch(client, f"/api/v1/contacts/{contact.pk}", {"title": "A"}, **{"If-Match": f'"{contact.pk}-7"'})
    missing = _patch(client, f"/api/v1/contacts/{contact.pk}", {"title": "B"})
    fresh = _patch(client, f"/api/v1/contacts/{contact.pk}", {"title": "C"}, **{"If-Match": f'"{contact.pk}-1"'})
    assert (stale.status_code, missing.status_code, fresh.status_code) == (412, 428, 200)
    contact.refresh_from_db()
    assert contact.title == "C"


def test_list_is_keyset_paginated_in_name_order(rep: User, client_of) -> None:
    # given
    for last in ["Cole", "Adams", "Baker", "Evans", "Diaz"]:
        contact_create(actor=rep, data={"first_name": "X", "last_name": last})
    client = client_of(rep)
    # when
    page1 = client.get("/api/v1/contacts?limit=2&ordering=name").json()
    page2 = client.get(f"/api/v1/contacts?limit=2&ordering=name&cursor={page1['next']}").json()
    page3 = client.get(f"/api/v1/contacts?limit=2&ordering=name&cursor={page2['next']}").json()
    # then
    names = [c["last_name"] for page in (page1, page2, page3) for c in page["items"]]
    assert names == ["Adams", "Baker", "Cole", "Diaz", "Evans"]
    assert page3["next"] is None
    assert client.get("/api/v1/contacts?cursor=garbage").status_code == 422
    assert client.get("/api/v1/contacts?ordering=shoe_size").status_code == 422


def test_history_shows_field_level_changes(rep: User, client_of) -> None:
    contact = contact_create(actor=rep, data={"first_name": "Ann", "last_name": "Lee"})
    client = client_of(rep)
    _patch(client, f"/api/v1/contacts/{contact.pk}", {"last_name": "Leigh", "version": 1})
    history = client.get(f"/api/v1/contacts/{contact.pk}/history").json()
    assert [h["action"] for h in history] == ["update", "create"]
    assert history[0]["changes"] == {"last_name": ["Lee", "Leigh"]}
    assert history[0]["actor"] == "Rita Rep"
