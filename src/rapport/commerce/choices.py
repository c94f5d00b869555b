from django.db import models
from django.utils.translation import gettext_lazy as _


class ProductKind(models.TextChoices):
    GOODS = "goods", _("Goods")
    SERVICE = "service", _("Service")
    SUBSCRIPTION = "subscription", _("Subscription")


class DiscountKind(models.TextChoices):
    NONE = "", _("No discount")
    PERCENT = "percent", _("Percentage")
    AMOUNT = "amount", _("Amount")


class OrderStatus(models.TextChoices):
    OPEN = "open", _("Open")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class FulfilmentStatus(models.TextChoices):
    NOT_REQUIRED = "not_required", _("Nothing to ship")
    UNFULFILLED = "unfulfilled", _("Not shipped")
    PARTIAL = "partial", _("Partly shipped")
    FULFILLED = "fulfilled", _("Shipped")


class PaymentStatus(models.TextChoices):
    UNPAID = "unpaid", _("Unpaid")
    PARTIAL = "partial", _("Partly paid")
    PAID = "paid", _("Paid")


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    CARD = "card", _("Card")
    DIRECT_DEBIT = "direct_debit", _("Direct debit")
    CASH = "cash", _("Cash")
    OTHER = "other", _("Other")


class BillingPeriod(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    YEARLY = "yearly", _("Yearly")


# Months in one billing period: MRR = amount / months.
BILLING_PERIOD_MONTHS = {BillingPeriod.MONTHLY: 1, BillingPeriod.QUARTERLY: 3, BillingPeriod.YEARLY: 12}


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


class CancellationReason(models.TextChoices):
    """Why a customer cancelled: the cancellation code, the exit survey's closed question."""

    PRICE = "price", _("Too expensive")
    COMPETITOR = "competitor", _("Moved to a competitor")
    NO_NEED = "no_need", _("No longer needed")
    SERVICE = "service", _("Unhappy with service")
    PRODUCT = "product", _("Product does not fit")
    BUDGET = "budget", _("Budget cut")
    CLOSED = "closed", _("Business closed or merged")
    OTHER = "other", _("Other")
