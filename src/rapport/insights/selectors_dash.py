"""Reads for the analytical dashboards (``/insights/...`` pages and ``/api/v1/insights/...``).

One place that (1) checks ``insights.view_warehouse``, (2) computes a page's figures from the
warehouse through ``insights.figures`` or takes them from the cache, and (3) narrows every
per-customer list to the accounts the actor may read (``core.permissions.readable``). The churn
page is not computed from the warehouse: it shows the stored scoring run (``selectors_churn``).

Invariants:
- The cache key holds the warehouse's ``data_version`` (and the file's path): every full build
  and every incremental refresh that changed anything makes every cached figure stale, and a
  refresh of an idle database keeps them; nothing is ever invalidated by hand. Figures that also
  read the operational database (the defection reasons) have a digest of what they read in the key.
- Cached figures are the same for every user: they are aggregates plus ranked customer keys. A
  list shown to a user is cut from those keys *after* the row-access filter, so a rep sees only
  their own customers ranked among themselves, and names are read from the ORM (current, escaped
  by the templates) in the same query that checks access.
- ``dashboards_precompute()`` fills the cache for every page and parameter (and the stored churn
  risk of the latest scoring run); the warehouse refresh and scoring tasks call it when they finish,
  so the first visitor does not wait for a model fit. That helps only with a cache the web processes
  share (``RAPPORT_CACHE_URL``, or the default file cache on one machine).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count

from rapport.core.errors import ValidationFailed
from rapport.core.models import User
from rapport.core.permissions import readable
from rapport.insights import figures, selectors_churn
from rapport.insights.selectors import require_warehouse
from rapport.insights.warehouse import warehouse_connect, warehouse_info, warehouse_path
from rapport.parties.models import Account

CLV_MODELS = ("bgnbd", "pnbd", "mbgnbd")
KM_DIMENSIONS = figures.KM_DIMENSIONS
CACHE_SECONDS = 24 * 3600  # a build changes the key long before this; it only bounds memory
_FIRST_LOOK = 2000  # ranked keys checked against row access in one query before reading all readable ids


def _pyramid_shares() -> dict[str, float]:
    return dict(getattr(settings, "RAPPORT_PYRAMID_SHARES", figures.PYRAMID_SHARES))


def _cached(name: str, compute: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """The figures ``name`` of the live warehouse, computed once per data version."""
    info = warehouse_info()
    con = warehouse_connect()  # raises WarehouseMissing (409) before anything is cached
    try:
        version = info.get("data_version") or info.get("built_at", "")
        key = f"insights:dash:v2:{warehouse_path()}:{version}:{name}"
        value = cache.get(key)
        if value is None:
            value = compute(con)
            cache.set(key, value, CACHE_SECONDS)
        return value
    finally:
        con.close()


def _rfm() -> dict[str, Any]:
    return _cached("rfm", lambda con: figures.rfm_figures(con, shares=_pyramid_shares()))


def _clv(model: str) -> dict[str, Any]:
    if model not in CLV_MODELS:
        raise ValidationFailed(f"model must be one of {', '.join(CLV_MODELS)}", field_errors={"model": ["Unknown."]})
    return _cached(f"clv:{model}", lambda con: figures.clv_figures(con, model=model))


def _defection(dimension: str) -> dict[str, Any]:
    if dimension not in KM_DIMENSIONS:
        raise ValidationFailed(f"dimension must be one of {', '.join(KM_DIMENSIONS)}",
                               field_errors={"dimension": ["Unknown."]})
    reasons = defection_reason_counts()  # a few grouped operational rows: their digest is part of the key
    digest = hashlib.sha256(repr(reasons).encode()).hexdigest()[:16]
    return _cached(f"defection:{dimension}:{digest}",
                   lambda con: figures.defection_figures(con, dimension=dimension, reasons=reasons))


def defection_reason_counts() -> list[dict[str, Any]]:
    """Why customers left, from the operational database (reasons are not warehouse facts), as
    ``{"source", "reason", "count"}`` rows grouped in SQL, so a page view reads one row per reason
    rather than one per defection: the reason given when a deal was lost, and the exit survey's
    reason code of each cancelled subscription (its label; "no reason recorded" where none was
    given)."""
    from rapport.commerce.choices import CancellationReason
    from rapport.commerce.models import Subscription
    from rapport.sales.models import Opportunity

    lost = (Opportunity.objects.filter(status="lost").values("close_reason").annotate(count=Count("pk"))
            .order_by("close_reason"))
    rows: list[dict[str, Any]] = [{"source": "lost deal", "reason": r["close_reason"], "count": r["count"]}
                                  for r in lost]
    cancelled = (Subscription.objects.filter(status="cancelled").values("cancellation_reason")
                 .annotate(count=Count("pk")).order_by("cancellation_reason"))
    labels = dict(CancellationReason.choices)
    rows += [{"source": "cancelled subscription",
              "reason": str(labels.get(r["cancellation_reason"], "")) or "no reason recorded", "count": r["count"]}
             for r in cancelled]
    return rows


def _public(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not k.startswith("_")}


def readable_ranked(actor: User, keys: np.ndarray, limit: int) -> list[tuple[int, int, str]]:
    """``(rank position, account id, name)`` of the first ``limit`` of ``keys`` (ranked best first)
    that ``actor`` may read. Checks the top keys in one query; only when too few of those are
    readable does it read the actor's readable ids (a rep: their own accounts) and intersect."""
    if len(keys) == 0 or limit <= 0:
        return []
    accounts = readable(actor, Account.objects.all())
    head = [int(k) for k in keys[:_FIRST_LOOK]]
    names = dict(accounts.filter(pk__in=head).values_list("pk", "name"))
    picked = [i for i, k in enumerate(head) if k in names][:limit]
    if len(picked) < limit and len(keys) > _FIRST_LOOK:
        ids = np.fromiter(accounts.values_list("pk", flat=True), dtype=np.int64)
        rest = np.flatnonzero(np.isin(keys[_FIRST_LOOK:].astype(np.int64), ids))[: limit - len(picked)] + _FIRST_LOOK
        more = [int(keys[i]) for i in rest]
        names.update(accounts.filter(pk__in=more).values_list("pk", "name"))
        picked += [int(i) for i in rest if int(keys[i]) in names]
    return [(i, int(keys[i]), names[int(keys[i])]) for i in picked]


