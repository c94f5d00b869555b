"""Revenue figures: new revenue (invoiced in the period) and recurring revenue (MRR/ARR at its end).

* New revenue is the **net** (pre-tax) total — ``Invoice.subtotal`` — of the invoices issued in
  the period, each converted to the company currency at the rate of its issue date. SQL sums
  per (owner, currency, issue day); each sum is converted once (``RateTable``), so invoicing an
  order of X raises new revenue by exactly X converted. Invoices follow their order's access
  and owner/team (``core.permissions`` with ``via="order"``).
* MRR is the monthly share of every subscription active on the period's last day
  (``commerce.selectors.active_on_q``): amount ÷ months of its billing period, at that day's rate;
  ARR = 12 × MRR. Sums keep full precision and are rounded once per row.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from rapport.commerce.choices import BILLING_PERIOD_MONTHS
from rapport.commerce.models import Invoice, Subscription
from rapport.commerce.money import quantize
from rapport.commerce.selectors import active_on_q
from rapport.core.models import User
from rapport.sales.metrics_deals import TOTAL
from rapport.sales.metrics_money import RateTable
from rapport.sales.metrics_scope import Period, Scope, owned


def new_revenue(*, actor: User, scope: Scope, period: Period, by_owner: bool = False) -> dict[Any, Decimal]:
    keys = ["order__owner_id"] if by_owner else []
    groups = list(
        owned(actor, Invoice.objects.filter(issue_date__range=(period.start, period.end)), scope, via="order")
        .values(*keys, "currency", "issue_date").annotate(net=Sum("subtotal")).order_by()
    )
    rates = RateTable([g["currency"] for g in groups], period.end)
    out: dict[Any, Decimal] = defaultdict(Decimal)
    for g in groups:
        out[g["order__owner_id"] if by_owner else TOTAL] += rates.convert(g["net"], g["currency"], g["issue_date"])
    if not by_owner:
        out[TOTAL] += 0
    return dict(out)


def recurring_revenue(*, actor: User, scope: Scope, period: Period, by_owner: bool = False
                      ) -> dict[Any, dict[str, Decimal]]:
    keys = ["owner_id"] if by_owner else []
    groups = list(
        owned(actor, Subscription.objects.filter(active_on_q(period.end)), scope)
        .values(*keys, "currency", "billing_period").annotate(total=Sum("amount")).order_by()
    )
    rates = RateTable([g["currency"] for g in groups], period.end)
    monthly: dict[Any, Decimal] = defaultdict(Decimal)
    for g in groups:
        months = BILLING_PERIOD_MONTHS[g["billing_period"]]
        monthly[g["owner_id"] if by_owner else TOTAL] += (
            (g["total"] or Decimal(0)) * rates.rate(g["currency"], period.end) / months
        )
    if not by_owner:
        monthly[TOTAL] += 0
    return {key: {"mrr": quantize(value, rates.target), "arr": quantize(value * 12, rates.target)}
            for key, value in monthly.items()}
