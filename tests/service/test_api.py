"""The cases API end to end: the permission matrix, happy paths, problem+json for bad input with
nothing written, ETags and stale versions, cursor pagination."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from rapport.service.models import Case
from rapport.service.services import case_open

JSON = "application/json"
PROBLEM = "application/problem+json"


def _client(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _send(client: Client, method: str, url: str, body: dict, if_match: str = ""):
    headers = {"If-Match": if_match} if if_match else {}
    return getattr(client, method)(url, data=json.dumps(body), content_type=JSON, headers=headers)


def _problem(response, status: int, type_: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert (body["type"], body["status"]) == (type_, status)
    return body


# --- the permission matrix -----------------------------------------------------------------

WHO = ["anonymous", "marketer", "other_team", "analyst", "teammate", "agent", "manager", "owner", "admin"]
READ = {
    "anonymous": 401, "marketer": 403, "other_team": 404, "analyst": 200, "teammate": 200, "agent": 200,
    "manager": 200, "owner": 200, "admin": 200,
}  # fmt: skip
WRITE = {**READ, "analyst": 403}


@pytest.fixture
def users(rep, teammate, other_rep, analyst, agent, manager, marketer, admin_user) -> dict:
    return {
        "anonymous": None, "marketer": marketer, "other_team": other_rep, "analyst": analyst, "teammate": teammate,
        "agent": agent, "manager": manager, "owner": rep, "admin": admin_user,
    }  # fmt: skip


@pytest.mark.parametrize("who", WHO)
def test_read_matrix(users, case, who) -> None:
    client = _client(users[who])
    got = client.get(f"/api/v1/cases/{case.pk}")
    listed = client.get("/api/v1/cases")
    assert got.status_code == READ[who], got.content
    if READ[who] == 200:
        assert (got.json()["id"], got["ETag"]) == (case.pk, f'"{case.pk}-1"')
        assert [item["id"] for item in listed.json()["items"]] == [case.pk]
    elif READ[who] == 404:
        _problem(got, 404, "/problems/not-found")
        assert listed.status_code == 200 and listed.json()["items"] == []
    else:
        _problem(got, READ[who], {401: "/problems/unauthenticated", 403: "/problems/forbidden"}[READ[who]])
        assert listed.status_code == READ[who]


@pytest.mark.parametrize("who", WHO)
def test_update_matrix(users, case, who) -> None:
    response = _send(_client(users[who]), "patch", f"/api/v1/cases/{case.pk}", {"priority": "urgent", "version": 1})
    assert response.status_code == WRITE[who], response.content
    stored = Case.objects.get(pk=case.pk)
    assert (stored.priority, stored.version) == (("urgent", 2) if WRITE[who] == 200 else ("normal", 1))


CREATE = {**WRITE, "other_team": 404}  # another team's account is not found


@pytest.mark.parametrize("who", WHO)
def test_create_matrix(users, account, who) -> None:
    response = _send(_client(users[who]), "post", "/api/v1/cases", {"account_id": account.pk, "subject": "Help"})
    expected = {200: 201}.get(CREATE[who], CREATE[who])
    assert response.status_code == expected, response.content
    assert Case.objects.count() == (1 if expected == 201 else 0)
    if expected != 201:
        assert response["Content-Type"] == PROBLEM


def test_other_teams_case_is_not_found_for_a_rep(rep, other_case) -> None:
    client = _client(rep)
    _problem(client.get(f"/api/v1/cases/{other_case.pk}"), 404, "/problems/not-found")
    patched = _send(client, "patch", f"/api/v1/cases/{other_case.pk}", {"status": "closed", "version": 1})
    _problem(patched, 404, "/problems/not-found")
    assert Case.objects.get(pk=other_case.pk).status == "new"
    assert client.get("/api/v1/cases").json()["items"] == []


# --- happy paths ---------------------------------------------------------------------------


def test_open_work_and_resolve_a_case(rep, team_a, account, contact) -> None:
    client = _client(rep)
    created = _send(
        client, "post", "/api/v1/cases",
        {"account_id": account.pk, "contact_id": contact.pk, "subject": "Printer jams", "kind": "problem",
         "channel": "phone", "priority": "high", "description": "Every second page."},
    )  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert created["ETag"] == f'"{body["id"]}-1"'
    assert {k: body[k] for k in ("account_id", "contact_id", "owner_id", "team_id", "status", "kind", "channel")} == {
        "account_id": account.pk, "contact_id": contact.pk, "owner_id": rep.pk, "team_id": team_a.pk,
        "status": "new", "kind": "problem", "channel": "phone",
    }  # fmt: skip
    assert (body["priority"], body["resolved_at"], body["satisfaction"], body["version"]) == ("high", None, None, 1)

    url = f"/api/v1/cases/{body['id']}"
    resolved = _send(client, "patch", url, {"status": "resolved", "resolution": "New roller", "satisfaction": 5},
                     if_match=created["ETag"])  # fmt: skip
    assert resolved.status_code == 200, resolved.content
    out = resolved.json()
    assert (out["status"], out["resolution"], out["satisfaction"], out["version"]) == ("resolved", "New roller", 5, 2)
    assert out["resolved_at"] is not None and resolved["ETag"] == f'"{body["id"]}-2"'
    stored = Case.objects.get(pk=body["id"])
    assert (stored.status, stored.satisfaction, stored.resolved_at is not None) == ("resolved", 5, True)

    reopened = _send(client, "patch", url, {"status": "open", "version": 2})
    assert reopened.status_code == 200, reopened.content
    assert (reopened.json()["resolved_at"], reopened.json()["satisfaction"]) == (None, None)
    got = client.get(url)
    assert (got.json()["status"], got["ETag"]) == ("open", f'"{body["id"]}-3"')


def test_list_filters_and_pages_newest_first(rep, account, contact) -> None:
    from rapport.parties.services import account_create

    other_account = account_create(actor=rep, data={"name": "Second Ltd"})
    now = timezone.now()
    oldest = case_open(actor=rep, account=account, subject="A", kind="problem", opened_at=now - dt.timedelta(days=3))
    middle = case_open(actor=rep, account=other_account, subject="B", opened_at=now - dt.timedelta(days=2))
    newest = case_open(actor=rep, account=account, subject="C", kind="problem", opened_at=now - dt.timedelta(days=1))
    client = _client(rep)

    first = client.get("/api/v1/cases", {"limit": 2}).json()
    assert [i["id"] for i in first["items"]] == [newest.pk, middle.pk] and first["next"]
    second = client.get("/api/v1/cases", {"limit": 2, "cursor": first["next"]}).json()
    assert ([i["id"] for i in second["items"]], second["next"]) == ([oldest.pk], None)

    by_account = client.get("/api/v1/cases", {"account_id": account.pk}).json()["items"]
    assert [i["id"] for i in by_account] == [newest.pk, oldest.pk]
    assert [i["id"] for i in client.get("/api/v1/cases", {"kind": "question"}).json()["items"]] == [middle.pk]
    case_open(actor=rep, account=account, subject="D")  # new, like the rest
    closed = client.get("/api/v1/cases", {"status": "closed"}).json()["items"]
    assert closed == []


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "rant"}, "kind"),
        ({"channel": "fax"}, "channel"),
        ({"priority": "whenever"}, "priority"),
        ({"kind": "x" * 11}, "kind"),
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 301}, "subject"),
        ({"contact_id": "stranger"}, "contact_id"),
        ({"owner_id": 999_999}, "owner_id"),
        ({"account_id": "abc"}, "account_id"),
        ({"opened_at": "yesterday"}, "opened_at"),
        ({"opened_at": "2999-01-01T00:00:00Z"}, "opened_at"),
        ({"opened_at": "0001-01-01T00:00:00+14:00"}, "opened_at"),  # cannot even be stored in UTC
        ({"opened_at": "1899-12-31T23:59:59Z"}, "opened_at"),
        ({"status": "closed"}, "status"),  # not a field of the create body
    ],
)
def test_create_refuses_bad_input(rep, account, stranger, change, field) -> None:
    body = {"account_id": account.pk, "subject": "Help", **change}
    if body.get("contact_id") == "stranger":
        body["contact_id"] = stranger.pk
    errors = _problem(_send(_client(rep), "post", "/api/v1/cases", body), 422, "/problems/validation")["errors"]
    assert field in errors, errors
    assert Case.objects.count() == 0


def test_create_refuses_a_body_that_is_not_json(rep) -> None:
    response = _client(rep).post("/api/v1/cases", data="{not json", content_type=JSON)
    assert (response.status_code, response["Content-Type"]) == (400, PROBLEM), response.content
    assert Case.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"status": "solved"}, "status"),
        ({"kind": "rant"}, "kind"),
        ({"channel": "pigeon"}, "channel"),
        ({"satisfaction": 3}, "satisfaction"),  # the case is not done
        ({"status": "resolved", "satisfaction": 9}, "satisfaction"),
        ({"status": "resolved", "satisfaction": 0}, "satisfaction"),
        ({"subject": None}, "subject"),
        ({"owner_id": 999_999}, "owner_id"),
        ({"resolved_at": "2026-01-01T00:00:00Z"}, "resolved_at"),
    ],
)
def test_update_refuses_bad_input(rep, case, change, field) -> None:
    response = _send(_client(rep), "patch", f"/api/v1/cases/{case.pk}", {**change, "version": 1})
    errors = _problem(response, 422, "/problems/validation")["errors"]
    assert field in errors, errors
    stored = Case.objects.get(pk=case.pk)
    assert (stored.status, stored.satisfaction, stored.resolved_at, stored.version) == ("new", None, None, 1)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "solved"}, "status"),
        ({"kind": "rant"}, "kind"),
        ({"cursor": "garbage"}, "cursor"),
        ({"limit": 0}, "limit"),
    ],
)
def test_list_refuses_bad_filters(rep, case, params, field) -> None:
    errors = _problem(_client(rep).get("/api/v1/cases", params), 422, "/problems/validation")["errors"]
    assert field in errors, errors


def test_unknown_ids_are_not_found(rep) -> None:
    _problem(_client(rep).get("/api/v1/cases/999999"), 404, "/problems/not-found")
    _problem(_client(rep).get("/api/v1/cases/0"), 422, "/problems/validation")


# --- versions ------------------------------------------------------------------------------


def test_a_stale_version_is_409_with_the_current_version(rep, teammate, case) -> None:
    url = f"/api/v1/cases/{case.pk}"
    assert _send(_client(teammate), "patch", url, {"priority": "low", "version": 1}).status_code == 200
    stale = _send(_client(rep), "patch", url, {"status": "closed", "version": 1})
    body = _problem(stale, 409, "/problems/stale-version")
    assert body["current_version"] == 2
    stored = Case.objects.get(pk=case.pk)
    assert (stored.status, stored.priority, stored.resolved_at, stored.version) == ("new", "low", None, 2)


def test_a_stale_if_match_is_412(rep, case) -> None:
    response = _send(_client(rep), "patch", f"/api/v1/cases/{case.pk}", {"status": "closed"}, if_match=f'"{case.pk}-7"')
    assert _problem(response, 412, "/problems/precondition-failed")["current_version"] == 1
    assert Case.objects.get(pk=case.pk).status == "new"


def test_an_update_must_say_which_version(rep, case) -> None:
    response = _send(_client(rep), "patch", f"/api/v1/cases/{case.pk}", {"status": "closed"})
    _problem(response, 428, "/problems/precondition-required")
    assert Case.objects.get(pk=case.pk).status == "new"
