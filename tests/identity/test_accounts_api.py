"""The account identity API: permission matrix of every endpoint, decisions, merge and undo, bad input, fuzzing."""

from __future__ import annotations

import json

import pytest
from tests.fuzzing import api_schema_of, fuzz_operations, operations_of

from rapport.core.choices import Role, TokenScope
from rapport.core.tokens import api_token_create
from rapport.parties.choices import DuplicateSource, DuplicateStatus
from rapport.parties.duplicates import PairProposal, duplicate_pairs_record
from rapport.parties.merge_accounts import account_merge
from rapport.parties.models import Account, AccountDuplicatePair, AccountMerge
from rapport.parties.services import account_create, account_update

from .test_accounts_merge import account_world

JSON = "application/json"


@pytest.fixture
def setup(rep, other_rep, analyst, admin_user, make_user, team_a):
    survivor = account_create(actor=rep, data={"name": "Acme Ltd", "website": "acme.test"})
    duplicate = account_create(actor=rep, data={"name": "ACME Limited", "description": "Widgets"})
    duplicate_pairs_record(
        pairs=[PairProposal(survivor.pk, duplicate.pk, 0.93, {"fields": {"name": {"level": 4, "label": "same"}}})],
        source=DuplicateSource.BATCH,
        kind="account",
    )
    spare_a = account_create(actor=rep, data={"name": "Globex"})
    spare_b = account_create(actor=rep, data={"name": "Globex Corp"})
    merged = account_merge(actor=rep, survivor=spare_a, duplicate=spare_b)
    return {
        "survivor": survivor,
        "duplicate": duplicate,
        "pair": AccountDuplicatePair.objects.get(account_a=survivor),
        "merge": merged,
        "users": {"anonymous": None, "other_team": other_rep, "analyst": analyst,
                  "contact_merger": make_user(Role.SERVICE_MANAGER, team_a), "owner": rep, "admin": admin_user},
    }


def _call(client, method: str, url: str, body=None):
    if method == "get":
        return client.get(url)
    return client.post(url, data=json.dumps(body or {}), content_type=JSON)


def _endpoints(s) -> dict[str, tuple[str, str, dict | None, int]]:
    pair, survivor, duplicate, merge = s["pair"], s["survivor"], s["duplicate"], s["merge"]
    return {
        "queue": ("get", "/api/v1/account-duplicates", None, 200),
        "pair": ("get", f"/api/v1/account-duplicates/{pair.pk}", None, 200),
        "decision": ("post", f"/api/v1/account-duplicates/{pair.pk}/decision", {"decision": "skip"}, 200),
        "accept": ("post", "/api/v1/account-duplicates/accept", {"min_probability": 0.9}, 200),
        "merge": ("post", f"/api/v1/accounts/{survivor.pk}/merge",
                  {"duplicate_id": duplicate.pk, "survivor_version": survivor.version, "duplicate_version": 1}, 201),
        "merge_get": ("get", f"/api/v1/account-merges/{merge.pk}", None, 200),
        "undo": ("post", f"/api/v1/account-merges/{merge.pk}/undo", None, 200),
    }


@pytest.mark.parametrize("who", ["anonymous", "other_team", "analyst", "contact_merger", "owner", "admin"])
@pytest.mark.parametrize("endpoint", ["queue", "pair", "decision", "accept", "merge", "merge_get", "undo"])
def test_permission_matrix(setup, client_of, who, endpoint):
    method, url, body, allowed = _endpoints(setup)[endpoint]
    ids = (setup["survivor"].pk, setup["duplicate"].pk, setup["merge"].survivor_id)
    before = account_world(*ids)
    response = _call(client_of(setup["users"][who]), method, url, body)
    listing = endpoint in ("queue", "accept")
    expected = {"anonymous": 401, "analyst": 403, "contact_merger": 403,
                "other_team": 200 if listing else 404}.get(who, allowed)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response["Content-Type"] == "application/problem+json"
        assert account_world(*ids) == before
    if endpoint == "queue" and expected == 200:
        ids_seen = [item["id"] for item in response.json()["items"]]
        assert ids_seen == ([] if who == "other_team" else [setup["pair"].pk])
    if endpoint == "accept" and expected == 200:
        assert response.json()["merged"] == (0 if who == "other_team" else 1)


