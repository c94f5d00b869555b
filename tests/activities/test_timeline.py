"""The merged timeline: order, ties across kinds, cursor paging, filters, and the 360 API's view of it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from rapport.activities.models import Attachment, Note, Task
from rapport.activities.selectors import timeline
from rapport.activities.services import attachment_add, interaction_record, note_add, task_create
from rapport.core.errors import ValidationFailed
from rapport.parties.services import account_create, contact_create

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def history(rep, settings, tmp_path):
    """Interactions, a note, a task and a file; three of them at the very same instant T0."""
    settings.MEDIA_ROOT = tmp_path
    account = account_create(actor=rep, data={"name": "Acme"})
    ann = contact_create(actor=rep, data={"first_name": "Ann", "last_name": "Lee", "account_id": account.pk})
    calls = [
        interaction_record(actor=rep, contact=ann, channel="phone", subject=f"Call {i}",
                           occurred_at=T0 - dt.timedelta(hours=i), outcome="completed", duration_seconds=120)
        for i in range(4)
    ]
    email = interaction_record(actor=rep, contact=ann, channel="email", subject="", body="x" * 3000, occurred_at=T0)
    note = note_add(actor=rep, contact=ann, body="Prefers mornings")
    task = task_create(actor=rep, contact=ann, title="Send the offer", due_at=T0 - dt.timedelta(days=1))
    attachment = attachment_add(actor=rep, contact=ann, upload=SimpleUploadedFile("offer.pdf", b"%PDF-1.4"))
    # Move the note and the file onto T0 too (their time is set when they are written).
    Note.objects.filter(pk=note.pk).update(created_at=T0)
    Attachment.objects.filter(pk=attachment.pk).update(created_at=T0)
    Task.objects.filter(pk=task.pk).update(created_at=T0 - dt.timedelta(minutes=30))
    return {"contact": ann, "account": account, "calls": calls, "email": email, "note": note, "task": task,
            "attachment": attachment}


def _keys(entries) -> list[tuple[str, int]]:
    return [(e.kind, e.id) for e in entries]


def _expected(h) -> list[tuple[str, int]]:
    # time desc; at equal times interactions, then notes, tasks, attachments; then id desc
    at_t0 = [("interaction", h["email"].pk), ("interaction", h["calls"][0].pk), ("note", h["note"].pk),
             ("attachment", h["attachment"].pk)]
    return [*at_t0, ("task", h["task"].pk), *[("interaction", c.pk) for c in h["calls"][1:]]]


def test_the_timeline_merges_every_kind_newest_first_with_ties_broken_by_kind_then_id(history) -> None:
    page = timeline(party=history["contact"])
    assert _keys(page.entries) == _expected(history)
    assert page.next_cursor is None


@pytest.mark.parametrize("limit", [1, 2, 3, 7])
def test_paging_by_cursor_yields_every_entry_once_in_order(history, limit: int) -> None:
    seen, cursor = [], None
    for _ in range(20):
        page = timeline(party=history["contact"], cursor=cursor, limit=limit)
        assert len(page.entries) <= limit
        seen += _keys(page.entries)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == _expected(history)


def test_entries_carry_what_the_page_shows(history, rep) -> None:
    entries = {(e.kind, e.id): e for e in timeline(party=history["contact"], body_chars=2000).entries}
    call = entries[("interaction", history["calls"][0].pk)]
    shown = (call.title, call.channel_label, call.direction_label, call.outcome_label, call.duration_seconds, call.by)
    assert shown == ("Call 0", "Phone", "Outbound", "Completed", 120, "Rita Rep")
    assert call.at == T0
    assert len(entries[("interaction", history["email"].pk)].body) == 2000
    task = entries[("task", history["task"].pk)]
    assert (task.title, task.is_done, task.is_overdue) == ("Send the offer", False, True)
    assert task.due_at == T0 - dt.timedelta(days=1)
    attachment = entries[("attachment", history["attachment"].pk)]
    assert (attachment.title, attachment.size) == ("offer.pdf", 8)
    assert entries[("note", history["note"].pk)].body == "Prefers mornings"


def test_channel_filter_keeps_only_those_interactions(history) -> None:
    page = timeline(party=history["contact"], channels=["email"])
    assert _keys(page.entries) == [("interaction", history["email"].pk)]


def test_the_account_timeline_holds_what_was_recorded_on_its_contacts(history) -> None:
    assert _keys(timeline(party=history["account"]).entries) == _expected(history)


@pytest.mark.parametrize("cursor", ["garbage", "WyJ4Il0", "WyIyMDI2LTAxLTAxIiwibm9wZSIsMV0"])
def test_a_forged_cursor_is_refused(history, cursor: str) -> None:
    with pytest.raises(ValidationFailed):
        timeline(party=history["contact"], cursor=cursor)


def test_the_360_api_shows_the_first_page_of_the_timeline(history, rep) -> None:
    client = Client()
    client.force_login(rep)
    body = client.get(f"/api/v1/contacts/{history['contact'].pk}/360?limit=3").json()
    items = body["timeline"]["items"]
    assert [(i["kind"], i["id"]) for i in items] == _expected(history)[:3]
    assert items[0]["title"] == "Email" and len(items[0]["body"]) == 2000  # no subject: the channel's name
    assert items[2]["title"] == "Note" and items[2]["by"] == "Rita Rep"
    assert body["timeline"]["next"] is not None
    nxt = client.get(f"/api/v1/contacts/{history['contact'].pk}/timeline?limit=3&cursor={body['timeline']['next']}")
    assert [(i["kind"], i["id"]) for i in nxt.json()["items"]] == _expected(history)[3:6]
    assert nxt.json()["items"][0]["url"].endswith(f"/attachments/{history['attachment'].pk}/download")
