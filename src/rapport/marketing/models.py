"""Campaigns and their members: who was sent what, and how each responded.

Invariants:
- A member is one recipient: a contact (once per campaign), or an account without a contact.
  ``sent_at`` is when the campaign reached them, and every response time is on or after it.
  Opening is implied by a click, and both by a response (``services.campaign_response_record``
  fills the earlier steps in).
- Members are never deleted (no delete service, PROTECT from the campaign and the account): the
  warehouse upserts changed members and never looks for deletions.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.core.models import OwnedModel, TimestampedModel
from rapport.marketing.choices import CampaignStatus
from rapport.parties.choices import Channel
from rapport.parties.models import Account, Contact


class Campaign(OwnedModel):
    name = models.CharField(_("name"), max_length=200)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.PLANNED
    )
    starts_on = models.DateField(_("starts"), null=True, blank=True)
    ends_on = models.DateField(_("ends"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True, default="")

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(starts_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="campaign_date_range",
            ),
        ]
        indexes = [models.Index(fields=["-starts_on", "-id"], name="campaign_starts")]

    def __str__(self) -> str:
        return self.name


class CampaignMember(TimestampedModel):
    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.PROTECT,
                                 related_name="members")
    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("clicked"), null=True, blank=True)
    responded_at = models.DateTimeField(_("responded"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)

    class Meta:
        verbose_name = _("campaign member")
        verbose_name_plural = _("campaign members")
        constraints = [
            # Once per contact. (Once per account for members without a contact is the service's
            # rule, not a constraint: a deleted contact leaves its member with none — the message was
            # still sent — and two such members of one account must not make the delete fail.)
            models.UniqueConstraint(fields=["campaign", "contact"], condition=Q(contact__isnull=False),
                                    name="campaign_member_contact_once"),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{f}__isnull": True}) | Q(**{f"{f}__gte": models.F("sent_at")}),
                    name=f"campaign_member_{f}_after_sent",
                )
                for f in ("opened_at", "clicked_at", "responded_at", "unsubscribed_at")
            ),
        ]
        indexes = [
            models.Index(fields=["account", "-sent_at"], name="campaign_member_account"),
            models.Index(fields=["updated_at"], name="campaign_member_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} → {self.account_id}"
