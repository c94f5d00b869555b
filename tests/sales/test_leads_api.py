"""The leads API end to end, and its permission matrix: anonymous / other team / role without the
right / allowed, on every endpoint. Errors are problem+json and leave nothing written."""

from __future__ import annotations

import json

import pytest
from tests.conftest import client_for

from rapport.core.choices import Role
from rapport.sales.models import Lead, Opportunity
from rapport.sales.models_leads import AssignmentRule, LeadScoringRule
from rapport.sales.services_leads import lead_create, setup_create

JSON = "application/json"
PROBLEM = "application/problem+json"
pytestmark = pytest.mark.django_db


def _call(user, method: str, url: str, body: dict | None = None, **headers):
    client = client_for(user)
    data = json.dumps(body) if body is not None else None
    return getattr(client, method)(url, data=data, content_type=JSON, **headers)


@pytest.fixture
def lead(rep):
    return lead_create(actor=rep, data={"first_name": "Ada", "last_name": "Byron", "email": "ada@example.org",
                                        "company": "Engines"})


def test_create_get_list_patch_delete(rep) -> None:
    created = _call(rep, "post", "/api/v1/leads", {"first_name": "Ada", "email": "ADA@example.org", "source": "fair"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["email"] == "ada@example.org" and body["source"] == "fair" and body["owner_id"] == rep.pk
    assert body["possible_duplicates"] == {"contacts": [], "leads": [], "hidden": 0}
    second = _call(rep, "post", "/api/v1/leads", {"last_name": "B", "email": "ada@example.org"}).json()
    assert [m["lead_id"] for m in second["possible_duplicates"]["leads"]] == [body["id"]]
    got = _call(rep, "get", f"/api/v1/leads/{body['id']}")
    assert got.status_code == 200 and got["ETag"]
    patched = _call(rep, "patch", f"/api/v1/leads/{body['id']}", {"company": "Engines"}, HTTP_IF_MATCH=got["ETag"])
    assert patched.status_code == 200 and patched.json()["version"] == 2
    stale = _call(rep, "patch", f"/api/v1/leads/{body['id']}", {"company": "Late"}, HTTP_IF_MATCH=got["ETag"])
    assert stale.status_code == 412 and stale["Content-Type"] == PROBLEM
    missing = _call(rep, "patch", f"/api/v1/leads/{body['id']}", {"company": "No version"})
    assert missing.status_code == 428
    listed = _call(rep, "get", "/api/v1/leads?source=fair").json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    assert _call(rep, "delete", f"/api/v1/leads/{body['id']}?version=2").status_code == 204
    assert not Lead.objects.filter(pk=body["id"]).exists()


def test_keyset_pages_and_filters(rep) -> None:
    for i in range(5):
        lead_create(actor=rep, data={"email": f"l{i}@example.org"}, campaign="c" if i % 2 else "")
    first = _call(rep, "get", "/api/v1/leads?limit=2").json()
    second = _call(rep, "get", f"/api/v1/leads?limit=2&cursor={first['next']}").json()
    third = _call(rep, "get", f"/api/v1/leads?limit=2&cursor={second['next']}").json()
    ids = [i["id"] for page in (first, second, third) for i in page["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 5 and third["next"] is None
    assert len(_call(rep, "get", "/api/v1/leads?campaign=c").json()["items"]) == 2
    assert _call(rep, "get", "/api/v1/leads?status=bogus").status_code == 422
    assert len(_call(rep, "get", "/api/v1/leads?owner=me").json()["items"]) == 5


def test_bad_input_is_problem_json_and_writes_nothing(rep) -> None:
    for body in ({"email": "nope"}, {"employees": -1}, {"country": "DEU"}, {"title": "only a title"},
                 {"email": "a\u0000b@example.org"}):
        response = _call(rep, "post", "/api/v1/leads", body)
        assert response.status_code == 422, (body, response.content)
        assert response["Content-Type"] == PROBLEM
    assert _call(rep, "get", "/api/v1/leads/999999").status_code == 404
    assert Lead.objects.count() == 0


def test_status_log_timeline_assign_convert(rep, teammate, manager, pipeline, lead) -> None:
    url = f"/api/v1/leads/{lead.pk}"
    bad = _call(rep, "post", f"{url}/status", {"status": "disqualified", "version": 1})
    assert bad.status_code == 422 and "reason" in bad.json()["errors"]
    not_yet = _call(rep, "post", f"{url}/convert", {"version": 1})
    assert not_yet.status_code == 409 and not_yet.json()["type"] == "/problems/lead-not-convertible"
    assert _call(rep, "post", f"{url}/timeline", {"kind": "call", "subject": "Intro"}).status_code == 201
    assert _call(rep, "post", f"{url}/timeline", {"kind": "fax", "subject": "x"}).status_code == 422
    version = Lead.objects.get(pk=lead.pk).version
    assert _call(rep, "post", f"{url}/status", {"status": "qualified", "version": version}).status_code == 200
    setup_create(actor=manager, model=AssignmentRule, data={"name": "T", "strategy": "user", "user_id": teammate.pk})
    assert _call(rep, "post", f"{url}/assign").json()["owner_id"] == teammate.pk
    kinds = [e["kind"] for e in _call(rep, "get", f"{url}/timeline").json()["items"]]
    assert kinds[0] == "assigned" and "call" in kinds and "status" in kinds
    version = Lead.objects.get(pk=lead.pk).version
    converted = _call(rep, "post", f"{url}/convert", {"version": version, "amount": "5000",
                                                      "opportunity_name": "Engines deal"})
    assert converted.status_code == 200, converted.content
    result = converted.json()
    assert result["account_created"] and result["contact_created"] and result["history_moved"] == 1
    opp = Opportunity.objects.get(pk=result["opportunity_id"])
    assert (opp.name, opp.amount, opp.owner) == ("Engines deal", 5000, teammate)
    again = _call(rep, "post", f"{url}/convert", {"version": version + 1})
    assert again.status_code == 409 and again.json()["type"] == "/problems/lead-converted"
    assert Opportunity.objects.count() == 1


def test_scoring_rules_api_and_breakdown(manager, rep, lead, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # leads are rescored after the commit
        created = _call(manager, "post", "/api/v1/leads/scoring-rules", {
            "name": "Has company", "kind": "fit", "field": "company", "operator": "present", "points": 15})
    assert created.status_code == 201, created.content
    rule = created.json()
    assert Lead.objects.get(pk=lead.pk).score == 15  # existing leads rescored after the change
    detail = _call(rep, "get", f"/api/v1/leads/{lead.pk}").json()
    assert detail["score_breakdown"] == [{"rule_id": rule["id"], "rule": "Has company", "kind": "fit",
                                          "points": 15, "times": 1}]
    with django_capture_on_commit_callbacks(execute=True):
        patched = _call(manager, "patch", f"/api/v1/leads/scoring-rules/{rule['id']}", {"points": 7, "version": 1})
    assert patched.status_code == 200 and patched.json()["points"] == 7
    assert Lead.objects.get(pk=lead.pk).score == 7
    assert _call(manager, "post", "/api/v1/leads/scoring-rules", {
        "name": "x", "kind": "fit", "field": "nope", "operator": "eq", "points": 1}).status_code == 422
    with django_capture_on_commit_callbacks(execute=True):
        assert _call(manager, "delete", f"/api/v1/leads/scoring-rules/{rule['id']}").status_code == 204
    assert Lead.objects.get(pk=lead.pk).score == 0


def test_web_forms_api_returns_the_embed_snippet(manager) -> None:
    response = _call(manager, "post", "/api/v1/leads/web-forms", {"name": "Demo", "fields": ["email", "company"],
                                                                  "required": ["email"]})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["public_key"] and f"/f/{body['public_key']}/" in body["embed_html"]


# --- permission matrix -------------------------------------------------------------------------------


def _endpoints(lead_id: int, rule_id: int) -> list[tuple[str, str, dict | None]]:
    return [
        ("get", "/api/v1/leads", None),
        ("post", "/api/v1/leads", {"email": "new@example.org"}),
        ("get", f"/api/v1/leads/{lead_id}", None),
        ("patch", f"/api/v1/leads/{lead_id}", {"company": "X", "version": 1}),
        ("post", f"/api/v1/leads/{lead_id}/status", {"status": "contacted", "version": 1}),
        ("get", f"/api/v1/leads/{lead_id}/timeline", None),
        ("post", f"/api/v1/leads/{lead_id}/timeline", {"kind": "note", "body": "hi"}),
        ("post", f"/api/v1/leads/{lead_id}/assign", None),
        ("get", f"/api/v1/leads/{lead_id}/conversion-candidates", None),
        ("post", f"/api/v1/leads/{lead_id}/convert", {"version": 1}),
        ("delete", f"/api/v1/leads/{lead_id}?version=1", None),
        ("get", "/api/v1/leads/scoring-rules", None),
        ("post", "/api/v1/leads/scoring-rules", {"name": "r", "field": "company", "operator": "present", "points": 1}),
        ("patch", f"/api/v1/leads/scoring-rules/{rule_id}", {"points": 2, "version": 1}),
        ("delete", f"/api/v1/leads/scoring-rules/{rule_id}", None),
        ("get", "/api/v1/leads/assignment-rules", None),
        ("get", "/api/v1/leads/web-forms", None),
    ]


def test_anonymous_gets_401_everywhere(lead, manager) -> None:
    rule = setup_create(actor=manager, model=LeadScoringRule, data={
        "name": "r", "kind": "fit", "field": "company", "operator": "present", "points": 1})
    for method, url, body in _endpoints(lead.pk, rule.pk):
        response = _call(None, method, url, body)
        assert response.status_code == 401, (method, url)
    assert Lead.objects.count() == 1


def test_other_team_sees_nothing_and_changes_nothing(lead, other_rep, manager) -> None:
    rule = setup_create(actor=manager, model=LeadScoringRule, data={
        "name": "r", "kind": "fit", "field": "company", "operator": "present", "points": 1})
    for method, url, body in _endpoints(lead.pk, rule.pk)[2:11]:
        response = _call(other_rep, method, url, body)
        assert response.status_code == 404, (method, url, response.content)
        assert response["Content-Type"] == PROBLEM
    assert _call(other_rep, "get", "/api/v1/leads").json()["items"] == []
    # reps may not see or change the lead set-up
    for method, url, body in _endpoints(lead.pk, rule.pk)[11:]:
        assert _call(other_rep, method, url, body).status_code == 403, (method, url)
    lead.refresh_from_db()
    assert (lead.version, lead.company, lead.status) == (1, "Engines", "new")
    assert LeadScoringRule.objects.get().points == 1


def test_role_without_the_right(lead, make_user, team_a, analyst) -> None:
    agent = make_user(Role.SERVICE_AGENT, team_a)
    assert _call(agent, "get", "/api/v1/leads").status_code == 403
    assert _call(agent, "post", "/api/v1/leads", {"email": "x@example.org"}).status_code == 403
    # analysts read, never write
    assert _call(analyst, "get", f"/api/v1/leads/{lead.pk}").status_code == 200
    assert _call(analyst, "patch", f"/api/v1/leads/{lead.pk}", {"company": "X", "version": 1}).status_code == 403
    assert _call(analyst, "post", f"/api/v1/leads/{lead.pk}/convert", {"version": 1}).status_code == 403
    assert Lead.objects.get(pk=lead.pk).version == 1


def test_teammate_and_manager_may(lead, teammate, manager, admin_user) -> None:
    assert _call(teammate, "patch", f"/api/v1/leads/{lead.pk}", {"company": "T", "version": 1}).status_code == 200
    assert _call(manager, "get", f"/api/v1/leads/{lead.pk}").status_code == 200
    assert _call(manager, "get", "/api/v1/leads/assignment-rules").status_code == 200
    assert _call(admin_user, "get", "/api/v1/leads/web-forms").status_code == 200
