"""Assignments and reminders reach the user in the app and, if they wish, by real SMTP."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from rapport.activities.services import task_create, task_reminders_send
from rapport.core.models import Notification
from rapport.parties.services import contact_create


@pytest.mark.django_db(transaction=True)
def test_assignment_notifies_in_app_and_by_email(rep, teammate, smtp) -> None:
    # given
    contact = contact_create(actor=rep, data={"first_name": "Ann", "last_name": "Lee"})
    # when: rep assigns a task to the teammate
    task_create(actor=rep, title="Call Ann back", contact=contact, assignee=teammate)
    # then
    note = Notification.objects.get(user=teammate)
    assert note.kind == "task_assigned"
    assert note.message == "Rita Rep assigned you a task: Call Ann back"
    assert note.emailed_at is not None
    assert len(smtp.messages) == 1
    _sender, recipients, content = smtp.messages[0]
    assert recipients == [teammate.email]
    assert "Call Ann back" in content
    assert f"/contacts/{contact.pk}/" in content


@pytest.mark.django_db(transaction=True)
def test_reminders_are_sent_once_and_only_when_due(rep, smtp) -> None:
    # given: one task due for a reminder, one in the future, one done
    contact = contact_create(actor=rep, data={"first_name": "Ann", "last_name": "Lee"})
    now = timezone.now()
    due = task_create(actor=rep, title="Due", contact=contact, reminder_at=now - dt.timedelta(minutes=1))
    task_create(actor=rep, title="Later", contact=contact, reminder_at=now + dt.timedelta(hours=1))
    # when: the job runs twice
    first = task_reminders_send(now=now)
    second = task_reminders_send(now=now)
    # then
    assert (first, second) == (1, 0)
    assert list(Notification.objects.filter(user=rep).values_list("message", flat=True)) == ["Reminder: Due"]
    assert [m[1] for m in smtp.messages] == [[rep.email]]
    due.refresh_from_db()
    assert due.reminder_sent_at == now


@pytest.mark.django_db
def test_users_who_opt_out_get_no_email(rep, teammate, mailoutbox) -> None:
    teammate.email_notifications = False
    teammate.save(update_fields=["email_notifications"])
    contact = contact_create(actor=rep, data={"first_name": "Ann", "last_name": "Lee"})
    task_create(actor=rep, title="Quiet", contact=contact, assignee=teammate)
    assert Notification.objects.filter(user=teammate).count() == 1
    assert mailoutbox == []
