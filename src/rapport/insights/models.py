"""The insights app's tables: the warehouse permission carrier, stored customer scores, scoring
settings and runs, and churn alerts.

The customer of every score is an **account** (the warehouse's ``dim_customer`` is keyed by account
id: orders belong to accounts, and a contact's interactions are counted for its primary account).
Contacts have no scores of their own.

Invariants:
- ``CustomerScore``: at most one row per account, replaced whole by every scoring run
  (``insights.scoring``); nobody edits it by hand. Fields are NULL where a model could not say
  anything (no purchases; no repeat buying for P(alive)/CLV; too few churners to train).
- ``ScoringSettings``: exactly one row (pk 1, ``ScoringSettings.load()``); pyramid cut-offs decrease
  platinum > gold > iron ≥ 0 and the thresholds are probabilities (``clean``).
- ``ChurnAlert``: at most one *open* alert per account (a partial unique constraint), so a re-run
  never duplicates one; outcomes (saved/lost/dismissed) are set once, with ``outcome_at``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.core.models import Team, TimestampedModel
from rapport.insights.choices import AlertStatus, AlertTrigger, ClvKind, PyramidBasis, SuggestedAction
from rapport.parties.choices import RfmSegment, Tier
from rapport.parties.models import Account


class Warehouse(models.Model):
    """Carries only the ``insights.view_warehouse`` permission (granted by role in ``core.roles``);
    unmanaged, so no table is ever created for it."""

    class Meta:
        managed = False
        default_permissions = ("view",)
        verbose_name = _("analytical warehouse")
        verbose_name_plural = _("analytical warehouse")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


def _probability() -> list:
    return [MinValueValidator(0.0), MaxValueValidator(1.0)]


class ScoringSettings(models.Model):
    """How customers are scored and when a churn alert is raised (one row, edited in the admin)."""

    pyramid_basis = models.CharField(
        _("pyramid by"), max_length=10, choices=PyramidBasis.choices, default=PyramidBasis.CLV,
        help_text=_("Tier customers by predicted lifetime value, or by historical gross profit."),
    )
    platinum_at = models.DecimalField(_("platinum from"), max_digits=19, decimal_places=2, default=Decimal("10000"))
    gold_at = models.DecimalField(_("gold from"), max_digits=19, decimal_places=2, default=Decimal("2000"))
    iron_at = models.DecimalField(_("iron from"), max_digits=19, decimal_places=2, default=Decimal("200"))
    churn_alert_threshold = models.FloatField(
        _("churn alert threshold"), default=0.7, validators=_probability(),
        help_text=_("Raise an alert when a customer's churn probability reaches this."),
    )
    jump_threshold = models.FloatField(
        _("jump threshold"), default=0.25, validators=_probability(),
        help_text=_("…or when it rises by at least this much since the previous run."),
    )
    save_team_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("save-team user"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
        help_text=_("Gets the retention task of unowned accounts (or of every account, see below)."),
    )
    save_team = models.ForeignKey(
        Team, verbose_name=_("save team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("Without a save-team user, the task goes to this team's manager."),
    )
    always_save_team = models.BooleanField(
        _("save team takes every alert"), default=False,
        help_text=_("Send every retention task to the save team, not to the account owner."),
    )
    horizon_days = models.PositiveIntegerField(
        _("horizon (days)"), default=90, validators=[MinValueValidator(7), MaxValueValidator(730)],
        help_text=_("Expected purchases are over this horizon; churn means no order within it."),
    )
    clv_months = models.PositiveIntegerField(
        _("CLV months"), default=12, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    discount_rate = models.FloatField(
        _("monthly discount rate"), default=0.01, validators=[MinValueValidator(0.0), MaxValueValidator(0.5)]
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("scoring settings")
        verbose_name_plural = _("scoring settings")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="scoringsettings_singleton")]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.pk = 1
        self.updated_at = timezone.now()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        p, g, i = self.platinum_at, self.gold_at, self.iron_at
        if None not in (p, g, i):
            if i < 0:
                errors.setdefault("iron_at", []).append(_("Must not be negative."))
            if not g > i:
                errors.setdefault("gold_at", []).append(_("Must be above the iron threshold."))
            if not p > g:
                errors.setdefault("platinum_at", []).append(_("Must be above the gold threshold."))
        if self.jump_threshold is not None and self.jump_threshold <= 0:
            errors.setdefault("jump_threshold", []).append(_("Must be above 0."))
        if self.churn_alert_threshold is not None and self.churn_alert_threshold <= 0:
            errors.setdefault("churn_alert_threshold", []).append(_("Must be above 0."))
        if errors:
            raise ValidationError(errors)

    @classmethod
    def load(cls) -> ScoringSettings:
        """The one row (created with the defaults on first use)."""
        row, _created = cls.objects.get_or_create(pk=1)
        return row

    @property
    def cutoffs(self) -> dict[str, float]:
        return {"platinum": float(self.platinum_at), "gold": float(self.gold_at), "iron": float(self.iron_at)}


class ScoringRun(models.Model):
    """One run of the scoring job: when, how many, which models fitted and why any fell back."""

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    as_of = models.DateField(null=True, blank=True)
    customers = models.PositiveIntegerField(default=0)
    alerts = models.PositiveIntegerField(default=0)
    # {"clv": "...", "churn": {...metrics...}, "fallbacks": ["..."], ...}
    notes = models.JSONField(default=dict, blank=True)
    cluster_descriptions = models.JSONField(default=dict, blank=True)  # {"0": "High frequency, ..."}

    class Meta:
        verbose_name = _("scoring run")
        verbose_name_plural = _("scoring runs")
        ordering = ["-started_at"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} ({self.customers} customers)"


class CustomerScore(models.Model):
    """The latest scores of one account (see the module docstring)."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="customer_score")
    run = models.ForeignKey(ScoringRun, null=True, on_delete=models.SET_NULL, related_name="+")
    recency_days = models.IntegerField(null=True)
    frequency = models.IntegerField(null=True)  # orders
    monetary = models.DecimalField(max_digits=19, decimal_places=2, null=True)  # mean order value
    r_score = models.PositiveSmallIntegerField(null=True)
    f_score = models.PositiveSmallIntegerField(null=True)
    m_score = models.PositiveSmallIntegerField(null=True)
    rfm_segment = models.CharField(max_length=20, choices=RfmSegment.choices, blank=True, default="")
    value_tier = models.CharField(max_length=10, choices=Tier.choices, blank=True, default="")
    cluster = models.SmallIntegerField(null=True)
    p_alive = models.FloatField(null=True)
    expected_purchases = models.FloatField(null=True)  # over ScoringSettings.horizon_days
    clv = models.DecimalField(max_digits=19, decimal_places=2, null=True)  # company currency
    clv_kind = models.CharField(max_length=12, choices=ClvKind.choices, blank=True, default="")
    churn_probability = models.FloatField(null=True)
    previous_churn_probability = models.FloatField(null=True)
    churn_drivers = models.JSONField(default=list, blank=True)  # ["+days_since_last_order", ...]
    scored_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("customer score")
        verbose_name_plural = _("customer scores")
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["rfm_segment", "account"], name="customerscore_segment"),
            models.Index(fields=["value_tier", "account"], name="customerscore_tier"),
            models.Index(fields=["-churn_probability", "account"], name="customerscore_churn"),
            models.Index(fields=["-clv", "account"], name="customerscore_clv"),
        ]

    def __str__(self) -> str:
        return f"scores of account {self.account_id}"

    @property
    def cluster_description(self) -> str:
        if self.cluster is None or self.run is None:
            return ""
        return str(self.run.cluster_descriptions.get(str(self.cluster), ""))


