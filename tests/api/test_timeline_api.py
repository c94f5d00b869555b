"""The timeline API: list, read, update and delete interactions, notes, tasks and attachments."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from rapport.activities.models import Attachment, Interaction, Note, Task
from rapport.activities.services import attachment_add, interaction_record, note_add, task_create
from rapport.core.models import AuditEvent, User
from rapport.parties.services import account_create, contact_create

JSON = "application/json"


def _client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _patch(client: Client, url: str, body: dict):
    return client.patch(url, data=json.dumps(body), content_type=JSON)


@pytest.fixture
def contact(rep):
    account = account_create(actor=rep, data={"name": "Acme"})
    return contact_create(actor=rep, data={"first_name": "Ann", "last_name": "Lee", "account_id": account.pk})


def test_interactions_list_is_paginated_newest_first_and_filtered(rep, contact) -> None:
    # given: five calls and an email
    import datetime as dt

    from django.utils import timezone

    base = timezone.now() - dt.timedelta(days=10)
    for day in range(5):
        interaction_record(
            actor=rep,
            contact=contact,
            channel="phone",
            subject=f"call {day}",
            occurred_at=base + dt.timedelta(days=day),
        )
    interaction_record(actor=rep, contact=contact, channel="email", subject="mail", occurred_at=base)
    client = _client(rep)
    # when
    first = client.get(f"/api/v1/interactions?contact_id={contact.pk}&channel=phone&limit=3").json()
    second = client.get(f"/api/v1/interactions?contact_id={contact.pk}&channel=phone&limit=3&cursor={first['next']}")
    by_account = client.get(f"/api/v1/interactions?account_id={contact.account_id}").json()
    # then
    assert [i["subject"] for i in first["items"]] == ["call 4", "call 3", "call 2"]
    assert [i["subject"] for i in second.json()["items"]] == ["call 1", "call 0"]
    assert second.json()["next"] is None
    assert len(by_account["items"]) == 6
    assert client.get("/api/v1/interactions").status_code == 422


def test_interaction_update_needs_the_version_and_the_author(rep, teammate, contact) -> None:
    interaction = interaction_record(actor=rep, contact=contact, channel="phone", subject="Call")
    url = f"/api/v1/interactions/{interaction.pk}"
    assert _patch(_client(teammate), url, {"subject": "Mine", "version": 1}).status_code == 403
    assert _patch(_client(rep), url, {"subject": "Fixed"}).status_code == 428
    ok = _patch(_client(rep), url, {"subject": "Fixed", "outcome": "completed", "version": 1})
    stale = _patch(_client(rep), url, {"subject": "Again", "version": 1})
    assert (ok.status_code, stale.status_code) == (200, 409)
    assert ok.json()["version"] == 2
    interaction.refresh_from_db()
    assert (interaction.subject, interaction.outcome) == ("Fixed", "completed")
    audit = AuditEvent.objects.filter(object_id=interaction.pk, action="update").get()
    assert audit.changes == {"subject": ["Call", "Fixed"], "outcome": ["", "completed"]}


def test_notes_list_get_update_delete(rep, other_rep, contact) -> None:
    note = note_add(actor=rep, body="First", contact=contact)
    client = _client(rep)
    assert [n["body"] for n in client.get(f"/api/v1/notes?contact_id={contact.pk}").json()["items"]] == ["First"]
    assert client.get(f"/api/v1/notes/{note.pk}").json()["version"] == 1
    assert _client(other_rep).get(f"/api/v1/notes/{note.pk}").status_code == 404
    assert _patch(client, f"/api/v1/notes/{note.pk}", {"body": "Edited", "version": 1}).json()["body"] == "Edited"
    assert client.delete(f"/api/v1/notes/{note.pk}").status_code == 204
    assert not Note.objects.exists()


def test_tasks_list_defaults_to_my_open_tasks(rep, teammate, contact) -> None:
    mine = task_create(actor=rep, title="Mine", contact=contact)
    task_create(actor=rep, title="Theirs", contact=contact, assignee=teammate)
    done = task_create(actor=rep, title="Done", contact=contact)
    _patch(_client(rep), f"/api/v1/tasks/{done.pk}", {"done": True, "version": 1})
    client = _client(rep)
    assert [t["title"] for t in client.get("/api/v1/tasks").json()["items"]] == ["Mine"]
    assert [t["title"] for t in client.get("/api/v1/tasks?done=true").json()["items"]] == ["Done"]
    assert [t["title"] for t in client.get(f"/api/v1/tasks?assignee_id={teammate.pk}").json()["items"]] == ["Theirs"]
    assert sorted(t["title"] for t in client.get(f"/api/v1/tasks?contact_id={contact.pk}").json()["items"]) == [
        "Mine",
        "Theirs",
    ]
    assert client.delete(f"/api/v1/tasks/{mine.pk}").status_code == 204
    assert not Task.objects.filter(pk=mine.pk).exists()


def test_other_teams_tasks_stay_hidden_even_by_assignee(rep, other_rep, contact) -> None:
    task_create(actor=rep, title="Private", contact=contact)
    assert _client(other_rep).get(f"/api/v1/tasks?assignee_id={rep.pk}").json()["items"] == []


def test_attachments_list_get_download_delete(rep, other_rep, contact, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    attachment = attachment_add(actor=rep, upload=SimpleUploadedFile("brief.txt", b"hello"), contact=contact)
    stored = tmp_path / attachment.file.name
    client = _client(rep)
    listed = client.get(f"/api/v1/attachments?contact_id={contact.pk}").json()["items"]
    assert [(a["name"], a["size"]) for a in listed] == [("brief.txt", 5)]
    assert b"".join(client.get(listed[0]["url"]).streaming_content) == b"hello"
    assert _client(other_rep).get(f"/api/v1/attachments/{attachment.pk}").status_code == 404
    assert _client(other_rep).delete(f"/api/v1/attachments/{attachment.pk}").status_code == 404
    assert stored.exists()
    assert client.delete(f"/api/v1/attachments/{attachment.pk}").status_code == 204
    assert not Attachment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_deleting_an_attachment_removes_the_file_after_commit(rep, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    contact = contact_create(actor=rep, data={"last_name": "Lee"})
    attachment = attachment_add(actor=rep, upload=SimpleUploadedFile("x.txt", b"x"), contact=contact)
    stored = tmp_path / attachment.file.name
    assert stored.exists()
    assert _client(rep).delete(f"/api/v1/attachments/{attachment.pk}").status_code == 204
    assert not stored.exists()


def test_users_and_teams_lists(rep, team_a, client_of) -> None:
    users = client_of(rep).get("/api/v1/users").json()
    assert {"id": rep.pk, "username": "rep", "name": "Rita Rep"} in users
    assert [t["name"] for t in client_of(rep).get("/api/v1/teams").json()] == ["Team A"]
    assert Client().get("/api/v1/users").status_code == 401


TIMELINE_EXPECTED = {"anonymous": 401, "other_team": 404, "teammate": 200, "analyst": 200, "owner": 200}


@pytest.mark.parametrize("who", list(TIMELINE_EXPECTED))
@pytest.mark.parametrize("resource", ["interactions", "notes", "tasks", "attachments"])
def test_timeline_read_matrix(rep, teammate, other_rep, analyst, contact, settings, tmp_path, who, resource) -> None:
    settings.MEDIA_ROOT = tmp_path
    row = {
        "interactions": lambda: interaction_record(actor=rep, contact=contact, channel="sms"),
        "notes": lambda: note_add(actor=rep, body="n", contact=contact),
        "tasks": lambda: task_create(actor=rep, title="t", contact=contact),
        "attachments": lambda: attachment_add(actor=rep, upload=SimpleUploadedFile("a.txt", b"a"), contact=contact),
    }[resource]()
    user = {"anonymous": None, "other_team": other_rep, "teammate": teammate, "analyst": analyst, "owner": rep}[who]
    client = _client(user)
    assert client.get(f"/api/v1/{resource}/{row.pk}").status_code == TIMELINE_EXPECTED[who]
    listed = client.get(f"/api/v1/{resource}?contact_id={contact.pk}")
    assert listed.status_code == TIMELINE_EXPECTED[who]


@pytest.mark.parametrize("who", ["anonymous", "other_team", "analyst", "teammate", "owner"])
@pytest.mark.parametrize("resource", ["interactions", "notes", "tasks", "attachments"])
def test_timeline_delete_matrix(rep, teammate, other_rep, analyst, contact, settings, tmp_path, who, resource):
    settings.MEDIA_ROOT = tmp_path
    model, row = {
        "interactions": lambda: (Interaction, interaction_record(actor=rep, contact=contact, channel="sms")),
        "notes": lambda: (Note, note_add(actor=rep, body="n", contact=contact)),
        "tasks": lambda: (Task, task_create(actor=rep, title="t", contact=contact)),
        "attachments": lambda: (
            Attachment,
            attachment_add(actor=rep, upload=SimpleUploadedFile("a.txt", b"a"), contact=contact),
        ),
    }[resource]()
    user = {"anonymous": None, "other_team": other_rep, "teammate": teammate, "analyst": analyst, "owner": rep}[who]
    # Notes and interactions are their author's words: a teammate may not delete them.
    authored = resource in {"interactions", "notes"}
    expected = {
        "anonymous": 401,
        "other_team": 404,
        "analyst": 403,
        "owner": 204,
        "teammate": 403 if authored else 204,
    }[who]
    assert _client(user).delete(f"/api/v1/{resource}/{row.pk}").status_code == expected
    assert model.objects.filter(pk=row.pk).exists() == (expected != 204)
