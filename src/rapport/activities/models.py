"""The timeline: interactions on every channel, notes, tasks and attachments.

Every row hangs off a contact or an account (at least one), and whoever may read that party
may read the row (``core.permissions`` with ``via``). ``account`` on an interaction is set to
the contact's primary account when it is recorded, so an account's timeline is one indexed
range scan, not a join over its contacts. ``related_type``/``related_id`` point at any other
record (an opportunity, a case, an order) without this app importing the app above it.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.activities.choices import Direction, Outcome, Priority
from rapport.core.models import TimestampedModel
from rapport.parties.choices import Channel
from rapport.parties.models import Account, Contact

_HAS_PARTY = Q(contact__isnull=False) | Q(account__isnull=False)


class PartyLinkedModel(TimestampedModel):
    # No single-column index on the party: each subclass indexes (party, time desc, id desc),
    # which serves every lookup by party. A second, narrower index made PostgreSQL's planner
    # read a long history through it and sort, instead of reading one page in order.
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    related_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    related_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def party(self) -> Contact | Account:
        return self.contact if self.contact_id else self.account  # type: ignore[return-value]


class Interaction(PartyLinkedModel):
    """A touch point on any channel, in either direction."""

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices, default=Direction.OUTBOUND)
    subject = models.CharField(_("subject"), max_length=300, blank=True, default="")
    body = models.TextField(_("body"), blank=True, default="")
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    duration_seconds = models.PositiveIntegerField(_("duration (s)"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True, default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        constraints = [models.CheckConstraint(condition=_HAS_PARTY, name="interaction_has_party")]
        indexes = [
            models.Index(fields=["contact", "-occurred_at", "-id"], name="interaction_contact_time"),
            models.Index(fields=["account", "-occurred_at", "-id"], name="interaction_account_time"),
            models.Index(fields=["related_type", "related_id"], name="interaction_related"),
            # Sales metrics count calls per channel and period.
            models.Index(fields=["channel", "occurred_at"], name="interaction_channel_time"),
        ]

    def __str__(self) -> str:
        return self.subject or self.get_channel_display()


class Note(PartyLinkedModel):
    body = models.TextField(_("note"))

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        constraints = [models.CheckConstraint(condition=_HAS_PARTY, name="note_has_party")]
        indexes = [
            models.Index(fields=["contact", "-created_at", "-id"], name="note_contact_time"),
            models.Index(fields=["account", "-created_at", "-id"], name="note_account_time"),
        ]

    def __str__(self) -> str:
        return self.body[:60]


class Task(PartyLinkedModel):
    """A to-do for ``assignee``. ``reminder_sent_at`` makes the reminder job idempotent."""

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True, default="")
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    reminder_at = models.DateTimeField(_("remind me at"), null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        constraints = [models.CheckConstraint(condition=_HAS_PARTY, name="task_has_party")]
        indexes = [
            models.Index(fields=["contact", "-created_at", "-id"], name="task_contact_time"),
            models.Index(fields=["account", "-created_at", "-id"], name="task_account_time"),
            models.Index(fields=["assignee", "done_at", "due_at"], name="task_assignee_open"),
            models.Index(
                fields=["reminder_at"],
                name="task_reminder_due",
                condition=Q(reminder_sent_at__isnull=True, done_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due_at is not None and self.due_at < timezone.now()


class Attachment(PartyLinkedModel):
    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/")
    name = models.CharField(_("name"), max_length=255)
    size = models.PositiveBigIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        constraints = [models.CheckConstraint(condition=_HAS_PARTY, name="attachment_has_party")]
        indexes = [
            models.Index(fields=["contact", "-created_at", "-id"], name="attachment_contact_time"),
            models.Index(fields=["account", "-created_at", "-id"], name="attachment_account_time"),
        ]

    def __str__(self) -> str:
        return self.name