def test_the_pair_shows_both_accounts_the_evidence_and_the_defaults(setup, client_of):
    body = client_of(setup["users"]["owner"]).get(f"/api/v1/account-duplicates/{setup['pair'].pk}").json()
    survivor, duplicate = setup["survivor"], setup["duplicate"]
    assert (body["survivor_id"], body["duplicate_id"]) == (survivor.pk, duplicate.pk)
    assert sorted(body["accounts"]) == sorted([str(survivor.pk), str(duplicate.pk)])
    assert body["account_a"]["name"] == "Acme Ltd"
    fields = {row["name"]: row for row in body["fields"]}
    assert fields["description"] == {"name": "description", "label": "description", "survivor_value": "",
                                     "duplicate_value": "Widgets", "rule": "recent", "default": "duplicate",
                                     "evidence": None}
    assert fields["name"]["evidence"] == {"level": 4, "label": "same"}


def test_a_merge_decision_needs_the_versions_and_refuses_stale_ones(setup, client_of):
    owner = setup["users"]["owner"]
    client = client_of(owner)
    pair, survivor, duplicate = setup["pair"], setup["survivor"], setup["duplicate"]
    url = f"/api/v1/account-duplicates/{pair.pk}/decision"
    assert client.post(url, data=json.dumps({"decision": "merge"}), content_type=JSON).status_code == 428
    account_update(actor=owner, account=Account.objects.get(pk=duplicate.pk), data={"tier": "gold"},
                   expected_version=None)
    before = account_world(survivor.pk, duplicate.pk)
    stale = client.post(url, data=json.dumps(
        {"decision": "merge", "versions": {str(survivor.pk): survivor.version, str(duplicate.pk): 1}}),
        content_type=JSON)
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    assert account_world(survivor.pk, duplicate.pk) == before
    done = client.post(url, data=json.dumps({"decision": "merge", "field_choices": {"name": "duplicate"},
                                             "versions": {str(survivor.pk): survivor.version, str(duplicate.pk): 2}}),
                       content_type=JSON)
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "merged" and done.json()["merge"]["duplicate_id"] == duplicate.pk
    assert Account.objects.get(pk=survivor.pk).name == "ACME Limited"


def test_not_a_duplicate_leaves_the_queue_for_good(setup, client_of):
    client = client_of(setup["users"]["owner"])
    pair = setup["pair"]
    response = client.post(f"/api/v1/account-duplicates/{pair.pk}/decision",
                           data=json.dumps({"decision": "not_duplicate"}), content_type=JSON)
    assert response.status_code == 200 and response.json()["status"] == "not_duplicate"
    assert client.get("/api/v1/account-duplicates").json()["items"] == []
    duplicate_pairs_record(pairs=[PairProposal(pair.account_b_id, pair.account_a_id, 0.99)],
                           source=DuplicateSource.BATCH, kind="account")
    assert AccountDuplicatePair.objects.get(pk=pair.pk).status == DuplicateStatus.NOT_DUPLICATE
    again = client.post(f"/api/v1/account-duplicates/{pair.pk}/decision", data=json.dumps({"decision": "skip"}),
                        content_type=JSON)
    assert again.status_code == 409


def test_merge_and_undo_through_the_api(setup, client_of):
    client = client_of(setup["users"]["owner"])
    survivor, duplicate = setup["survivor"], setup["duplicate"]
    before = account_world(survivor.pk, duplicate.pk)
    merged = client.post(f"/api/v1/accounts/{survivor.pk}/merge", data=json.dumps(
        {"duplicate_id": duplicate.pk, "survivor_version": 1, "duplicate_version": 1}), content_type=JSON)
    assert merged.status_code == 201, merged.content
    body = merged.json()
    assert body["survivor_changes"] == {"description": ["", "Widgets"]}
    assert client.get(f"/api/v1/account-merges/{body['id']}").json()["undone_at"] is None
    undone = client.post(f"/api/v1/account-merges/{body['id']}/undo")
    assert undone.status_code == 200
    assert undone.json()["account"]["id"] == duplicate.pk
    strip = {"version", "updated_at"}

    def clean(data):
        return {k: [{c: v for c, v in row.items() if c not in strip} for row in rows] for k, rows in data.items()}

    assert clean(account_world(survivor.pk, duplicate.pk)) == clean(before)
    twice = client.post(f"/api/v1/account-merges/{body['id']}/undo")
    assert twice.status_code == 409 and twice.json()["type"] == "/problems/merge-already-undone"
    # a contact merge id is not an account merge id
    assert client.get(f"/api/v1/merges/{body['id']}").status_code in (403, 404)


