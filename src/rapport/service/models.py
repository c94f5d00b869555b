"""Service cases: a customer's question, problem, complaint or request, from any channel.

Invariants:
- ``resolved_at`` is set exactly when the status is resolved or closed (``choices.DONE``).
- ``satisfaction`` (the customer's CSAT answer, 1 to 5) is given only once a case is done.
- Cases are never deleted (no delete service, PROTECT from the account): the warehouse upserts
  changed cases and never looks for deletions.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.core.models import OwnedModel
from rapport.parties.choices import Channel
from rapport.parties.models import Account, Contact
from rapport.service.choices import CaseKind, CasePriority, CaseStatus


class Case(OwnedModel):
    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject = models.CharField(_("subject"), max_length=300)
    description = models.TextField(_("description"), blank=True, default="")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    kind = models.CharField(_("kind"), max_length=10, choices=CaseKind.choices, default=CaseKind.QUESTION)
    priority = models.CharField(
        _("priority"), max_length=10, choices=CasePriority.choices, default=CasePriority.NORMAL
    )
    status = models.CharField(_("status"), max_length=10, choices=CaseStatus.choices, default=CaseStatus.NEW)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True, default="")
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction (1-5)"), null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True) | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="case_satisfaction_1_to_5",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=models.F("opened_at")),
                name="case_resolved_after_opened",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "-opened_at", "-id"], name="case_account_opened"),
            models.Index(fields=["owner", "status", "-opened_at", "-id"], name="case_owner_status"),
            models.Index(fields=["status", "-opened_at", "-id"], name="case_status_opened"),
            models.Index(fields=["updated_at"], name="case_updated"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"
