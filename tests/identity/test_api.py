"""The identity API: permission matrix of every endpoint, merges, decisions, undo, and bad input."""

from __future__ import annotations

import json

import pytest

from rapport.parties.choices import DuplicateSource, DuplicateStatus
from rapport.parties.duplicates import PairProposal, duplicate_pairs_record
from rapport.parties.merge import contact_merge
from rapport.parties.models import Contact, ContactMerge, DuplicatePair
from rapport.parties.services import contact_update

from .conftest import world

JSON = "application/json"


@pytest.fixture
def setup(rep, other_rep, analyst, admin_user, make_contact):
    survivor = make_contact(rep, first_name="Ada", last_name="Lovelace", emails=["ada@x.test"])
    duplicate = make_contact(rep, first_name="Ada", last_name="Lovelac", title="Countess")
    duplicate_pairs_record(
        pairs=[PairProposal(survivor.pk, duplicate.pk, 0.93, {"fields": {"surname": {"level": 2, "label": "x"}}})],
        source=DuplicateSource.BATCH,
    )
    spare_a = make_contact(rep, first_name="Grace", last_name="Hopper")
    spare_b = make_contact(rep, first_name="Grace", last_name="Hoper")
    merged = contact_merge(actor=rep, survivor=spare_a, duplicate=spare_b)
    return {
        "survivor": survivor,
        "duplicate": duplicate,
        "pair": DuplicatePair.objects.get(contact_a=survivor),
        "merge": merged,
        "users": {"anonymous": None, "other_team": other_rep, "analyst": analyst, "owner": rep, "admin": admin_user},
    }


def _call(client, method: str, url: str, body=None):
    if method == "get":
        return client.get(url)
    return client.post(url, data=json.dumps(body or {}), content_type=JSON)


def _endpoints(s) -> dict[str, tuple[str, str, dict | None, int]]:
    pair, survivor, duplicate, merge = s["pair"], s["survivor"], s["duplicate"], s["merge"]
    return {
        "queue": ("get", "/api/v1/duplicates", None, 200),
        "pair": ("get", f"/api/v1/duplicates/{pair.pk}", None, 200),
        "decision": ("post", f"/api/v1/duplicates/{pair.pk}/decision", {"decision": "skip"}, 200),
        "accept": ("post", "/api/v1/duplicates/accept", {"min_probability": 0.9}, 200),
        "merge": (
            "post",
            f"/api/v1/contacts/{survivor.pk}/merge",
            {"duplicate_id": duplicate.pk, "survivor_version": survivor.version, "duplicate_version": 1},
            201,
        ),
        "merge_get": ("get", f"/api/v1/merges/{merge.pk}", None, 200),
        "undo": ("post", f"/api/v1/merges/{merge.pk}/undo", None, 200),
    }


@pytest.mark.parametrize("who", ["anonymous", "other_team", "analyst", "owner", "admin"])
@pytest.mark.parametrize("endpoint", ["queue", "pair", "decision", "accept", "merge", "merge_get", "undo"])
def test_permission_matrix(setup, client_of, who, endpoint):
    method, url, body, allowed = _endpoints(setup)[endpoint]
    before = world(setup["survivor"].pk, setup["duplicate"].pk)
    response = _call(client_of(setup["users"][who]), method, url, body)
    listing = endpoint in ("queue", "accept")
    expected = {"anonymous": 401, "analyst": 403, "other_team": 200 if listing else 404}.get(who, allowed)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response["Content-Type"] == "application/problem+json"
        assert world(setup["survivor"].pk, setup["duplicate"].pk) == before
    if endpoint == "queue" and expected == 200:
        ids = [item["id"] for item in response.json()["items"]]
        assert ids == ([] if who == "other_team" else [setup["pair"].pk])
    if endpoint == "accept" and expected == 200:
        assert response.json()["merged"] == (0 if who == "other_team" else 1)


def test_the_pair_shows_both_contacts_the_evidence_and_the_defaults(setup, client_of):
    body = client_of(setup["users"]["owner"]).get(f"/api/v1/duplicates/{setup['pair'].pk}").json()
    survivor, duplicate = setup["survivor"], setup["duplicate"]
    assert (body["survivor_id"], body["duplicate_id"]) == (survivor.pk, duplicate.pk)
    assert sorted(body["contacts"]) == sorted([str(survivor.pk), str(duplicate.pk)])
    fields = {row["name"]: row for row in body["fields"]}
    assert fields["title"] == {
        "name": "title", "label": "job title", "survivor_value": "", "duplicate_value": "Countess",
        "rule": "recent", "default": "duplicate", "evidence": None,
    }
    assert fields["last_name"]["evidence"] == {"level": 2, "label": "x"}
    assert body["probability"] == 0.93


def test_a_merge_decision_needs_the_versions_and_refuses_stale_ones(setup, client_of):
    client = client_of(setup["users"]["owner"])
    pair, survivor, duplicate = setup["pair"], setup["survivor"], setup["duplicate"]
    url = f"/api/v1/duplicates/{pair.pk}/decision"
    before = world(survivor.pk, duplicate.pk)
    # no versions: 428
    missing = client.post(url, data=json.dumps({"decision": "merge"}), content_type=JSON)
    assert missing.status_code == 428
    # a stale version: 409 with the current one, nothing changed
    contact_update(actor=setup["users"]["owner"], contact=duplicate, data={"title": "Lady"}, expected_version=None)
    before = world(survivor.pk, duplicate.pk)
    stale = client.post(
        url,
        data=json.dumps({"decision": "merge", "versions": {str(survivor.pk): survivor.version, str(duplicate.pk): 1}}),
        content_type=JSON,
    )
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    assert world(survivor.pk, duplicate.pk) == before
    # the current versions: merged, with the reviewer's field choice
    done = client.post(
        url,
        data=json.dumps({
            "decision": "merge",
            "versions": {str(survivor.pk): survivor.version, str(duplicate.pk): 2},
            "field_choices": {"last_name": "duplicate"},
        }),
        content_type=JSON,
    )
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "merged"
    assert Contact.objects.get(pk=survivor.pk).last_name == "Lovelac"
    assert not Contact.objects.filter(pk=duplicate.pk).exists()
    # and the pair is decided: a second decision is a conflict
    again = client.post(url, data=json.dumps({"decision": "skip"}), content_type=JSON)
    assert again.status_code == 404  # its duplicate is gone, so the pair is no longer shown


