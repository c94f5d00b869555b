"""Meetings and follow-ups as iCalendar (RFC 5545): one meeting as a file, and a per-user feed.

A *meeting* is an interaction on the ``meeting`` channel; it starts at ``occurred_at`` and lasts
``duration_seconds`` (30 minutes when not given). A *follow-up* is an open task with a due time;
it appears in the feed as a 15-minute event at that time, so it shows in calendar apps that ignore
to-dos (most do).

The feed URL carries a token instead of a session, because calendar apps cannot sign in. The
token is the signed ``[user id, calendar_key]``: the signature stops forgery, and the random
``calendar_key`` in it lets the user revoke every copy of the URL by rotating the key. Reading the
feed gives what its user may read at that moment (the same row rules as every page), so a user
who loses access to a contact stops seeing its meetings.

Event UIDs are stable (``<kind>-<pk>@<host>``) so re-importing the file updates an event rather
than duplicating it; ``SEQUENCE`` is the row's version, so an edited meeting replaces the old one.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable

import vobject
from dateutil import tz
from django.core import signing
from django.db.models import Q
from django.utils import timezone

from rapport.activities.models import Interaction, Task
from rapport.activities.selectors import timeline_rows
from rapport.core.models import User
from rapport.parties.choices import Channel

_SALT = "rapport.calendar-feed"
# dateutil's UTC, which vobject writes as "...Z" (it cannot name the stdlib's timezone.utc).
_UTC = tz.UTC
DEFAULT_MEETING = dt.timedelta(minutes=30)
FOLLOW_UP = dt.timedelta(minutes=15)
# The feed covers what a calendar app shows: recent past and the year ahead.
FEED_PAST = dt.timedelta(days=90)
FEED_AHEAD = dt.timedelta(days=366)


def calendar_key_rotate(*, user: User) -> str:
    """Give ``user`` a new calendar key (revoking old feed URLs) and return it."""
    user.calendar_key = secrets.token_hex(16)
    user.save(update_fields=["calendar_key"])
    return user.calendar_key


def calendar_token(user: User) -> str:
    """The token of ``user``'s feed URL (creating the key on first use)."""
    key = user.calendar_key or calendar_key_rotate(user=user)
    # A plain (untimed) signature: the URL stays the same until the key is rotated.
    return signing.Signer(salt=_SALT).sign_object([user.pk, key], compress=True)


def user_for_calendar_token(token: str) -> User | None:
    """The active user whose current feed token this is, else ``None`` (forged, stale or revoked)."""
    try:
        pk, key = signing.Signer(salt=_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not key or not secrets.compare_digest(str(key), user.calendar_key):
        return None
    return user


def _party_name(row: Interaction | Task) -> str:
    party = row.contact or row.account
    return str(party) if party is not None else ""


def _add_event(cal: vobject.base.Component, *, uid: str, start: dt.datetime, end: dt.datetime, summary: str,
               description: str, url: str, sequence: int, stamp: dt.datetime, category: str) -> None:
    event = cal.add("vevent")
    event.add("uid").value = uid
    event.add("dtstamp").value = stamp.astimezone(_UTC)
    event.add("dtstart").value = start.astimezone(_UTC)
    event.add("dtend").value = end.astimezone(_UTC)
    event.add("summary").value = summary
    if description:
        event.add("description").value = description
    if url:
        event.add("url").value = url
    event.add("sequence").value = str(sequence)
    event.add("categories").value = [category]


def _calendar(name: str) -> vobject.base.Component:
    cal = vobject.iCalendar()
    cal.add("prodid").value = "-//Rapport CRM//Calendar//EN"
    cal.add("calscale").value = "GREGORIAN"
    cal.add("x-wr-calname").value = name
    return cal


def _meeting_event(cal: vobject.base.Component, meeting: Interaction, *, host: str, base_url: str) -> None:
    start = meeting.occurred_at
    length = dt.timedelta(seconds=meeting.duration_seconds) if meeting.duration_seconds else DEFAULT_MEETING
    who = _party_name(meeting)
    summary = meeting.subject or (f"Meeting with {who}" if who else "Meeting")
    _add_event(cal, uid=f"meeting-{meeting.pk}@{host}", start=start, end=start + length, summary=summary,
               description="\n\n".join(x for x in (who, meeting.body) if x), url=_party_url(meeting, base_url),
               sequence=meeting.version, stamp=meeting.updated_at, category="Meeting")


def _party_url(row: Interaction | Task, base_url: str) -> str:
    if not base_url:
        return ""
    if row.contact_id:
        return f"{base_url}/contacts/{row.contact_id}/"
    return f"{base_url}/accounts/{row.account_id}/"


def meeting_ics(meeting: Interaction, *, host: str, base_url: str = "") -> str:
    """One meeting as an iCalendar file (the caller checked the user may read it)."""
    cal = _calendar("Rapport meeting")
    _meeting_event(cal, meeting, host=host, base_url=base_url)
    return str(cal.serialize())


def feed_rows(*, user: User, now: dt.datetime | None = None) -> tuple[list[Interaction], list[Task]]:
    """The meetings and follow-ups of ``user``'s feed: theirs, readable by them, in the feed window."""
    now = now or timezone.now()
    window = Q(occurred_at__gte=now - FEED_PAST, occurred_at__lte=now + FEED_AHEAD)
    meetings = list(
        timeline_rows(actor=user, model=Interaction)
        .filter(window, channel=Channel.MEETING, owner=user)
        .select_related("contact", "account").order_by("occurred_at", "id")[:2000]
    )
    tasks = list(
        timeline_rows(actor=user, model=Task)
        .filter(assignee=user, done_at__isnull=True, due_at__isnull=False, due_at__gte=now - FEED_PAST,
                due_at__lte=now + FEED_AHEAD)
        .select_related("contact", "account").order_by("due_at", "id")[:2000]
    )
    return meetings, tasks


def user_feed_ics(*, user: User, host: str, base_url: str = "", now: dt.datetime | None = None) -> str:
    """``user``'s meetings and open follow-ups as one iCalendar feed."""
    meetings, tasks = feed_rows(user=user, now=now)
    cal = _calendar(f"Rapport — {user}")
    for meeting in meetings:
        _meeting_event(cal, meeting, host=host, base_url=base_url)
    _task_events(cal, tasks, host=host, base_url=base_url)
    return str(cal.serialize())


def _task_events(cal: vobject.base.Component, tasks: Iterable[Task], *, host: str, base_url: str) -> None:
    for task in tasks:
        assert task.due_at is not None  # filtered in feed_rows
        who = _party_name(task)
        _add_event(cal, uid=f"task-{task.pk}@{host}", start=task.due_at, end=task.due_at + FOLLOW_UP,
                   summary=f"Follow-up: {task.title}", description="\n\n".join(x for x in (who, task.description) if x),
                   url=_party_url(task, base_url), sequence=task.version, stamp=task.updated_at, category="Follow-up")
