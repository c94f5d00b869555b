from django.db import models
from django.utils.translation import gettext_lazy as _


class PyramidBasis(models.TextChoices):
    CLV = "clv", _("Predicted lifetime value")
    PROFIT = "profit", _("Historical gross profit")


class ClvKind(models.TextChoices):
    DISCOUNTED = "discounted", _("Discounted (BG/NBD + Gamma-Gamma)")
    SUBSCRIPTION = "subscription", _("Subscription")
    HISTORICAL = "historical", _("Historical spend (no repeat buying to model)")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    SAVED = "saved", _("Saved")
    LOST = "lost", _("Lost")
    DISMISSED = "dismissed", _("Dismissed")


class AlertTrigger(models.TextChoices):
    THRESHOLD = "threshold", _("Crossed the threshold")
    JUMP = "jump", _("Jumped")


class SuggestedAction(models.TextChoices):
    CALL = "call", _("Call")
    SERVICE = "service", _("Service follow-up")
    VOUCHER = "voucher", _("Voucher")
    REVIEW = "review", _("Account review")
