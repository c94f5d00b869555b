"""Activity figures: open and new leads, sales calls, calls per lead, proposals (quotes) given.

* open leads: leads in scope whose status is new/contacted/qualified now (a snapshot);
* new leads: leads in scope created in the period;
* sales calls: phone interactions in the period logged by sellers (users with the sales rep or
  sales manager role) in scope; interactions are not owned rows, so the scope is their
  ``owner`` (``metrics_scope.sellers``: the actor, their team, the teams they manage), and the
  actor needs the view permission on interactions;
* calls per lead: sales calls ÷ new leads (None when no lead came in);
* proposals: quotes in scope with ``sent_at`` in the period (the first sending; revisions that
  were sent count each).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count

from rapport.activities.models import Interaction
from rapport.core import permissions
from rapport.core.models import User
from rapport.parties.choices import Channel
from rapport.sales.choices import LeadStatus
from rapport.sales.metrics_deals import TOTAL
from rapport.sales.metrics_scope import Period, Scope, owned, sellers
from rapport.sales.models import Lead, Quote

OPEN_LEAD_STATUSES = (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED)
CALL_CHANNELS = (Channel.PHONE,)


def _grouped(qs: Any, key: str | None, name: str, out: dict[Any, dict[str, Any]], *, with_total: bool = False
             ) -> None:
    rows = qs.values(key).annotate(n=Count("id")).order_by() if key else [{"n": qs.count()}]
    for g in rows:
        out[g[key] if key else TOTAL][name] = g["n"]
        if key and with_total:
            out[TOTAL][name] += g["n"]


def activity_figures(*, actor: User, scope: Scope, period: Period, by_owner: bool = False,
                     with_total: bool = False) -> dict[Any, dict[str, Any]]:
    """The figures per owner (or under ``TOTAL``); ``with_total`` (with ``by_owner``) adds the
    ``TOTAL`` row summed from the owner groups (counts of rows the groups partition)."""
    first, after = period.dt_range()
    key = "owner_id" if by_owner else None
    out: dict[Any, dict[str, Any]] = defaultdict(lambda: {"open_leads": 0, "new_leads": 0, "sales_calls": 0,
                                                          "proposals": 0})
    if by_owner and with_total:
        out[TOTAL]  # present even when nothing is counted
    leads = owned(actor, Lead.objects.all(), scope)
    _grouped(leads.filter(status__in=OPEN_LEAD_STATUSES), key, "open_leads", out, with_total=with_total)
    _grouped(leads.filter(created_at__gte=first, created_at__lt=after), key, "new_leads", out, with_total=with_total)
    permissions.require_model_perm(actor, Interaction, "view")
    calls = Interaction.objects.filter(channel__in=CALL_CHANNELS, occurred_at__gte=first, occurred_at__lt=after,
                                       owner_id__in=sellers(actor, scope).values("pk"))
    _grouped(calls, key, "sales_calls", out, with_total=with_total)
    quotes = owned(actor, Quote.objects.filter(sent_at__gte=first, sent_at__lt=after), scope)
    _grouped(quotes, key, "proposals", out, with_total=with_total)
    for row in out.values():
        row["calls_per_lead"] = row["sales_calls"] / row["new_leads"] if row["new_leads"] else None
    return dict(out)
