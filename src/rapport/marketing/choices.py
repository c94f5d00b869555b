from django.db import models
from django.utils.translation import gettext_lazy as _


class CampaignStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class ResponseEvent(models.TextChoices):
    """What a campaign member did, in funnel order: each implies the ones before it."""

    OPENED = "opened", _("Opened")
    CLICKED = "clicked", _("Clicked")
    RESPONDED = "responded", _("Responded")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