class ChurnAlert(TimestampedModel):
    """A customer whose churn risk crossed the threshold or jumped; worked through a retention task."""

    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    trigger = models.CharField(_("trigger"), max_length=10, choices=AlertTrigger.choices)
    probability = models.FloatField(_("churn probability"))
    previous_probability = models.FloatField(_("previous probability"), null=True, blank=True)
    drivers = models.JSONField(_("reasons"), default=list, blank=True)
    suggested_action = models.CharField(_("suggested action"), max_length=20, choices=SuggestedAction.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assignee"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    task = models.ForeignKey(
        "activities.Task", verbose_name=_("task"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("note"), max_length=500, blank=True, default="")

    class Meta:
        verbose_name = _("churn alert")
        verbose_name_plural = _("churn alerts")
        default_permissions = ("view", "change")
        constraints = [
            models.UniqueConstraint(fields=["account"], condition=Q(status="open"), name="churnalert_one_open"),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at", "-id"], name="churnalert_status"),
            models.Index(fields=["account", "-created_at"], name="churnalert_account"),
            models.Index(fields=["assignee", "status"], name="churnalert_assignee"),
            models.Index(fields=["outcome_at"], name="churnalert_outcome"),
        ]

    def __str__(self) -> str:
        return f"churn alert on account {self.account_id} ({self.status})"
