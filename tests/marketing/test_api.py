"""The marketing API end to end: the permission matrix of every resource, happy paths, and
problem+json for bad input with nothing written."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from rapport.core.choices import Role
from rapport.marketing.models import Campaign, CampaignMember
from rapport.parties.services import account_create

from .conftest import SENT

JSON = "application/json"
PROBLEM = "application/problem+json"
WHO = ["anonymous", "other_team", "other_marketer", "rep", "analyst", "teammate_marketer", "marketer", "admin"]
READ = {
    "anonymous": 401, "other_team": 404, "other_marketer": 404, "rep": 200, "analyst": 200,
    "teammate_marketer": 200, "marketer": 200, "admin": 200,
}  # fmt: skip
WRITE = {**READ, "rep": 403, "analyst": 403}
CREATE = {**WRITE, "other_team": 403, "other_marketer": 201, "teammate_marketer": 201, "marketer": 201, "admin": 201}


def _client(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _send(client: Client, method: str, url: str, body, **headers):
    return getattr(client, method)(url, data=json.dumps(body), content_type=JSON, **headers)


@pytest.fixture
def users(marketer, other_marketer, rep, other_rep, analyst, admin_user, make_user, team_a):
    return {
        "anonymous": None,
        "other_team": other_rep,
        "other_marketer": other_marketer,
        "rep": rep,
        "analyst": analyst,
        "teammate_marketer": make_user(Role.MARKETER, team_a, username="teammate_marketer"),
        "marketer": marketer,
        "admin": admin_user,
    }


@pytest.fixture
def api(marketer) -> Client:
    return _client(marketer)


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    return response.json()


# --- permission matrix ---------------------------------------------------------------------


@pytest.mark.parametrize("who", WHO)
def test_campaign_read_matrix(users, campaign, members, who) -> None:
    client = _client(users[who])
    expected = READ[who]
    for url in (
        f"/api/v1/campaigns/{campaign.pk}",
        f"/api/v1/campaigns/{campaign.pk}/members",
        f"/api/v1/campaigns/{campaign.pk}/stats",
        f"/api/v1/campaign-members/{members[0].pk}",
    ):
        response = client.get(url)
        assert response.status_code == expected, (url, response.content)
        if expected != 200:
            assert response["Content-Type"] == PROBLEM
    listed = client.get("/api/v1/campaigns")
    if expected == 401:
        assert listed.status_code == 401
    else:
        assert listed.status_code == 200
        assert (campaign.pk in [c["id"] for c in listed.json()["items"]]) == (expected == 200)


@pytest.mark.parametrize("who", WHO)
def test_campaign_create_matrix(users, who) -> None:
    response = _send(_client(users[who]), "post", "/api/v1/campaigns", {"name": "Autumn", "channel": "sms"})
    assert response.status_code == CREATE[who], response.content
    assert Campaign.objects.filter(name="Autumn").count() == (1 if CREATE[who] == 201 else 0)
    if CREATE[who] == 201:
        body = response.json()
        assert (body["name"], body["channel"], body["status"], body["owner_id"], body["version"]) == (
            "Autumn", "sms", "planned", users[who].pk, 1,
        )  # fmt: skip
        assert response["ETag"] == f'"{body["id"]}-1"'
    else:
        assert response["Content-Type"] == PROBLEM


@pytest.mark.parametrize("who", WHO)
def test_campaign_update_matrix(users, campaign, who) -> None:
    response = _send(
        _client(users[who]), "patch", f"/api/v1/campaigns/{campaign.pk}", {"status": "running", "version": 1}
    )
    assert response.status_code == WRITE[who], response.content
    stored = Campaign.objects.get(pk=campaign.pk)
    assert (stored.status, stored.version) == (("running", 2) if WRITE[who] == 200 else ("planned", 1))


@pytest.mark.parametrize("who", WHO)
def test_members_add_matrix(users, campaign, accounts, who) -> None:
    response = _send(
        _client(users[who]),
        "post",
        f"/api/v1/campaigns/{campaign.pk}/members",
        {"recipients": [{"account_id": accounts[1].pk}]},
    )
    assert response.status_code == WRITE[who], response.content
    assert CampaignMember.objects.filter(campaign=campaign).count() == (1 if WRITE[who] == 200 else 0)


@pytest.mark.parametrize("who", WHO)
def test_response_record_matrix(users, members, who) -> None:
    member = members[0]
    response = _send(
        _client(users[who]), "post", f"/api/v1/campaign-members/{member.pk}/responses", {"event": "opened"}
    )
    assert response.status_code == WRITE[who], response.content
    member.refresh_from_db()
    assert (member.opened_at is not None) == (WRITE[who] == 200)


# --- happy paths ---------------------------------------------------------------------------


def test_campaign_lifecycle_through_the_api(api, accounts, contact) -> None:
    created = _send(
        api,
        "post",
        "/api/v1/campaigns",
        {"name": "Winter", "starts_on": "2026-12-01", "ends_on": "2026-12-31", "description": "Snow"},
    )
    assert created.status_code == 201, created.content
    campaign_id = created.json()["id"]
    etag = created["ETag"]

    got = api.get(f"/api/v1/campaigns/{campaign_id}")
    assert got.status_code == 200 and got["ETag"] == etag
    assert (got.json()["starts_on"], got.json()["ends_on"], got.json()["description"]) == (
        "2026-12-01", "2026-12-31", "Snow",
    )  # fmt: skip

    patched = _send(api, "patch", f"/api/v1/campaigns/{campaign_id}", {"status": "running"}, HTTP_IF_MATCH=etag)
    assert patched.status_code == 200, patched.content
    assert (patched.json()["status"], patched.json()["version"], patched["ETag"]) == (
        "running", 2, f'"{campaign_id}-2"',
    )  # fmt: skip

    added = _send(
        api,
        "post",
        f"/api/v1/campaigns/{campaign_id}/members",
        {
            "recipients": [
                {"account_id": accounts[0].pk, "contact_id": contact.pk},
                {"account_id": accounts[1].pk},
                {"account_id": accounts[1].pk, "contact_id": None},
            ],
            "sent_at": "2026-12-01T08:00:00Z",
        },
    )
    assert added.status_code == 200, added.content
    assert added.json() == {"added": 2, "skipped": 1}
    again = _send(
        api, "post", f"/api/v1/campaigns/{campaign_id}/members", {"recipients": [{"account_id": accounts[1].pk}]}
    )
    assert again.json() == {"added": 0, "skipped": 1}

    page = api.get(f"/api/v1/campaigns/{campaign_id}/members").json()
    assert [(m["account_id"], m["contact_id"], m["sent_at"]) for m in page["items"]] == [
        (accounts[0].pk, contact.pk, "2026-12-01T08:00:00Z"),
        (accounts[1].pk, None, "2026-12-01T08:00:00Z"),
    ]
    member_id = page["items"][0]["id"]

    clicked = _send(
        api, "post", f"/api/v1/campaign-members/{member_id}/responses", {"event": "clicked", "at": "2026-12-01T09:30Z"}
    )
    assert clicked.status_code == 200, clicked.content
    body = clicked.json()
    assert (body["opened_at"], body["clicked_at"], body["responded_at"], body["version"]) == (
        "2026-12-01T09:30:00Z", "2026-12-01T09:30:00Z", None, 2,
    )  # fmt: skip

    stats = api.get(f"/api/v1/campaigns/{campaign_id}/stats").json()
    assert stats == {
        "campaign_id": campaign_id, "members": 2, "sent": 2, "opened": 1, "clicked": 1, "responded": 0,
        "unsubscribed": 0, "open_rate": 0.5, "click_rate": 0.5, "response_rate": 0.0, "unsubscribe_rate": 0.0,
        "click_to_open_rate": 1.0,
    }  # fmt: skip


def test_members_are_paged_with_a_cursor(api, rep, campaign) -> None:
    many = [account_create(actor=rep, data={"name": f"Paged {i}"}) for i in range(5)]
    _send(api, "post", f"/api/v1/campaigns/{campaign.pk}/members", {"recipients": [{"account_id": a.pk} for a in many]})
    seen, cursor, pages = [], None, 0
    while True:
        url = f"/api/v1/campaigns/{campaign.pk}/members?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(url).json()
        seen += [m["account_id"] for m in page["items"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break
    assert pages == 3 and seen == [a.pk for a in many]
    bad = _problem(api.get(f"/api/v1/campaigns/{campaign.pk}/members?cursor=nonsense"), 422)
    assert "cursor" in bad["errors"]


def test_campaign_list_filters_by_status(api, marketer, campaign) -> None:
    running = _send(api, "post", "/api/v1/campaigns", {"name": "Live", "status": "running"}).json()
    listed = api.get("/api/v1/campaigns?status=running").json()
    assert [c["id"] for c in listed["items"]] == [running["id"]]
    everything = api.get("/api/v1/campaigns").json()
    assert [c["id"] for c in everything["items"]] == [running["id"], campaign.pk]  # newest first


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "channel": "pigeon"}, "channel"),
        ({"name": "X", "status": "paused"}, "status"),
        ({"name": ""}, "name"),
        ({}, "name"),
        ({"name": "X", "starts_on": "2026-07-02", "ends_on": "2026-07-01"}, "ends_on"),
        ({"name": "X", "starts_on": "soon"}, "starts_on"),
        ({"name": "X", "owner_id": 1}, "owner_id"),
        ({"name": "X\u0000"}, "__all__"),  # core.schemas refuses NUL characters for the whole body
    ],
)
def test_bad_campaign_is_a_problem_with_field_errors(api, body, field) -> None:
    problem = _problem(_send(api, "post", "/api/v1/campaigns", body), 422)
    assert problem["type"] == "/problems/validation"
    assert field in problem["errors"], problem
    assert Campaign.objects.count() == 0


def test_unknown_status_filter_is_a_problem(api) -> None:
    problem = _problem(api.get("/api/v1/campaigns?status=paused"), 422)
    assert list(problem["errors"]) == ["status"]


def test_bad_patch_changes_nothing(api, campaign) -> None:
    problem = _problem(
        _send(api, "patch", f"/api/v1/campaigns/{campaign.pk}", {"channel": "pigeon", "version": 1}), 422
    )
    assert list(problem["errors"]) == ["channel"]
    problem = _problem(_send(api, "patch", f"/api/v1/campaigns/{campaign.pk}", {"name": None, "version": 1}), 422)
    assert "name" in problem["errors"]
    stored = Campaign.objects.get(pk=campaign.pk)
    assert (stored.channel, stored.name, stored.version) == ("email", "Summer sale", 1)


def test_stale_version_is_a_conflict(api, campaign) -> None:
    first = _send(api, "patch", f"/api/v1/campaigns/{campaign.pk}", {"name": "First", "version": 1})
    assert first.status_code == 200
    stale = _problem(_send(api, "patch", f"/api/v1/campaigns/{campaign.pk}", {"name": "Second", "version": 1}), 409)
    assert (stale["type"], stale["current_version"]) == ("/problems/stale-version", 2)
    stale_etag = _problem(
        _send(api, "patch", f"/api/v1/campaigns/{campaign.pk}", {"name": "Third"}, HTTP_IF_MATCH=f'"{campaign.pk}-1"'),
        412,
    )
    assert stale_etag["current_version"] == 2
    unversioned = _problem(_send(api, "patch", f"/api/v1/campaigns/{campaign.pk}", {"name": "Fourth"}), 428)
    assert unversioned["current_version"] == 2
    stored = Campaign.objects.get(pk=campaign.pk)
    assert (stored.name, stored.version) == ("First", 2)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event": "forwarded"}, "event"),
        ({"event": "opened", "at": "2026-05-31T09:00:00Z"}, "at"),  # before it was sent
        ({"event": "opened", "at": "yesterday"}, "at"),
        ({}, "event"),
    ],
)
def test_bad_response_is_a_problem_and_records_nothing(api, members, body, field) -> None:
    member = members[0]
    problem = _problem(_send(api, "post", f"/api/v1/campaign-members/{member.pk}/responses", body), 422)
    assert field in problem["errors"], problem
    member.refresh_from_db()
    assert (member.opened_at, member.version) == (None, 1)


def test_response_to_an_unknown_member_is_not_found(api) -> None:
    _problem(_send(api, "post", "/api/v1/campaign-members/999999/responses", {"event": "opened"}), 404)


@pytest.mark.parametrize(
    ("recipient", "field", "message"),
    [
        ({"account_id": 999999}, "recipients.0.account_id", "No such account."),
        ({"account_id": "x"}, "recipients.0.account_id", None),
        ({"contact_id": 5}, "recipients.0.account_id", None),
        ({"account_id": 1, "extra": True}, "recipients.0.extra", None),
    ],
)
def test_bad_recipients_are_a_problem_and_add_nothing(api, campaign, recipient, field, message) -> None:
    problem = _problem(_send(api, "post", f"/api/v1/campaigns/{campaign.pk}/members", {"recipients": [recipient]}), 422)
    assert field in problem["errors"], problem
    if message:
        assert problem["errors"][field] == [message]
    assert CampaignMember.objects.count() == 0


def test_a_contact_of_another_account_is_refused(api, campaign, accounts, contact) -> None:
    problem = _problem(
        _send(
            api,
            "post",
            f"/api/v1/campaigns/{campaign.pk}/members",
            {"recipients": [{"account_id": accounts[2].pk}, {"account_id": accounts[1].pk, "contact_id": contact.pk}]},
        ),
        422,
    )
    assert problem["errors"] == {"recipients.1.contact_id": ["This contact does not belong to the account."]}
    assert CampaignMember.objects.count() == 0


def test_an_account_of_another_team_is_refused_like_a_missing_one(api, campaign, other_rep) -> None:
    hidden = account_create(actor=other_rep, data={"name": "Hidden"})
    problem = _problem(
        _send(api, "post", f"/api/v1/campaigns/{campaign.pk}/members", {"recipients": [{"account_id": hidden.pk}]}),
        422,
    )
    assert problem["errors"] == {"recipients.0.account_id": ["No such account."]}


def test_empty_recipients_are_refused(api, campaign) -> None:
    problem = _problem(_send(api, "post", f"/api/v1/campaigns/{campaign.pk}/members", {"recipients": []}), 422)
    assert "recipients" in problem["errors"]


def test_members_sent_at_is_kept(api, campaign, accounts) -> None:
    _send(
        api,
        "post",
        f"/api/v1/campaigns/{campaign.pk}/members",
        {"recipients": [{"account_id": accounts[0].pk}], "sent_at": SENT.isoformat()},
    )
    assert CampaignMember.objects.get(campaign=campaign).sent_at == SENT