# --- the pages' reads --------------------------------------------------------------------


def dash_rfm(*, actor: User) -> dict[str, Any]:
    require_warehouse(actor)
    return _public(_rfm())


def dash_clv(*, actor: User, model: str = "bgnbd", top: int = 20) -> dict[str, Any]:
    require_warehouse(actor)
    data = _clv(model)
    out = _public(data)
    if data.get("status") == "ok":
        c = data["_customers"]
        out["top_customers"] = [
            {"rank": rank, "account_id": key, "name": name, "clv": figures._f(c["clv"][i], 2),
             "p_alive": figures._f(c["p_alive"][i]), "expected_purchases": figures._f(c["expected_purchases"][i], 3)}
            for rank, (i, key, name) in enumerate(readable_ranked(actor, c["key"], top), 1)
        ]
    return out


EXIT_COMMENTS = 10


def exit_comments(*, actor: User, limit: int = EXIT_COMMENTS) -> list[dict[str, Any]]:
    """The latest exit-survey answers in the customers' own words (cancelled subscriptions with a
    comment), only of subscriptions ``actor`` may read; read per request (one indexed query of
    ``limit`` rows), not cached with the figures, because who may read them differs per user."""
    from rapport.commerce.choices import CancellationReason
    from rapport.commerce.selectors import subscription_list

    labels = dict(CancellationReason.choices)
    rows = (subscription_list(actor=actor, status="cancelled").exclude(cancellation_comment="")
            .order_by("-cancelled_on", "-id")
            .values("account_id", "account__name", "cancelled_on", "cancellation_reason", "cancellation_comment")
            [:limit])
    return [{"account_id": r["account_id"], "name": r["account__name"], "cancelled_on": r["cancelled_on"],
             "reason": str(labels.get(r["cancellation_reason"], "")) or "no reason recorded",
             "comment": r["cancellation_comment"]} for r in rows]


def dash_defection(*, actor: User, dimension: str = "region", top: int = 50) -> dict[str, Any]:
    require_warehouse(actor)
    data = _defection(dimension)
    out = _public(data)
    out["exit_comments"] = exit_comments(actor=actor)
    c = data["_customers"]
    out["declining"] = [
        {"account_id": key, "name": name, "baseline": figures._f(c["baseline"][i], 2),
         "recent": figures._f(c["recent"][i], 2), "drop": figures._f(c["drop"][i], 2),
         "drop_share": figures._f(c["drop_share"][i]), "p_value": figures._f(c["p_value"][i], 6)}
        for i, key, name in readable_ranked(actor, c["key"], top)
    ]
    return out


def dash_overview(*, actor: User) -> dict[str, Any]:
    """Tiles: customers, revenue, segment and tier counts, median CLV (BG/NBD), the stored churn risk
    of the latest scoring run and the churn alerts' save rate (``selectors_churn``)."""
    require_warehouse(actor)
    rfm, clv = _rfm(), _clv("bgnbd")
    out: dict[str, Any] = {"warehouse": warehouse_info(), "status": rfm.get("status"),
                           **selectors_churn.churn_tiles(actor=actor)}
    if rfm.get("status") != "ok":
        return {**out, "message": rfm.get("message")}
    out.update({
        "customers": rfm["customers"], "revenue": rfm["revenue"], "as_of": rfm["as_of"],
        "segments": [{"segment": s["segment"], "customers": s["customers"]} for s in rfm["segments"]],
        "tiers": [{"tier": t["tier"], "customers": t["customers"]} for t in rfm["pyramid"]],
        "median_clv": clv.get("median_clv") if clv.get("status") == "ok" else None,
        "clv_message": clv.get("message"),
    })
    return out


def dashboards_precompute() -> list[str]:
    """Compute and cache every page's figures for the live warehouse, and the churn page's stored risk
    of the latest scoring run (when there is one); returns what it computed (or found cached)."""
    done = ["rfm"]
    _rfm()
    for model in CLV_MODELS:
        _clv(model)
        done.append(f"clv:{model}")
    run = selectors_churn.latest_run()
    if run is not None:
        selectors_churn.risk_of(run)
        done.append("churn")
    for dimension in KM_DIMENSIONS:
        _defection(dimension)
        done.append(f"defection:{dimension}")
    return done
