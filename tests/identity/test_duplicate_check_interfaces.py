"""The create-time duplicate warning in the API and the contact form: access, blocking, queueing, escaping."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from tests.conftest import client_for

from rapport.parties.choices import DuplicateSource
from rapport.parties.models import Contact, DuplicatePair

JSON = "application/json"
ADA = {"first_name": "Ada", "last_name": "Lovelace", "emails": ["ada@analytical.test"]}
TYPO = {"first_name": "Ada", "last_name": "Lovelcae", "emails": ["ada@analytical.test"]}
VALIDATE = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "party-form"}


@pytest.fixture
def ada(rep, make_contact):
    return make_contact(rep, **ADA)


def _post(client, url: str, body: dict):
    return client.post(url, data=json.dumps(body), content_type=JSON)


# --- API -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [("anonymous", 401), ("analyst", 403), ("other_team", 200), ("owner", 200)])
def test_check_endpoint_permission_matrix(who, status, ada, rep, other_rep, analyst):
    user = {"anonymous": None, "analyst": analyst, "other_team": other_rep, "owner": rep}[who]
    response = _post(client_for(user), "/api/v1/contacts/duplicate-check", TYPO)
    assert response.status_code == status
    if status != 200:
        assert response["Content-Type"].startswith("application/problem+json")
        return
    body = response.json()
    if who == "owner":
        assert [d["contact_id"] for d in body["possible_duplicates"]] == [ada.pk]
        assert body["possible_duplicates"][0]["evidence"]["email"] == "exact"
        assert body["hidden"] == 0 and body["matcher"] == "default"
    else:  # the other team may not read Ada: told one exists, not who
        assert body["possible_duplicates"] == [] and body["hidden"] == 1
    assert Contact.objects.count() == 1  # a check writes nothing


def test_create_warns_and_queues_the_likely_pair(rep, ada):
    response = _post(client_for(rep), "/api/v1/contacts", TYPO)
    assert response.status_code == 201
    body = response.json()
    assert [d["contact_id"] for d in body["possible_duplicates"]] == [ada.pk]
    assert body["possible_duplicates"][0]["likely"] is True
    pair = DuplicatePair.objects.get()
    assert {pair.contact_a_id, pair.contact_b_id} == {ada.pk, body["id"]}
    assert pair.source == DuplicateSource.CREATE


def test_create_without_a_duplicate_lists_none_and_queues_nothing(rep, ada):
    response = _post(client_for(rep), "/api/v1/contacts", {"first_name": "Grace", "last_name": "Hopper"})
    assert response.status_code == 201 and response.json()["possible_duplicates"] == []
    assert not DuplicatePair.objects.exists()


def test_create_blocked_on_a_likely_duplicate_writes_nothing(rep, ada):
    response = _post(client_for(rep), "/api/v1/contacts?on_duplicate=block", TYPO)
    assert response.status_code == 409
    assert response["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "/problems/possible-duplicate"
    assert [d["contact_id"] for d in problem["possible_duplicates"]] == [ada.pk]
    assert Contact.objects.count() == 1 and not DuplicatePair.objects.exists()


def test_block_lets_an_unrelated_contact_through(rep, ada):
    response = _post(client_for(rep), "/api/v1/contacts?on_duplicate=block", {"first_name": "Grace",
                                                                               "last_name": "Hopper"})
    assert response.status_code == 201


def test_create_with_the_check_off_queues_nothing(rep, ada):
    response = _post(client_for(rep), "/api/v1/contacts?on_duplicate=off", TYPO)
    assert response.status_code == 201 and response.json()["possible_duplicates"] == []
    assert not DuplicatePair.objects.exists()


@pytest.mark.parametrize(("url", "body"), [
    ("/api/v1/contacts?on_duplicate=sometimes", TYPO),
    ("/api/v1/contacts/duplicate-check", {"first_name": "x" * 101}),
    ("/api/v1/contacts/duplicate-check", {"emails": "not a list"}),
    ("/api/v1/contacts/duplicate-check", {"birthday": "yesterday"}),
])
def test_bad_input_is_a_4xx_problem(rep, ada, url, body):
    response = _post(client_for(rep), url, body)
    assert 400 <= response.status_code < 500
    assert response["Content-Type"].startswith("application/problem+json")
    assert Contact.objects.count() == 1


# --- the contact form ------------------------------------------------------------------------------


def _form(**overrides):
    data = {"first_name": "Ada", "last_name": "Lovelcae", "lifecycle_stage": "prospect",
            "email_0": "ada@analytical.test", "email_0_kind": "work", "email_0_primary": "on",
            "email_1": "", "email_2": "", "phone_0": "", "phone_1": "", "phone_2": "",
            "addr_0_street": "", "addr_1_street": "", "addr_2_street": ""}
    data.update(overrides)
    return data


def test_the_form_warns_while_typing_and_saves_nothing(rep, ada):
    response = client_for(rep).post(reverse("contact_new"), _form(_validate="1"), **VALIDATE)
    body = response.content.decode()
    assert response.status_code == 200
    assert "This contact probably exists already" in body
    assert reverse("contact_detail", args=[ada.pk]) in body
    assert "Create anyway" not in body  # only a real submit asks for confirmation
    assert Contact.objects.count() == 1 and not DuplicatePair.objects.exists()


def test_saving_a_likely_duplicate_asks_first_then_creates_and_queues(rep, ada):
    client = client_for(rep)
    first = client.post(reverse("contact_new"), _form())
    assert first.status_code == 409
    assert "Create anyway" in first.content.decode()
    assert Contact.objects.count() == 1
    second = client.post(reverse("contact_new"), _form(_confirm_duplicate="1"))
    assert second.status_code == 302
    twin = Contact.objects.get(last_name="Lovelcae")
    assert second["Location"] == reverse("contact_detail", args=[twin.pk])
    pair = DuplicatePair.objects.get()
    assert {pair.contact_a_id, pair.contact_b_id} == {ada.pk, twin.pk}


def test_a_new_unrelated_contact_saves_at_once(rep, ada):
    response = client_for(rep).post(reverse("contact_new"), _form(first_name="Grace", last_name="Hopper",
                                                                   email_0="grace@navy.test"))
    assert response.status_code == 302
    assert not DuplicatePair.objects.exists()


def test_editing_a_contact_shows_no_duplicate_warning(rep, ada, make_contact):
    twin = make_contact(rep, **TYPO)
    response = client_for(rep).post(reverse("contact_edit", args=[twin.pk]),
                                    _form(version=twin.version, _validate="1"), **VALIDATE)
    assert "probably exists already" not in response.content.decode()


def test_the_other_team_sees_only_that_a_duplicate_exists(other_rep, ada):
    body = client_for(other_rep).post(reverse("contact_new"), _form(_validate="1"), **VALIDATE).content.decode()
    assert "possible duplicate you may not see" in body
    assert reverse("contact_detail", args=[ada.pk]) not in body and "Lovelace" not in body


def test_names_in_the_warning_are_escaped(rep, make_contact):
    make_contact(rep, first_name="<script>alert(1)</script>", last_name="Lovelace", emails=["ada@analytical.test"])
    body = client_for(rep).post(reverse("contact_new"), _form(_validate="1"), **VALIDATE).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
