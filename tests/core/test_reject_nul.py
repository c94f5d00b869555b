"""NUL characters in query strings are refused with a 400 before any view, on every database
(PostgreSQL cannot compare them in text: a filter value with one used to be a 500 there). Bodies
are refused by the schemas and forms, field by field (tests/api/test_contacts_api.py)."""

from __future__ import annotations

PROBLEM = "application/problem+json"


def test_an_api_filter_with_a_nul_is_a_400_problem(client_of, rep):
    response = client_of(rep).get("/api/v1/accounts", {"size": "k\x00x"})
    assert response.status_code == 400 and response["Content-Type"] == PROBLEM
    assert "NUL" in response.json()["detail"]
    assert client_of(rep).get("/api/v1/accounts", {"size": "11-50"}).status_code == 200


def test_a_page_query_with_a_nul_is_a_plain_400(client_of, rep):
    client = client_of(rep)
    assert client.get("/contacts/", {"q": "a\x00"}).status_code == 400
    assert client.get("/contacts/", {"q": "ada"}).status_code == 200
    # A form body is not looked at here: the form's own fields refuse the NUL (422, the form again).
    assert client.post("/accounts/new/", {"name": "A\x00"}).status_code == 422
