"""Quotes: a priced offer made from an opportunity, sent to the customer, accepted or declined.

Invariants:
* ``number`` is issued once per quote family from the gap-free ``NumberSequence`` (kind
  ``quote``); a revision keeps the number and takes ``revision`` n+1, and the revision it
  replaces becomes ``superseded`` in the same transaction — one family has at most one quote
  that is not superseded;
* lines are priced when the quote is made (price book, tier discount, tax) and never change;
  totals are the sums of the lines' rounded amounts; the currency is the price book's;
* ``sent_at`` is set when the quote first goes out (the metrics count proposals from it);
  ``accepted_*`` / ``declined_at`` are written once, by the public acceptance page;
* an accepted quote has exactly one sales ``order`` (``source_reference`` ``quote:<id>``).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rapport.commerce.models import Order, PriceBook, Product, money_field
from rapport.core.models import OwnedModel
from rapport.parties.models import Account, Contact


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    SUPERSEDED = "superseded", _("Superseded")


class Quote(OwnedModel):
    """One revision of an offer. ``version`` (the row's concurrency counter) is not ``revision``."""

    opportunity = models.ForeignKey("sales.Opportunity", verbose_name=_("opportunity"), on_delete=models.CASCADE,
                                    related_name="quotes")
    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    number = models.CharField(_("number"), max_length=20)
    revision = models.PositiveSmallIntegerField(_("revision"), default=1)
    supersedes = models.OneToOneField("self", verbose_name=_("supersedes"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="superseded_by")
    status = models.CharField(_("status"), max_length=10, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT)
    currency = models.CharField(_("currency"), max_length=3)
    price_book = models.ForeignKey(PriceBook, verbose_name=_("price book"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    quote_date = models.DateField(_("date"))
    valid_until = models.DateField(_("valid until"))
    tax_country = models.CharField(_("tax country"), max_length=2, blank=True, default="")
    notes = models.TextField(_("notes"), blank=True, default="")
    subtotal = money_field(_("subtotal"), default=Decimal(0))
    discount_total = money_field(_("discounts"), default=Decimal(0))
    tax_total = money_field(_("tax"), default=Decimal(0))
    total = money_field(_("total"), default=Decimal(0))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    sent_to = models.CharField(_("sent to"), max_length=254, blank=True, default="")
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    declined_at = models.DateTimeField(_("declined"), null=True, blank=True)
    decided_by_name = models.CharField(_("accepted/declined by"), max_length=200, blank=True, default="")
    decided_ip = models.GenericIPAddressField(_("from IP address"), null=True, blank=True)
    order = models.OneToOneField(Order, verbose_name=_("sales order"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        constraints = [
            models.UniqueConstraint(fields=["number", "revision"], name="quote_number_revision_unique"),
            models.CheckConstraint(condition=Q(total__gte=0), name="quote_total_non_negative"),
            models.CheckConstraint(condition=Q(valid_until__gte=models.F("quote_date")), name="quote_valid_after_date"),
        ]
        indexes = [
            models.Index(fields=["opportunity", "-revision"], name="quote_opportunity"),
            models.Index(fields=["sent_at"], name="quote_sent"),
            models.Index(fields=["status", "valid_until"], name="quote_status_valid"),
            # The quote list: newest first, a page at a time (keyset on created_at, id).
            models.Index(fields=["-created_at", "-id"], name="quote_created"),
        ]

    def __str__(self) -> str:
        return f"{self.number} v{self.revision}"


class QuoteLine(models.Model):
    """A priced product on a quote: ``net = quantity × unit_price − discount``, ``total = net + tax``."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit_price = money_field(_("unit price"))
    discount_kind = models.CharField(_("discount kind"), max_length=8, blank=True, default="")
    discount_value = money_field(_("discount"), default=Decimal(0))
    discount_amount = money_field(_("discount amount"), default=Decimal(0))
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=6, decimal_places=3, default=Decimal(0))
    net = money_field(_("net"))
    tax = money_field(_("tax"))
    total = money_field(_("total"))

    class Meta:
        ordering = ["quote_id", "position"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="quote_line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="quote_line_price_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}"
