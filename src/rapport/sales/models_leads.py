"""What turns leads into work: scoring rules, assignment rules, web-to-lead forms, the lead timeline.

Invariants:

* rules run in ``position`` order (then id); inactive rules never run;
* an assignment rule names exactly what its strategy needs: ``user`` for ``user``, ``team`` for
  ``round_robin`` and ``least_loaded``; ``rr_last_user`` is the round-robin pointer, moved only
  under ``select_for_update`` so two concurrent assignments never pick from the same position;
* a web form's ``public_key`` is random, unique and is all the public endpoint trusts;
* a lead has no contact until it is converted, so its calls, notes, tasks and the system's
  assignment/status events live on :class:`LeadEvent`; conversion copies the human entries onto
  the new contact's timeline (``sales.conversion``).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.core.models import Team, TimestampedModel
from rapport.sales.models import Lead


class ScoreKind(models.TextChoices):
    FIT = "fit", _("Fit (who they are)")
    ENGAGEMENT = "engagement", _("Engagement (what they did)")


class ScoreOperator(models.TextChoices):
    EQUALS = "eq", _("is")
    NOT_EQUALS = "ne", _("is not")
    CONTAINS = "contains", _("contains")
    STARTS = "prefix", _("starts with")
    ONE_OF = "in", _("is one of (comma-separated)")
    AT_LEAST = "gte", _("is at least")
    AT_MOST = "lte", _("is at most")
    PRESENT = "present", _("is filled in")
    ABSENT = "absent", _("is empty")
    EACH = "each", _("each time (engagement)")
    ANY = "any", _("at least once (engagement)")


class LeadEventKind(models.TextChoices):
    CALL = "call", _("Call")
    EMAIL = "email", _("Email")
    MEETING = "meeting", _("Meeting")
    NOTE = "note", _("Note")
    TASK = "task", _("Task")
    WEB_FORM = "web_form", _("Web form submitted")
    OPT_IN = "opt_in", _("Opt-in confirmed")
    INBOUND_EMAIL = "inbound", _("Inbound email")
    ASSIGNED = "assigned", _("Assigned")
    STATUS = "status", _("Status changed")
    CONVERTED = "converted", _("Converted")


# Entries people log (moved to the contact on conversion) and the engagement events scoring counts.
HUMAN_EVENTS = (LeadEventKind.CALL, LeadEventKind.EMAIL, LeadEventKind.MEETING, LeadEventKind.NOTE,
                LeadEventKind.TASK, LeadEventKind.INBOUND_EMAIL)
ENGAGEMENT_EVENTS = (*HUMAN_EVENTS, LeadEventKind.WEB_FORM, LeadEventKind.OPT_IN)


class LeadScoringRule(TimestampedModel):
    """``points`` when ``field operator value`` holds (fit), or per/any event of a kind (engagement)."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=ScoreKind.choices, default=ScoreKind.FIT)
    field = models.CharField(_("field or event"), max_length=50)
    operator = models.CharField(
        _("operator"), max_length=10, choices=ScoreOperator.choices, default=ScoreOperator.EQUALS
    )
    value = models.CharField(_("value"), max_length=200, blank=True, default="")
    points = models.IntegerField(_("points"))
    position = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("lead scoring rule")
        verbose_name_plural = _("lead scoring rules")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class AssignmentStrategy(models.TextChoices):
    USER = "user", _("A named salesperson")
    ROUND_ROBIN = "round_robin", _("Round-robin within a team")
    LEAST_LOADED = "least_loaded", _("Fewest open leads within a team")


class AssignmentRule(TimestampedModel):
    """The first active rule whose criteria all hold (blank = any) assigns the lead by its strategy."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    countries = models.CharField(_("countries (ISO codes, comma-separated)"), max_length=200, blank=True, default="")
    region = models.CharField(_("region"), max_length=100, blank=True, default="")
    postcode_prefix = models.CharField(_("postcode starts with"), max_length=20, blank=True, default="")
    industry = models.CharField(_("industry"), max_length=50, blank=True, default="")
    employees_min = models.PositiveIntegerField(_("employees from"), null=True, blank=True)
    employees_max = models.PositiveIntegerField(_("employees up to"), null=True, blank=True)
    strategy = models.CharField(_("strategy"), max_length=12, choices=AssignmentStrategy.choices,
                                default=AssignmentStrategy.USER)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("salesperson"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    team = models.ForeignKey(Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    rr_last_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, editable=False,
                                     on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(employees_min__isnull=True) | Q(employees_max__isnull=True)
                | Q(employees_min__lte=models.F("employees_max")),
                name="assignment_rule_employees_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.strategy == AssignmentStrategy.USER and not self.user_id:
            raise ValidationError({"user": _("Choose the salesperson this rule assigns to.")})
        if self.strategy != AssignmentStrategy.USER and not self.team_id:
            raise ValidationError({"team": _("Choose the team this rule shares leads within.")})
        low, high = self.employees_min, self.employees_max
        if low is not None and high is not None and low > high:
            raise ValidationError({"employees_max": _("Must not be below 'employees from'.")})


def _public_key() -> str:
    return secrets.token_urlsafe(18)


class WebForm(TimestampedModel):
    """A public web-to-lead form: its key, the lead fields it asks for, where leads come from."""

    name = models.CharField(_("name"), max_length=100)
    public_key = models.CharField(_("public key"), max_length=40, unique=True, default=_public_key, editable=False)
    fields = models.JSONField(_("fields"), default=list, help_text=_("Lead fields the form asks for."))
    required = models.JSONField(_("required fields"), default=list)
    source = models.CharField(_("source"), max_length=50, default="web")
    campaign = models.CharField(_("campaign"), max_length=100, blank=True, default="")
    thank_you_text = models.TextField(_("thank-you text"), blank=True, default="")
    redirect_url = models.URLField(_("redirect to"), max_length=300, blank=True, default="")
    double_opt_in = models.BooleanField(_("double opt-in"), default=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("fallback owner"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    is_active = models.BooleanField(_("active"), default=True)
    submissions = models.PositiveIntegerField(_("submissions"), default=0, editable=False)

    class Meta:
        verbose_name = _("web form")
        verbose_name_plural = _("web forms")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class LeadEvent(models.Model):
    """One entry on a lead's timeline."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=10, choices=LeadEventKind.choices)
    at = models.DateTimeField(_("when"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    subject = models.CharField(_("subject"), max_length=200, blank=True, default="")
    body = models.TextField(_("text"), blank=True, default="")
    rule = models.ForeignKey(AssignmentRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    due = models.DateField(_("due"), null=True, blank=True)

    class Meta:
        verbose_name = _("lead event")
        verbose_name_plural = _("lead events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["lead", "-at", "-id"], name="lead_event_lead_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.lead_id})"
