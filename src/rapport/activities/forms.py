"""Forms on the 360° pages: note, interaction, task, attachment. Services validate the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.activities.choices import Direction, Outcome, Priority
from rapport.core.models import User
from rapport.parties.choices import Channel

_LOCAL = "%Y-%m-%dT%H:%M"


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format=_LOCAL, **kwargs)


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("Write a note…")}),
        max_length=20000,
    )


class InteractionForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE)
    direction = forms.ChoiceField(label=_("Direction"), choices=Direction.choices, initial=Direction.OUTBOUND)
    subject = forms.CharField(label=_("Subject"), max_length=300, required=False)
    body = forms.CharField(label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    occurred_at = forms.DateTimeField(
        label=_("When"), required=False, widget=LocalDateTimeInput(), help_text=_("Empty means now.")
    )
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), required=False, min_value=0, max_value=24 * 60)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices, required=False)

    def service_kwargs(self) -> dict[str, Any]:
        cd = self.cleaned_data
        minutes = cd.get("duration_minutes")
        return {
            "channel": cd["channel"],
            "direction": cd["direction"],
            "subject": cd.get("subject") or "",
            "body": cd.get("body") or "",
            "occurred_at": cd.get("occurred_at"),
            "duration_seconds": minutes * 60 if minutes is not None else None,
            "outcome": cd.get("outcome") or "",
        }


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    due_at = forms.DateTimeField(label=_("Due"), required=False, widget=LocalDateTimeInput())
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL)
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    reminder_at = forms.DateTimeField(label=_("Remind me at"), required=False, widget=LocalDateTimeInput())
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        users = User.objects.filter(is_active=True).only("id", "username", "first_name", "last_name")
        self.fields["assignee"].choices = [
            (str(u.pk), str(u)) for u in users.order_by("first_name", "last_name", "username")[:300]
        ]
        self.fields["assignee"].initial = str(actor.pk)

    def service_kwargs(self) -> dict[str, Any]:
        cd = self.cleaned_data
        assignee = User.objects.filter(pk=cd["assignee"], is_active=True).first() if cd.get("assignee") else None
        return {
            "title": cd["title"],
            "due_at": cd.get("due_at"),
            "priority": cd["priority"],
            "assignee": assignee,
            "reminder_at": cd.get("reminder_at"),
            "description": cd.get("description") or "",
        }


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))
