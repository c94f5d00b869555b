"""The 360° pages: profile, org chart, timeline (filter, load more), notes, interactions, tasks, files, history."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from rapport.activities.models import Attachment, Interaction, Note, Task
from rapport.activities.services import interaction_record, note_add, task_create
from rapport.core.models import Notification


def test_contact_360_shows_profile_org_chart_and_placeholders(rep, client_of, make_contact, make_account):
    account = make_account(rep, name="Analytical Engines")
    boss = make_contact(rep, first_name="Charles", last_name="Babbage", account_id=account.pk)
    ada = make_contact(
        rep,
        emails=["ada@example.com"],
        phones=["+442071234567"],
        tags=["math"],
        account_id=account.pk,
        account_role="Programmer",
        reports_to_id=boss.pk,
        addresses=[{"street": "12 St James's Sq", "city": "London", "country": "GB"}],
    )
    make_contact(rep, first_name="Report", last_name="Ee", reports_to_id=ada.pk)
    body = client_of(rep).get(reverse("contact_detail", args=[ada.pk])).content.decode()
    for text in (
        "ada@example.com",
        "+442071234567",
        "math",
        "Analytical Engines",
        "Programmer",
        "Charles Babbage",
        "Report Ee",
        "London",
        "Opportunities",
        "Orders",
        "Cases",
        "Consent",
        "Scores",
        "Nothing yet",
        "History",
    ):
        assert text in body, text


def test_account_360_lists_children_and_contacts_with_roles(rep, client_of, make_contact, make_account):
    parent = make_account(rep, name="Parent Inc")
    account = make_account(rep, name="Child Ltd", parent_id=parent.pk)
    make_account(rep, name="Grandchild", parent_id=account.pk)
    make_contact(rep, first_name="Worker", last_name="Bee", account_id=account.pk, account_role="Buyer")
    body = client_of(rep).get(reverse("account_detail", args=[account.pk])).content.decode()
    assert "Parent Inc" in body and "Grandchild" in body and "Worker Bee" in body and "Buyer" in body


def test_add_note_appears_on_timeline(rep, client_of, make_contact):
    contact = make_contact(rep)
    client = client_of(rep)
    response = client.post(reverse("party_note_add", args=["contacts", contact.pk]), {"body": "Met at <b>the fair</b>"})
    assert response.status_code == 302
    assert Note.objects.get().contact == contact
    body = client.get(reverse("contact_detail", args=[contact.pk])).content.decode()
    assert "Met at &lt;b&gt;the fair&lt;/b&gt;" in body


def test_empty_note_shows_error_and_saves_nothing(rep, client_of, make_contact):
    contact = make_contact(rep)
    response = client_of(rep).post(reverse("party_note_add", args=["contacts", contact.pk]), {"body": "  "})
    assert response.status_code == 422
    assert "errorlist" in response.content.decode()
    assert not Note.objects.exists()


def test_note_on_other_teams_contact_is_not_found(rep, other_rep, client_of, make_contact):
    contact = make_contact(rep)
    response = client_of(other_rep).post(reverse("party_note_add", args=["contacts", contact.pk]), {"body": "x"})
    assert response.status_code == 404
    assert not Note.objects.exists()


def test_analyst_cannot_add_a_note(rep, analyst, client_of, make_contact):
    contact = make_contact(rep)
    response = client_of(analyst).post(reverse("party_note_add", args=["contacts", contact.pk]), {"body": "x"})
    assert response.status_code == 403
    assert not Note.objects.exists()


def test_log_interaction(rep, client_of, make_contact):
    contact = make_contact(rep)
    response = client_of(rep).post(
        reverse("party_interaction_add", args=["contacts", contact.pk]),
        {
            "channel": "phone",
            "direction": "inbound",
            "subject": "Asked for a quote",
            "body": "Call back Monday",
            "occurred_at": "2024-03-01T10:30",
            "duration_minutes": "12",
            "outcome": "interested",
        },
    )
    assert response.status_code == 302
    interaction = Interaction.objects.get()
    assert interaction.duration_seconds == 720 and interaction.direction == "inbound"
    assert interaction.occurred_at == dt.datetime(2024, 3, 1, 10, 30, tzinfo=dt.UTC)
    body = client_of(rep).get(reverse("contact_detail", args=[contact.pk])).content.decode()
    assert "Asked for a quote" in body and "12 min" in body


def test_timeline_channel_filter_and_load_more(rep, client_of, make_contact):
    contact = make_contact(rep)
    base = timezone.now() - dt.timedelta(days=1)
    for i in range(25):
        interaction_record(
            actor=rep,
            contact=contact,
            channel="email",
            subject=f"Mail {i:02d}",
            occurred_at=base + dt.timedelta(minutes=i),
        )
    interaction_record(actor=rep, contact=contact, channel="phone", subject="The call", occurred_at=base)
    client = client_of(rep)
    page = client.get(reverse("contact_detail", args=[contact.pk])).content.decode()
    assert "Mail 24" in page and "Mail 05" in page and "Mail 04" not in page and "Load more" in page
    url = reverse("party_timeline", args=["contacts", contact.pk])
    first = client.get(url, HTTP_HX_REQUEST="true")
    cursor = first.context["next_cursor"]
    more = client.get(url, {"cursor": cursor}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in more
    assert "Mail 04" in more and "Mail 00" in more and "The call" in more and "Mail 05" not in more
    phone = client.get(url, {"channel": "phone"}, HTTP_HX_REQUEST="true").content.decode()
    assert "The call" in phone and "Mail" not in phone
    plain = client.get(url, {"channel": "phone"})
    assert plain.status_code == 302 and "channel=phone" in plain["Location"]


def test_task_create_done_and_stale_version(rep, teammate, client_of, make_contact):
    contact = make_contact(rep)
    client = client_of(rep)
    response = client.post(
        reverse("party_task_add", args=["contacts", contact.pk]),
        {"title": "Send proposal", "priority": "high", "assignee": teammate.pk, "due_at": "2030-01-01T09:00"},
    )
    assert response.status_code == 302
    task = Task.objects.get()
    assert task.assignee == teammate
    assert Notification.objects.filter(user=teammate, kind="task_assigned").exists()
    detail = client.get(reverse("contact_detail", args=[contact.pk])).content.decode()
    assert "Send proposal" in detail
    stale = client.post(reverse("task_done", args=[task.pk]), {"version": task.version + 1})
    assert stale.status_code == 302
    task.refresh_from_db()
    assert task.done_at is None
    assert "changed by someone else" in client.get(stale["Location"]).content.decode()
    done = client.post(reverse("task_done", args=[task.pk]), {"version": task.version})
    assert done.status_code == 302
    task.refresh_from_db()
    assert task.done_at is not None


def test_task_without_title_is_refused(rep, client_of, make_contact):
    contact = make_contact(rep)
    response = client_of(rep).post(
        reverse("party_task_add", args=["contacts", contact.pk]), {"title": "", "priority": "low"}
    )
    assert response.status_code == 422
    assert not Task.objects.exists()


def test_analyst_cannot_complete_a_task(rep, analyst, client_of, make_contact):
    contact = make_contact(rep)
    task = task_create(actor=rep, contact=contact, title="T")
    response = client_of(analyst).post(reverse("task_done", args=[task.pk]), {"version": task.version})
    assert response.status_code == 403
    task.refresh_from_db()
    assert task.done_at is None


def test_other_team_cannot_complete_a_task(rep, other_rep, client_of, make_contact):
    contact = make_contact(rep)
    task = task_create(actor=rep, contact=contact, title="T")
    assert client_of(other_rep).post(reverse("task_done", args=[task.pk]), {"version": 1}).status_code == 404


def test_attachment_upload_and_download_checks_access(rep, other_rep, client_of, make_contact, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    contact = make_contact(rep)
    client = client_of(rep)
    upload = SimpleUploadedFile("<evil>.html", b"<script>alert(1)</script>", content_type="text/html")
    response = client.post(reverse("party_attachment_add", args=["contacts", contact.pk]), {"file": upload})
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    page = client.get(reverse("contact_detail", args=[contact.pk])).content.decode()
    assert reverse("attachment_download", args=[attachment.pk]) in page
    assert "<evil>" not in page
    download = client.get(reverse("attachment_download", args=[attachment.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content) == b"<script>alert(1)</script>"
    assert client_of(other_rep).get(reverse("attachment_download", args=[attachment.pk])).status_code == 404
    assert client_of(None).get(reverse("attachment_download", args=[attachment.pk])).status_code == 302


def test_history_shows_field_changes(rep, client_of, make_contact):
    contact = make_contact(rep, first_name="Before")
    from rapport.parties.services import contact_update

    contact_update(actor=rep, contact=contact, data={"first_name": "After"}, expected_version=contact.version)
    body = client_of(rep).get(reverse("contact_detail", args=[contact.pk])).content.decode()
    assert "first_name" in body and "Before" in body and "After" in body and "Rita Rep" in body


def test_home_dashboard_flags_overdue_tasks(rep, client_of, make_contact):
    contact = make_contact(rep, first_name="Recent", last_name="Contact")
    task_create(actor=rep, contact=contact, title="Late one", due_at=timezone.now() - dt.timedelta(days=2))
    task_create(actor=rep, contact=contact, title="Future one", due_at=timezone.now() + dt.timedelta(days=2))
    note_add(actor=rep, contact=contact, body="hi")
    response = client_of(rep).get(reverse("home"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Late one" in body and "Future one" in body and "overdue" in body and "Recent Contact" in body
    assert response.context["overdue"] == 1


def test_my_tasks_page_and_done_toggle(rep, client_of, make_contact):
    contact = make_contact(rep)
    task = task_create(actor=rep, contact=contact, title="Do it")
    client = client_of(rep)
    assert "Do it" in client.get(reverse("my_tasks")).content.decode()
    response = client.post(reverse("task_done", args=[task.pk]), {"version": task.version, "next": reverse("my_tasks")})
    assert response["Location"] == reverse("my_tasks")
    client.get(reverse("my_tasks"))  # shows (and consumes) the "done" message
    assert "Do it" not in client.get(reverse("my_tasks")).content.decode()
    assert "Do it" in client.get(reverse("my_tasks"), {"done": "1"}).content.decode()
