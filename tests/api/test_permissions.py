"""Permission matrix of every API resource of the customer core.

Who: anonymous, a rep of another team, a teammate, the team's manager, an analyst (a role
that may read but not write), the owner, an administrator. What: read, update, delete, and
the timeline writes that hang off a contact. Records default to team visibility.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from rapport.core.choices import Visibility
from rapport.core.models import ObjectVisibility, User
from rapport.core.permissions import visibility_cache_clear
from rapport.parties.models import Account, Contact
from rapport.parties.services import account_create, contact_create

JSON = "application/json"


@pytest.fixture
def world(rep, teammate, other_rep, manager, analyst, admin_user):
    contact = contact_create(actor=rep, data={"first_name": "Owned", "last_name": "ByRep", "emails": ["o@x.test"]})
    account = account_create(actor=rep, data={"name": "Rep Corp"})
    return {
        "contact": contact,
        "account": account,
        "users": {
            "owner": rep,
            "teammate": teammate,
            "other_team": other_rep,
            "manager": manager,
            "analyst": analyst,
            "admin": admin_user,
            "anonymous": None,
        },
    }


def _client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _set_visibility(model, visibility: str) -> None:
    ObjectVisibility.objects.update_or_create(
        content_type=ContentType.objects.get_for_model(model), defaults={"visibility": visibility}
    )
    visibility_cache_clear()


READ_EXPECTED = {
    "anonymous": 401,
    "other_team": 404,
    "teammate": 200,
    "manager": 200,
    "analyst": 200,
    "owner": 200,
    "admin": 200,
}
WRITE_EXPECTED = {
    "anonymous": 401,
    "other_team": 404,
    "teammate": 200,
    "manager": 200,
    "analyst": 403,
    "owner": 200,
    "admin": 200,
}


@pytest.mark.parametrize("who", list(READ_EXPECTED))
@pytest.mark.parametrize("resource", ["contacts", "accounts"])
def test_read_matrix(world, who: str, resource: str) -> None:
    obj = world["contact" if resource == "contacts" else "account"]
    client = _client(world["users"][who])
    for suffix in ("", "/history", "/360", "/timeline"):
        response = client.get(f"/api/v1/{resource}/{obj.pk}{suffix}")
        assert response.status_code == READ_EXPECTED[who], (suffix, response.content)
    listed = client.get(f"/api/v1/{resource}")
    if who == "anonymous":
        assert listed.status_code == 401
    else:
        ids = [item["id"] for item in listed.json()["items"]]
        assert (obj.pk in ids) == (READ_EXPECTED[who] == 200)


@pytest.mark.parametrize("who", list(WRITE_EXPECTED))
@pytest.mark.parametrize("resource", ["contacts", "accounts"])
def test_update_matrix(world, who: str, resource: str) -> None:
    obj = world["contact" if resource == "contacts" else "account"]
    field = "title" if resource == "contacts" else "description"
    response = _client(world["users"][who]).patch(
        f"/api/v1/{resource}/{obj.pk}", data=json.dumps({field: "changed", "version": 1}), content_type=JSON
    )
    assert response.status_code == WRITE_EXPECTED[who], response.content
    obj.refresh_from_db()
    assert (getattr(obj, field) == "changed") == (WRITE_EXPECTED[who] == 200)


@pytest.mark.parametrize("who", list(WRITE_EXPECTED))
@pytest.mark.parametrize("resource", ["contacts", "accounts"])
def test_delete_matrix(world, who: str, resource: str) -> None:
    obj = world["contact" if resource == "contacts" else "account"]
    response = _client(world["users"][who]).delete(f"/api/v1/{resource}/{obj.pk}")
    expected = 204 if WRITE_EXPECTED[who] == 200 else WRITE_EXPECTED[who]
    assert response.status_code == expected
    assert type(obj).objects.filter(pk=obj.pk).exists() == (expected != 204)


@pytest.mark.parametrize("who", ["anonymous", "analyst", "rep"])
def test_create_needs_the_role(make_user, team_a, who: str) -> None:
    user = None if who == "anonymous" else make_user(who if who != "rep" else "sales_rep", team_a)
    response = _client(user).post("/api/v1/contacts", data=json.dumps({"last_name": "New"}), content_type=JSON)
    assert response.status_code == {"anonymous": 401, "analyst": 403, "rep": 201}[who]
    assert Contact.objects.filter(last_name="New").count() == (1 if who == "rep" else 0)


@pytest.mark.parametrize("who", list(WRITE_EXPECTED))
def test_timeline_writes_follow_the_contact(world, who: str) -> None:
    contact = world["contact"]
    client = _client(world["users"][who])
    note = client.post("/api/v1/notes", data=json.dumps({"contact_id": contact.pk, "body": "hi"}), content_type=JSON)
    call = client.post(
        "/api/v1/interactions",
        data=json.dumps({"contact_id": contact.pk, "channel": "phone", "subject": "Call"}),
        content_type=JSON,
    )
    expected = {200: 201}.get(WRITE_EXPECTED[who], WRITE_EXPECTED[who])
    assert (note.status_code, call.status_code) == (expected, expected)


def test_private_visibility_hides_from_teammates_not_from_the_manager(world) -> None:
    _set_visibility(Contact, Visibility.PRIVATE)
    contact = world["contact"]
    users = world["users"]
    assert _client(users["teammate"]).get(f"/api/v1/contacts/{contact.pk}").status_code == 404
    assert _client(users["manager"]).get(f"/api/v1/contacts/{contact.pk}").status_code == 200
    assert _client(users["owner"]).get(f"/api/v1/contacts/{contact.pk}").status_code == 200


def test_public_visibility_lets_everyone_read_but_not_write(world) -> None:
    _set_visibility(Account, Visibility.PUBLIC)
    account = world["account"]
    other = _client(world["users"]["other_team"])
    assert other.get(f"/api/v1/accounts/{account.pk}").status_code == 200
    response = other.patch(
        f"/api/v1/accounts/{account.pk}", data=json.dumps({"name": "Mine", "version": 1}), content_type=JSON
    )
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.name == "Rep Corp"


def test_read_only_token_cannot_write_and_revoked_token_is_refused(rep, client_of) -> None:
    from rapport.core.tokens import api_token_create, api_token_revoke

    _token, read_plain = api_token_create(actor=rep, name="ro", scope="read")
    rw, rw_plain = api_token_create(actor=rep, name="rw", scope="read_write")
    client = Client()
    auth_ro = {"Authorization": f"Bearer {read_plain}"}
    auth_rw = {"Authorization": f"Bearer {rw_plain}"}
    body = json.dumps({"last_name": "Tok"})
    assert client.get("/api/v1/contacts", headers=auth_ro).status_code == 200
    assert client.post("/api/v1/contacts", data=body, content_type=JSON, headers=auth_ro).status_code == 403
    assert client.post("/api/v1/contacts", data=body, content_type=JSON, headers=auth_rw).status_code == 201
    api_token_revoke(actor=rep, token_id=rw.pk)
    assert client.get("/api/v1/contacts", headers=auth_rw).status_code == 401
    assert client.get("/api/v1/contacts", headers={"Authorization": "Bearer rpt_nope_nope"}).status_code == 401


def test_session_writes_need_csrf(rep) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    response = client.post("/api/v1/contacts", data=json.dumps({"last_name": "Csrf"}), content_type=JSON)
    assert response.status_code == 403
    assert not Contact.objects.filter(last_name="Csrf").exists()


def test_tokens_are_private_to_their_user(rep, other_rep) -> None:
    created = _client(rep).post("/api/v1/tokens", data=json.dumps({"name": "cli", "scope": "read"}), content_type=JSON)
    assert created.status_code == 201
    token = created.json()
    assert token["token"].startswith("rpt_")
    assert _client(other_rep).delete(f"/api/v1/tokens/{token['id']}").status_code == 404
    assert [t["id"] for t in _client(other_rep).get("/api/v1/tokens").json()] == []
    assert "token" not in _client(rep).get("/api/v1/tokens").json()[0]
