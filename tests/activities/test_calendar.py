"""Meetings as .ics files and the per-user calendar feed: contents, token rules and access."""

from __future__ import annotations

import datetime as dt

import pytest
import vobject
from django.urls import reverse
from django.utils import timezone
from tests.conftest import client_for

from rapport.activities.calendar import calendar_token, user_for_calendar_token
from rapport.activities.services import interaction_record, task_create
from rapport.parties.services import contact_create


@pytest.fixture
def diary(rep, other_rep):
    soon = timezone.now().replace(microsecond=0) + dt.timedelta(days=2)
    ann = contact_create(actor=rep, data={"first_name": "Ann", "last_name": "<b>Lee</b>"})
    meeting = interaction_record(actor=rep, contact=ann, channel="meeting", subject="Demo of the widgets",
                                 body="Bring the price list", occurred_at=soon, duration_seconds=3600)
    call = interaction_record(actor=rep, contact=ann, channel="phone", subject="Call", occurred_at=soon)
    follow_up = task_create(actor=rep, contact=ann, title="Send the offer", due_at=soon + dt.timedelta(days=1),
                            assignee=rep)
    theirs = contact_create(actor=other_rep, data={"first_name": "Bo", "last_name": "Other"})
    other_meeting = interaction_record(actor=other_rep, contact=theirs, channel="meeting", subject="Secret",
                                       occurred_at=soon)
    return {"soon": soon, "contact": ann, "meeting": meeting, "call": call, "task": follow_up,
            "other_meeting": other_meeting}


def _events(body: bytes) -> dict[str, vobject.base.Component]:
    cal = vobject.readOne(body.decode())
    return {event.uid.value: event for event in cal.vevent_list}


def test_a_meeting_downloads_as_one_event(rep, diary):
    response = client_for(rep).get(reverse("meeting_ics", args=[diary["meeting"].pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    (event,) = _events(response.content).values()
    assert event.summary.value == "Demo of the widgets"
    assert event.dtstart.value == diary["soon"]
    assert event.dtend.value - event.dtstart.value == dt.timedelta(hours=1)
    assert "Bring the price list" in event.description.value
    assert event.url.value.endswith(f"/contacts/{diary['contact'].pk}/")


def test_meeting_file_access(rep, teammate, other_rep, diary):
    url = reverse("meeting_ics", args=[diary["meeting"].pk])
    assert client_for(None).get(url).status_code == 302  # to the login page
    assert client_for(other_rep).get(url).status_code == 404
    assert client_for(teammate).get(url).status_code == 200
    not_a_meeting = reverse("meeting_ics", args=[diary["call"].pk])
    assert client_for(rep).get(not_a_meeting).status_code == 404


def test_the_feed_holds_own_meetings_and_follow_ups_only(rep, diary):
    url = reverse("calendar_feed", args=[calendar_token(rep)])
    response = client_for(None).get(url)  # no session: the token is the credential
    assert response.status_code == 200
    events = _events(response.content)
    summaries = sorted(e.summary.value for e in events.values())
    assert summaries == ["Demo of the widgets", "Follow-up: Send the offer"]
    task_event = next(e for e in events.values() if e.summary.value.startswith("Follow-up"))
    assert task_event.dtstart.value == diary["task"].due_at


def test_rotating_the_key_revokes_the_old_url(rep, other_rep, diary):
    old = calendar_token(rep)
    assert user_for_calendar_token(old) == rep
    client = client_for(rep)
    page = client.get(reverse("calendar"))
    assert page.status_code == 200 and old in page.content.decode()
    assert "&lt;b&gt;Lee&lt;/b&gt;" in page.content.decode()  # user content is escaped
    assert client.post(reverse("calendar")).status_code == 302
    rep.refresh_from_db()
    assert client_for(None).get(reverse("calendar_feed", args=[old])).status_code == 404
    assert client_for(None).get(reverse("calendar_feed", args=[calendar_token(rep)])).status_code == 200
    # A forged token and another user's swapped-in id are refused.
    assert user_for_calendar_token(old[:-2] + "xx") is None
    assert user_for_calendar_token(calendar_token(other_rep)) == other_rep
    rep.is_active = False
    rep.save()
    assert user_for_calendar_token(calendar_token(rep)) is None


def test_calendar_page_needs_a_session(db):
    assert client_for(None).get(reverse("calendar")).status_code == 302
