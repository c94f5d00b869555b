"""Cancelling a subscription through the API records the exit survey (date, reason code, the
customer's words); bad input is a 4xx problem with field errors and changes nothing; access is the
subscription's (anonymous 401, another team 404, read-only role 403)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from rapport.commerce.models import Subscription
from rapport.commerce.services import subscription_create
from rapport.core.choices import Role

JSON = "application/json"
PROBLEM = "application/problem+json"


@pytest.fixture
def sub(shop, account, rep):
    return subscription_create(actor=rep, account=account, product=shop["plan"], amount="49", currency="EUR",
                               start_date=dt.date(2026, 1, 1))


def _patch(client, sub, body):
    return client.patch(f"/api/v1/subscriptions/{sub.pk}", data=json.dumps(body), content_type=JSON)


def _field_error(response, status: int, field: str) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    assert field in json.dumps(response.json())


def test_cancelling_records_the_exit_survey_and_reactivating_clears_it(client_of, rep, sub):
    client = client_of(rep)
    done = _patch(client, sub, {"status": "cancelled", "cancelled_on": "2026-05-01", "cancellation_reason": "price",
                                "cancellation_comment": "Too dear", "version": sub.version})
    assert done.status_code == 200, done.content
    body = done.json()
    assert (body["status"], body["cancelled_on"], body["cancellation_reason"], body["cancellation_comment"]) == (
        "cancelled", "2026-05-01", "price", "Too dear")
    back = _patch(client, sub, {"status": "active", "version": body["version"]}).json()
    assert (back["cancelled_on"], back["cancellation_reason"], back["cancellation_comment"]) == (None, "", "")


def test_a_cancellation_without_a_date_is_dated_today(client_of, rep, sub):
    body = _patch(client_of(rep), sub, {"status": "cancelled", "version": sub.version}).json()
    assert body["cancelled_on"] == timezone.localdate().isoformat() and body["cancellation_reason"] == ""


@pytest.mark.parametrize(("body", "field"), [
    ({"status": "cancelled", "cancellation_reason": "bored"}, "cancellation_reason"),  # not a reason code
    ({"status": "cancelled", "cancelled_on": "2025-12-31"}, "cancelled_on"),  # before the start
    ({"cancellation_reason": "price"}, "cancellation_reason"),  # still active
    ({"status": "active", "cancellation_comment": "why"}, "cancellation_comment"),
    ({"status": "cancelled", "cancelled_on": "not a date"}, "cancelled_on"),
    ({"status": "cancelled", "cancellation_comment": "x" * 5001}, "cancellation_comment"),  # too long
])
def test_bad_exit_survey_input_is_a_422_and_changes_nothing(client_of, rep, sub, body, field):
    _field_error(_patch(client_of(rep), sub, {**body, "version": sub.version}), 422, field)
    stored = Subscription.objects.get(pk=sub.pk)
    assert (stored.status, stored.cancelled_on, stored.cancellation_reason, stored.version) == ("active", None, "", 1)


def test_a_stale_cancellation_is_a_conflict(client_of, rep, sub):
    response = _patch(client_of(rep), sub, {"status": "cancelled", "version": sub.version + 1})
    assert response.status_code == 409 and response["Content-Type"] == PROBLEM
    assert Subscription.objects.get(pk=sub.pk).status == "active"


def test_who_may_cancel(client_of, make_user, team_a, other_rep, sub):
    body = {"status": "cancelled", "cancellation_reason": "price", "version": sub.version}
    assert _patch(client_of(None), sub, body).status_code == 401
    assert _patch(client_of(other_rep), sub, body).status_code == 404  # another team's subscription
    analyst = make_user(Role.ANALYST, team_a, username="reader")
    assert _patch(client_of(analyst), sub, body).status_code == 403  # may read, not change
    assert Subscription.objects.get(pk=sub.pk).status == "active"
