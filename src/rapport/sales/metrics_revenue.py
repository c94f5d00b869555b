"""Revenue figures: new revenue (invoiced in the period) and recurring revenue (MRR/ARR at its end).

* New revenue is the **net** (pre-tax) total — ``Invoice.subtotal`` — of the invoices issued in
  the period, each converted to the company currency at the rate of its issue date. SQL sums
  per (owner, currency, issue day); each sum is converted once (``RateTable``), so invoicing an
  order of X raises new revenue by exactly X converted. Invoices follow their order's access
  and owner/team, read from the copy each invoice carries (``core.permissions.readable_as``).
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
from rapport.commerce.models import Invoice, Order, Subscription
from rapport.commerce.money import quantize
from rapport.commerce.rate_table import RateTable
from rapport.commerce.selectors import active_on_q
from rapport.core.models import User
from rapport.sales.metrics_deals import TOTAL
from rapport.sales.metrics_scope import Period, Scope, owned, period_index


def new_revenue(*, actor: User, scope: Scope, period: Period, by_owner: bool = False,
                with_total: bool = False) -> dict[Any, Decimal]:
    """New revenue per owner (or under ``TOTAL``); ``with_total`` (with ``by_owner``) adds the
    ``TOTAL`` summed from the owner groups, which partition the invoices in scope."""
    return _new_revenue(actor, scope, [period], by_owner=by_owner, with_total=with_total)[0]


def new_revenue_series(*, actor: User, scope: Scope, periods: list[Period]) -> list[Decimal]:
    """New revenue of each of ``periods`` (consecutive, oldest first) in one query."""
    return [p[TOTAL] for p in _new_revenue(actor, scope, periods)]


def _new_revenue(actor: User, scope: Scope, periods: list[Period], *, by_owner: bool = False,
                 with_total: bool = False) -> list[dict[Any, Decimal]]:
    """One query over the span of ``periods``, grouped by (owner,) currency and issue day; each
    group converted at its day's rate and added to the period containing that day."""
    keys = ["owner_id"] if by_owner else []
    # Invoices carry their order's owner and team (commerce.Invoice): no join to the orders.
    groups = list(
        owned(actor, Invoice.objects.filter(issue_date__range=(periods[0].start, periods[-1].end)), scope,
              as_model=Order)
        .values(*keys, "currency", "issue_date").annotate(net=Sum("subtotal")).order_by()
    )
    rates = RateTable([g["currency"] for g in groups], periods[-1].end)
    out: list[dict[Any, Decimal]] = [defaultdict(Decimal) for _ in periods]
    totals = [TOTAL] if by_owner and with_total else []
    # The total converts each (currency, day) sum once, as a query of the total alone would.
    total_net: dict[tuple[int, str, Any], Decimal] = defaultdict(Decimal)
    for g in groups:
        at = period_index(periods, g["issue_date"])
        if at is None:
            continue  # only for non-consecutive periods: a day outside every period counts nowhere
        out[at][g["owner_id"] if by_owner else TOTAL] += rates.convert(g["net"], g["currency"], g["issue_date"])
        if totals:
            total_net[(at, g["currency"], g["issue_date"])] += g["net"] or Decimal(0)
    for (at, currency, day), net in total_net.items():
        out[at][TOTAL] += rates.convert(net, currency, day)
    for row in out:
        if not by_owner or with_total:
            row[TOTAL] += 0
    return [dict(row) for row in out]


def recurring_revenue(*, actor: User, scope: Scope, period: Period, by_owner: bool = False,
                      with_total: bool = False) -> dict[Any, dict[str, Decimal]]:
    keys = ["owner_id"] if by_owner else []
    groups = list(
        owned(actor, Subscription.objects.filter(active_on_q(period.end)), scope)
        .values(*keys, "currency", "billing_period").annotate(total=Sum("amount")).order_by()
    )
    rates = RateTable([g["currency"] for g in groups], period.end)
    monthly: dict[Any, Decimal] = defaultdict(Decimal)
    totals = [TOTAL] if by_owner and with_total else []
    for g in groups:
        months = BILLING_PERIOD_MONTHS[g["billing_period"]]
        value = (g["total"] or Decimal(0)) * rates.rate(g["currency"], period.end) / months
        for key in (g["owner_id"] if by_owner else TOTAL, *totals):
            monthly[key] += value
    if not by_owner or with_total:
        monthly[TOTAL] += 0
    return {key: {"mrr": quantize(value, rates.target), "arr": quantize(value * 12, rates.target)}
            for key, value in monthly.items()}
