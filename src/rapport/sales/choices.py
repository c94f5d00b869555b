from django.db import models
from django.utils.translation import gettext_lazy as _


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    CONTACTED = "contacted", _("Contacted")
    QUALIFIED = "qualified", _("Qualified")
    DISQUALIFIED = "disqualified", _("Disqualified")
    CONVERTED = "converted", _("Converted")


class DisqualifyReason(models.TextChoices):
    NO_BUDGET = "no_budget", _("No budget")
    NO_NEED = "no_need", _("No need")
    NO_AUTHORITY = "no_authority", _("Not a decision maker")
    BAD_TIMING = "bad_timing", _("Bad timing")
    UNREACHABLE = "unreachable", _("Could not be reached")
    COMPETITOR = "competitor", _("Went with a competitor")
    SPAM = "spam", _("Spam or fake")
    DUPLICATE = "duplicate", _("Duplicate")
    OTHER = "other", _("Other")


class StageKind(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class OpportunityStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class ForecastCategory(models.TextChoices):
    PIPELINE = "pipeline", _("Pipeline")
    BEST_CASE = "best_case", _("Best case")
    COMMIT = "commit", _("Commit")
    CLOSED = "closed", _("Closed")
    OMITTED = "omitted", _("Omitted")