def test_not_a_duplicate_leaves_the_queue_for_good(setup, client_of):
    client = client_of(setup["users"]["owner"])
    pair = setup["pair"]
    response = client.post(
        f"/api/v1/duplicates/{pair.pk}/decision", data=json.dumps({"decision": "not_duplicate"}), content_type=JSON
    )
    assert response.status_code == 200
    assert client.get("/api/v1/duplicates").json()["items"] == []
    recorded = duplicate_pairs_record(
        pairs=[PairProposal(pair.contact_b_id, pair.contact_a_id, 0.99)], source=DuplicateSource.BATCH
    )
    assert (recorded.created, recorded.updated, recorded.ignored) == (0, 0, 1)
    assert DuplicatePair.objects.get(pk=pair.pk).status == DuplicateStatus.NOT_DUPLICATE
    again = client.post(
        f"/api/v1/duplicates/{pair.pk}/decision", data=json.dumps({"decision": "skip"}), content_type=JSON
    )
    assert again.status_code == 409


def test_merge_and_undo_through_the_api(setup, client_of):
    client = client_of(setup["users"]["owner"])
    survivor, duplicate = setup["survivor"], setup["duplicate"]
    before = world(survivor.pk, duplicate.pk)
    merged = client.post(
        f"/api/v1/contacts/{survivor.pk}/merge",
        data=json.dumps({"duplicate_id": duplicate.pk, "survivor_version": 1, "duplicate_version": 1}),
        content_type=JSON,
    )
    assert merged.status_code == 201, merged.content
    body = merged.json()
    assert (body["survivor_id"], body["duplicate_id"]) == (survivor.pk, duplicate.pk)
    assert body["survivor_changes"] == {"title": ["", "Countess"]}
    got = client.get(f"/api/v1/merges/{body['id']}").json()
    assert got["undone_at"] is None
    undone = client.post(f"/api/v1/merges/{body['id']}/undo")
    assert undone.status_code == 200
    assert undone.json()["contact"]["id"] == duplicate.pk
    assert undone.json()["merge"]["undo_report"] == {"kept": {}, "lost": [], "stayed": {}}
    after = world(survivor.pk, duplicate.pk)
    strip = {"version", "updated_at"}

    def clean(data):
        return {k: [{c: v for c, v in row.items() if c not in strip} for row in rows] for k, rows in data.items()}

    assert clean(after) == clean(before)
    twice = client.post(f"/api/v1/merges/{body['id']}/undo")
    assert twice.status_code == 409
    assert twice.json()["type"] == "/problems/merge-already-undone"


@pytest.mark.parametrize(
    ("url", "body", "status"),
    [
        ("/api/v1/duplicates?min_probability=2", None, 422),
        ("/api/v1/duplicates?min_probability=abc", None, 422),
        ("/api/v1/duplicates?cursor=nonsense", None, 422),
        ("/api/v1/duplicates?status=bogus", None, 422),
        ("/api/v1/duplicates/accept", {"min_probability": "NaN"}, 422),
        ("/api/v1/duplicates/accept", {"min_probability": -1}, 422),
        ("/api/v1/duplicates/accept", {}, 422),
        ("/api/v1/duplicates/999999/decision", {"decision": "skip"}, 404),
        ("PAIR/decision", {"decision": "explode"}, 422),
        ("PAIR/decision", {"decision": "merge", "survivor_id": 1, "versions": {"x": 1}}, 428),
        ("PAIR/decision", {"decision": "merge", "versions": "nope"}, 422),
        ("MERGE", {"duplicate_id": "x"}, 422),
        ("MERGE", {"duplicate_id": 999999, "survivor_version": 1, "duplicate_version": 1}, 404),
        ("MERGE", {"duplicate_id": "SELF", "survivor_version": 1, "duplicate_version": 1}, 422),
        ("MERGE", {"duplicate_id": "DUP", "survivor_version": 1, "duplicate_version": 1,
                   "field_choices": {"title": "neither"}}, 422),
        ("MERGE", {"duplicate_id": "DUP", "survivor_version": 1, "duplicate_version": 1, "extra": 1}, 422),
        ("MERGE", {"duplicate_id": "DUP"}, 428),
        ("/api/v1/merges/999999/undo", None, 404),
        ("/api/v1/merges/abc", None, 422),
    ],
)
def test_bad_input_is_a_problem_never_a_500(setup, client_of, url, body, status):
    client = client_of(setup["users"]["owner"])
    survivor, duplicate = setup["survivor"], setup["duplicate"]
    url = url.replace("PAIR", f"/api/v1/duplicates/{setup['pair'].pk}").replace(
        "MERGE", f"/api/v1/contacts/{survivor.pk}/merge"
    )
    if isinstance(body, dict) and body.get("duplicate_id") in ("SELF", "DUP"):
        body = {**body, "duplicate_id": survivor.pk if body["duplicate_id"] == "SELF" else duplicate.pk}
    if body is None and "undo" not in url:
        response = client.get(url)
    else:
        response = client.post(url, data=json.dumps(body or {}), content_type=JSON)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert ContactMerge.objects.count() == 1
