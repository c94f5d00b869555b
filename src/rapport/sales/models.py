"""Leads, pipelines and their stages, opportunities and their stage history.

Access: leads and opportunities are owned rows (owner and team, like accounts): reps see their
own and their team's, managers their teams' (``core.permissions``). Pipelines and stages are
reference data that administrators and sales managers maintain; the role decides, not the row.

Invariants:

* a stage belongs to one pipeline; within it ``position`` orders the board left to right and is
  unique; ``probability`` is a whole percentage 0–100; a ``won`` stage has 100, a ``lost`` one 0;
* an opportunity's ``stage`` is a stage of its ``pipeline``; its ``status`` follows the stage's
  kind (open/won/lost) and ``closed_at`` is set exactly when the status is not open;
  ``probability`` is the stage's unless ``probability_overridden``;
* every stage an opportunity enters leaves one :class:`StageChange` row (the first has no
  ``from_stage``), written by the service in the same transaction as the move;
* a lead is converted at most once: ``converted_at`` and the three ``converted_*`` references
  are set together, by the conversion service, and never cleared.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.commerce.models import Product, money_field
from rapport.core.models import OwnedModel, TimestampedModel
from rapport.parties.models import Account, Contact
from rapport.sales.choices import DisqualifyReason, ForecastCategory, LeadStatus, OpportunityStatus, StageKind


class Pipeline(TimestampedModel):
    """A sales process: an ordered set of stages. Exactly one pipeline is the default."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_default = models.BooleanField(_("default"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True, default="")

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="pipeline_one_default"),
        ]

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    """One column of a pipeline's board, with the win probability deals in it carry."""

    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"))
    probability = models.PositiveSmallIntegerField(_("win probability (%)"), validators=[MaxValueValidator(100)])
    kind = models.CharField(_("kind"), max_length=4, choices=StageKind.choices, default=StageKind.OPEN)
    forecast_category = models.CharField(
        _("forecast category"), max_length=10, choices=ForecastCategory.choices, default=ForecastCategory.PIPELINE
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "position"], name="stage_position_unique"),
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_name_unique"),
            models.CheckConstraint(condition=Q(probability__lte=100), name="stage_probability_le_100"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        fixed = {StageKind.WON: 100, StageKind.LOST: 0}
        if self.kind in fixed and self.probability != fixed[self.kind]:
            raise ValidationError({"probability": _("A %(kind)s stage has probability %(p)s%%.")
                                   % {"kind": self.get_kind_display().lower(), "p": fixed[self.kind]}})


class Lead(OwnedModel):
    """A prospective customer not yet qualified into an account, a contact and an opportunity."""

    first_name = models.CharField(_("first name"), max_length=100, blank=True, default="")
    last_name = models.CharField(_("last name"), max_length=100, blank=True, default="")
    company = models.CharField(_("company"), max_length=200, blank=True, default="")
    title = models.CharField(_("job title"), max_length=150, blank=True, default="")
    email = models.CharField(_("email"), max_length=254, blank=True, default="")
    phone = models.CharField(_("phone"), max_length=20, blank=True, default="")
    website = models.CharField(_("website"), max_length=200, blank=True, default="")
    industry = models.CharField(_("industry"), max_length=50, blank=True, default="")
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True, default="")
    region = models.CharField(_("region"), max_length=100, blank=True, default="")
    city = models.CharField(_("city"), max_length=100, blank=True, default="")
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True, default="")
    description = models.TextField(_("description"), blank=True, default="")
    status = models.CharField(_("status"), max_length=12, choices=LeadStatus.choices, default=LeadStatus.NEW)
    disqualify_reason = models.CharField(
        _("disqualified because"), max_length=12, choices=DisqualifyReason.choices, blank=True, default=""
    )
    source = models.CharField(_("source"), max_length=50, blank=True, default="")
    campaign = models.CharField(_("campaign"), max_length=100, blank=True, default="")
    marketing_consent = models.BooleanField(_("agreed to marketing"), default=False)
    consent_confirmed_at = models.DateTimeField(_("opt-in confirmed"), null=True, blank=True)
    score = models.IntegerField(_("score"), default=0)
    score_fit = models.IntegerField(_("fit score"), default=0)
    score_engagement = models.IntegerField(_("engagement score"), default=0)
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True)
    converted_account = models.ForeignKey(
        Account, verbose_name=_("account"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    converted_contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    converted_opportunity = models.ForeignKey(
        "Opportunity", verbose_name=_("opportunity"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="lead_created"),
            models.Index(fields=["status", "-created_at", "-id"], name="lead_status_created"),
            models.Index(fields=["owner", "status", "-created_at", "-id"], name="lead_owner_status"),
            models.Index(fields=["email"], name="lead_email"),
            models.Index(fields=["phone"], name="lead_phone"),
        ]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.company or self.email or f"Lead {self.pk}"


class Opportunity(OwnedModel):
    """A deal: an amount expected to close on a date, moving through a pipeline's stages."""

    name = models.CharField(_("name"), max_length=200)
    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="+")
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=4, choices=OpportunityStatus.choices, default=OpportunityStatus.OPEN
    )
    amount = money_field(_("amount"), default=Decimal(0))
    currency = models.CharField(_("currency"), max_length=3)
    probability = models.PositiveSmallIntegerField(_("probability (%)"), validators=[MaxValueValidator(100)])
    probability_overridden = models.BooleanField(_("probability set by hand"), default=False)
    forecast_category = models.CharField(
        _("forecast category"), max_length=10, choices=ForecastCategory.choices, default=ForecastCategory.PIPELINE
    )
    expected_close_date = models.DateField(_("expected close"))
    next_step = models.CharField(_("next step"), max_length=200, blank=True, default="")
    competitors = models.CharField(_("competitors"), max_length=300, blank=True, default="")
    description = models.TextField(_("description"), blank=True, default="")
    source = models.CharField(_("source"), max_length=50, blank=True, default="")
    campaign = models.CharField(_("campaign"), max_length=100, blank=True, default="")
    lead = models.ForeignKey(
        Lead, verbose_name=_("lead"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    close_reason = models.CharField(_("won/lost reason"), max_length=200, blank=True, default="")
    stage_entered_at = models.DateTimeField(_("in this stage since"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [
            # A board column: one stage's deals, newest activity first, read a page at a time.
            models.Index(fields=["stage", "-updated_at", "-id"], name="opportunity_stage_updated"),
            models.Index(fields=["owner", "status", "expected_close_date"], name="opportunity_owner_close"),
            models.Index(fields=["status", "expected_close_date"], name="opportunity_status_close"),
            models.Index(fields=["account", "status"], name="opportunity_account_status"),
            models.Index(fields=["closed_at"], name="opportunity_closed"),
            # The board's column figures (count and total per stage, probability and currency,
            # narrowed to the deals the actor may see by owner/team) read from this index alone, in
            # its order: SQLite groups without a sort; PostgreSQL still prefers a sequential scan
            # when nearly every row is readable (a manager's board), and that is the right plan.
            models.Index(fields=["pipeline", "stage", "probability", "currency", "owner", "team", "amount"],
                         name="opportunity_board_figures_cur"),
            # Metrics: the stage funnel reads the deals created in a period; "bought before?"
            # probes an account's won deals by close date.
            models.Index(fields=["created_at"], name="opportunity_created"),
            models.Index(fields=["account", "status", "closed_at"], name="opportunity_account_closed"),
            # A team's deal figures: its deals closed in a period, and its open deals by account.
            models.Index(fields=["team", "closed_at"], name="opportunity_team_closed",
                         include=["status", "currency", "amount", "owner", "created_at"]),
            models.Index(fields=["team", "status"], name="opportunity_team_status", include=["owner", "account"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="opportunity_amount_non_negative"),
            models.CheckConstraint(condition=Q(probability__lte=100), name="opportunity_probability_le_100"),
            models.CheckConstraint(
                condition=(Q(status=OpportunityStatus.OPEN, closed_at__isnull=True)
                           | (~Q(status=OpportunityStatus.OPEN) & Q(closed_at__isnull=False))),
                name="opportunity_closed_iff_not_open",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def weighted_amount(self) -> Decimal:
        return self.amount * self.probability / 100


class OpportunityLine(models.Model):
    """A product the deal is about. The opportunity's amount is the caller's, not these lines' sum."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3, default=Decimal(1))
    unit_price = money_field(_("unit price"))
    discount_percent = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2, default=Decimal(0))
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["opportunity_id", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="opportunity_line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="opportunity_line_price_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}"


class StageChange(models.Model):
    """An opportunity entering a stage: the history that cycle times and conversion rates come from."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    amount = money_field(_("amount then"))
    probability = models.PositiveSmallIntegerField(_("probability then (%)"))

    class Meta:
        ordering = ["opportunity_id", "changed_at", "id"]
        indexes = [
            models.Index(fields=["opportunity", "changed_at"], name="stage_change_opportunity"),
            models.Index(fields=["to_stage", "changed_at"], name="stage_change_to_stage"),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity_id}: {self.from_stage_id} → {self.to_stage_id}"


# The rest of the app's models live in their own modules; importing them here registers them with
# Django under this app and keeps ``rapport.sales.models`` the one place to import any of them from.
from rapport.sales.models_forecast import ForecastAdjustment, PeriodKind, Quota  # noqa: E402, F401
from rapport.sales.models_leads import (  # noqa: E402, F401
    AssignmentRule,
    LeadEvent,
    LeadScoringRule,
    WebForm,
)
from rapport.sales.models_quotes import Quote, QuoteLine  # noqa: E402, F401