@pytest.mark.parametrize(
    ("url", "body", "status"),
    [
        ("/api/v1/account-duplicates?min_probability=2", None, 422),
        ("/api/v1/account-duplicates?min_probability=abc", None, 422),
        ("/api/v1/account-duplicates?cursor=nonsense", None, 422),
        ("/api/v1/account-duplicates?status=bogus", None, 422),
        ("/api/v1/account-duplicates/accept", {"min_probability": "NaN"}, 422),
        ("/api/v1/account-duplicates/accept", {"min_probability": -1}, 422),
        ("/api/v1/account-duplicates/accept", {}, 422),
        ("/api/v1/account-duplicates/999999/decision", {"decision": "skip"}, 404),
        ("PAIR/decision", {"decision": "explode"}, 422),
        ("PAIR/decision", {"decision": "merge", "survivor_id": 1, "versions": {"x": 1}}, 428),
        ("PAIR/decision", {"decision": "merge", "versions": "nope"}, 422),
        ("MERGE", {"duplicate_id": "x"}, 422),
        ("MERGE", {"duplicate_id": 999999, "survivor_version": 1, "duplicate_version": 1}, 404),
        ("MERGE", {"duplicate_id": "SELF", "survivor_version": 1, "duplicate_version": 1}, 422),
        ("MERGE", {"duplicate_id": "DUP", "survivor_version": 1, "duplicate_version": 1,
                   "field_choices": {"name": "neither"}}, 422),
        ("MERGE", {"duplicate_id": "DUP", "survivor_version": 1, "duplicate_version": 1,
                   "field_choices": {"no_such_field": "duplicate"}}, 422),
        ("MERGE", {"duplicate_id": "DUP", "survivor_version": 1, "duplicate_version": 1, "extra": 1}, 422),
        ("MERGE", {"duplicate_id": "DUP"}, 428),
        ("/api/v1/account-merges/999999/undo", None, 404),
        ("/api/v1/account-merges/abc", None, 422),
    ],
)
def test_bad_input_is_a_problem_never_a_500(setup, client_of, url, body, status):
    client = client_of(setup["users"]["owner"])
    survivor, duplicate = setup["survivor"], setup["duplicate"]
    url = url.replace("PAIR", f"/api/v1/account-duplicates/{setup['pair'].pk}").replace(
        "MERGE", f"/api/v1/accounts/{survivor.pk}/merge")
    if isinstance(body, dict) and body.get("duplicate_id") in ("SELF", "DUP"):
        body = {**body, "duplicate_id": survivor.pk if body["duplicate_id"] == "SELF" else duplicate.pk}
    if body is None and "undo" not in url:
        response = client.get(url)
    else:
        response = client.post(url, data=json.dumps(body or {}), content_type=JSON)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert AccountMerge.objects.count() == 1


def test_a_hierarchy_loop_is_a_422_problem(setup, client_of):
    owner = setup["users"]["owner"]
    survivor, duplicate = setup["survivor"], setup["duplicate"]
    child = account_create(actor=owner, data={"name": "Acme North", "parent_id": duplicate.pk})
    survivor = account_update(actor=owner, account=survivor, data={"parent_id": child.pk}, expected_version=None)
    response = client_of(owner).post(f"/api/v1/accounts/{survivor.pk}/merge", data=json.dumps(
        {"duplicate_id": duplicate.pk, "survivor_version": survivor.version, "duplicate_version": 1}),
        content_type=JSON)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert "field_choices.parent" in json.dumps(response.json())
    assert Account.objects.filter(pk=duplicate.pk).exists()


@pytest.fixture
def api_schema(db):
    with api_schema_of(r"^/api/v1/(account-duplicates|account-merges|accounts/\{account_id\}/merge)") as schema:
        yield schema


def test_no_server_errors(api_schema, rep) -> None:
    # given: accounts, pairs and a merge, and every account identity operation
    accounts = [account_create(actor=rep, data={"name": f"Fuzz {i} Ltd"}) for i in range(6)]
    duplicate_pairs_record(pairs=[PairProposal(accounts[0].pk, accounts[1].pk, 0.9),
                                  PairProposal(accounts[2].pk, accounts[3].pk, 0.5)],
                           source=DuplicateSource.BATCH, kind="account")
    account_merge(actor=rep, survivor=accounts[4], duplicate=accounts[5])
    _token, plain = api_token_create(actor=rep, name="fuzz", scope=TokenScope.READ_WRITE)
    operations = operations_of(api_schema)
    assert len(operations) == 7
    # when: generated requests (valid and invalid) are sent, then none is answered with a 5xx
    fuzz_operations(operations, token=plain, max_examples=15)
