"""Quotas and managers' forecast adjustments.

Invariants:

* a quota is for exactly one of a user or a team (never both, never neither), for one period
  (``period`` month/quarter/year starting on ``period_start``, the first day of that period),
  with a non-negative amount in a currency; one quota per (target, period kind, start);
* a forecast adjustment is a manager's figure for one period × (rep or team) × forecast category,
  kept beside the reps' numbers (a rep's own number is always the sum of their deals, never
  stored); a new adjustment for the same key replaces the figure and keeps who/when/note.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rapport.core.models import Team, TimestampedModel
from rapport.sales.choices import ForecastCategory


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


_ONE_TARGET = Q(user__isnull=False, team__isnull=True) | Q(user__isnull=True, team__isnull=False)


class Quota(TimestampedModel):
    """What a rep or a team is expected to close in one period."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("rep"), null=True, blank=True,
                             on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    period = models.CharField(_("period"), max_length=7, choices=PeriodKind.choices, default=PeriodKind.MONTH)
    period_start = models.DateField(_("period start"))
    amount = models.DecimalField(_("amount"), max_digits=19, decimal_places=4)
    currency = models.CharField(_("currency"), max_length=3)

    class Meta:
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")
        constraints = [
            models.CheckConstraint(condition=_ONE_TARGET, name="quota_one_target"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="quota_amount_non_negative"),
            models.UniqueConstraint(fields=["user", "period", "period_start"], condition=Q(user__isnull=False),
                                    name="quota_user_period_unique"),
            models.UniqueConstraint(fields=["team", "period", "period_start"], condition=Q(team__isnull=False),
                                    name="quota_team_period_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id or self.team_id} {self.period} {self.period_start}: {self.amount} {self.currency}"


class ForecastAdjustment(TimestampedModel):
    """A manager's adjusted figure for a period × rep/team × category, beside the reps' own numbers."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("rep"), null=True, blank=True,
                             on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    period = models.CharField(_("period"), max_length=7, choices=PeriodKind.choices, default=PeriodKind.MONTH)
    period_start = models.DateField(_("period start"))
    category = models.CharField(_("forecast category"), max_length=10, choices=ForecastCategory.choices)
    amount = models.DecimalField(_("adjusted amount"), max_digits=19, decimal_places=4)
    currency = models.CharField(_("currency"), max_length=3)
    adjusted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("adjusted by"), null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(_("note"), blank=True, default="")

    class Meta:
        verbose_name = _("forecast adjustment")
        verbose_name_plural = _("forecast adjustments")
        constraints = [
            models.CheckConstraint(condition=_ONE_TARGET, name="forecast_adjustment_one_target"),
            models.UniqueConstraint(fields=["user", "period", "period_start", "category"],
                                    condition=Q(user__isnull=False), name="forecast_adjustment_user_unique"),
            models.UniqueConstraint(fields=["team", "period", "period_start", "category"],
                                    condition=Q(team__isnull=False), name="forecast_adjustment_team_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.period_start}: {self.amount} {self.currency}"
