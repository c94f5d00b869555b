"""The scoring job: every customer of the warehouse scored and stored as a ``CustomerScore``.

``customers_score()`` reads the warehouse (``scoring_features``), then, all vectorised over the
customer base (numpy / pandas, one model fit each, no per-customer Python):

1. RFM: recency / frequency / monetary, quintile scores and the named segment (``analytics.rfm``);
2. behavioural clusters on those three (k chosen by silhouette; description per cluster, kept on the
   ``ScoringRun``);
3. CLV: BG/NBD for P(alive) and expected purchases over the horizon, Gamma-Gamma for spend, and the
   discounted CLV (``analytics.clv``). Customers with an active subscription get the subscription
   CLV instead (life table of all subscriptions → retention curve → ``subscription_clv``). With no
   repeat buying at all the purchase model cannot be fitted: P(alive) and expected purchases stay
   NULL, CLV falls back to historical spend, and the reason is logged and kept on the run;
4. the pyramid tier from CLV or historical profit (``ScoringSettings``);
5. churn: a model trained on a time split of the warehouse itself — features as of
   ``as_of − horizon``, label "no order in the following horizon" — then every customer scored as
   of ``as_of`` with its top drivers. Fallbacks, each logged and kept on the run: boosted trees no
   better than chance (out-of-fold AUC < 0.6, typical below a few hundred customers) → the linear
   baseline with rule-based drivers; no usable model at all (too few churners or non-churners) →
   1 − P(alive). The model's report (``churn_report``: AUC against the baseline, by time split too,
   Brier scores, lift by decile, features, driver importance) and what scored (``scored_with``) are
   kept on ``ScoringRun.notes["churn"]``: the churn dashboard shows them and trains nothing itself;
6. storage: ``CustomerScore`` upserted in batches (``bulk_create(update_conflicts=True)``, i.e.
   ``INSERT … ON CONFLICT DO UPDATE`` on both databases), the previous churn probability kept, the
   account's filter columns set (``parties.services.party_scores_set``), then churn alerts raised
   (``insights.alerts``).

Invariant: a run either stores every customer's scores or none (one transaction for the upsert);
alerts are raised after it commits.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from rapport.analytics import churn as churn_model
from rapport.analytics import clv as clv_model
from rapport.analytics import rfm
from rapport.commerce.choices import BILLING_PERIOD_MONTHS, SubscriptionStatus
from rapport.commerce.models import ExchangeRate, Subscription
from rapport.insights import scoring_features as features
from rapport.insights.choices import ClvKind, PyramidBasis
from rapport.insights.churn_report import driver_importance, model_report
from rapport.insights.models import CustomerScore, ScoringRun, ScoringSettings
from rapport.insights.warehouse import warehouse_connect
from rapport.parties.choices import ChurnRisk
from rapport.parties.models import Account
from rapport.parties.services import party_scores_set

log = logging.getLogger(__name__)

BATCH = 2_000
CHURN_FEATURES = ("days_since_last_order", "tenure_days", "orders", "avg_order_value", "spend_change",
                  "interactions", "inbound_contacts", "days_since_last_interaction", "overdue_invoices",
                  "days_overdue", "active_subscriptions", "days_to_contract_end", "cases", "complaints",
                  "open_cases", "avg_satisfaction", "campaigns_received", "campaign_open_rate", "unsubscribed",
                  "segment", "region")
_UPDATE_FIELDS = [f.name for f in CustomerScore._meta.concrete_fields if f.name not in ("id", "account")]


@dataclass(frozen=True)
class ScoringResult:
    run_id: int
    customers: int
    alerts: int
    seconds: float
    notes: dict[str, Any] = field(default_factory=dict)


def _segment_slug(name: str) -> str:
    return name.lower().replace("'", "").replace(" ", "_")


def risk_band(probability: np.ndarray, threshold: float) -> np.ndarray:
    """'high' at or above the alert threshold, 'medium' from half of it, 'low' below; '' when unknown."""
    p = np.asarray(probability, dtype=float)
    out = np.where(p >= threshold, ChurnRisk.HIGH.value,
                   np.where(p >= threshold / 2, ChurnRisk.MEDIUM.value, ChurnRisk.LOW.value)).astype(object)
    out[np.isnan(p)] = ""
    return out


def _rfm(orders: pd.DataFrame, as_of: dt.date, notes: dict[str, Any]) -> pd.DataFrame:
    summary = rfm.rfm_summary(orders, customer="customer", date="date", amount="amount", as_of=as_of)
    scored = rfm.rfm_scores(summary)
    scored["segment_slug"] = [_segment_slug(s) for s in scored["segment"]]
    ks = range(2, min(6, len(scored) - 1) + 1)
    scored["cluster"] = np.nan
    if len(ks) == 0:
        notes["fallbacks"].append(f"clusters: {len(scored)} customers with orders are too few to cluster")
        return scored
    try:
        clustering = rfm.cluster_customers(scored[["recency", "frequency", "monetary"]], k=ks, seed=0)
    except rfm.ClusterInputError as exc:
        notes["fallbacks"].append(f"clusters: {exc}")
        log.info("scoring: no clusters: %s", exc)
        return scored
    scored["cluster"] = clustering.labels
    notes["clusters"] = {"k": clustering.k, "descriptions": {str(k): v for k, v in clustering.descriptions.items()}}
    return scored


def _clv(orders: pd.DataFrame, as_of: dt.date, cfg: ScoringSettings, notes: dict[str, Any]) -> pd.DataFrame:
    """p_alive, expected_purchases (horizon), clv per customer with orders (index: customer)."""
    today = max(pd.Timestamp(as_of), pd.Timestamp(orders["date"].max()))
    summary = clv_model.summarize(orders, customer="customer", date="date", amount="amount", period="week",
                                  observation_end=as_of, today=today)
    frame = summary.frame
    out = pd.DataFrame(index=frame.index)
    historical = orders.groupby("customer")["amount"].sum().reindex(frame.index)
    try:
        purchases = clv_model.fit_purchases(frame, model="bgnbd")
    except (clv_model.NoRepeatPurchasesError, clv_model.FitError) as exc:
        reason = f"CLV: no purchase model ({exc}); CLV is historical spend, P(alive) unknown"
        log.warning("scoring: %s", reason)
        notes["fallbacks"].append(reason)
        out["p_alive"], out["expected_purchases"] = np.nan, np.nan
        out["clv"], out["clv_kind"] = historical.to_numpy(), ClvKind.HISTORICAL.value
        return out
    try:
        spend: clv_model.SpendFit | None = clv_model.fit_spend(frame)
        notes["spend_warnings"] = list(spend.warnings)  # type: ignore[union-attr]
    except (clv_model.ClvInputError, clv_model.FitError) as exc:
        spend = None
        notes["fallbacks"].append(f"spend: no Gamma-Gamma fit ({exc}); each customer's mean order value is used")
    scores = clv_model.score(purchases, spend, frame, horizon=cfg.horizon_days / 7, months=cfg.clv_months,
                             discount_rate=cfg.discount_rate, periods_per_month=clv_model.PERIODS_PER_MONTH["week"])
    out["p_alive"] = scores["p_alive"]
    out["expected_purchases"] = scores["expected_purchases"]
    bad = ~np.isfinite(out["expected_purchases"].to_numpy(dtype=float))
    if bad.any():
        # Degenerate parameters (e.g. near-deterministic buying) overflow the hypergeometric terms.
        notes["fallbacks"].append(f"CLV: the purchase model gave no finite prediction for {int(bad.sum()):,} "
                                  "customers; their expected purchases and CLV are unknown")
        if bad.all():
            out["p_alive"], out["expected_purchases"] = np.nan, np.nan
            out["clv"], out["clv_kind"] = historical.to_numpy(), ClvKind.HISTORICAL.value
            return out
    if spend is None:
        mean_order = orders.groupby("customer")["amount"].mean().reindex(frame.index).to_numpy()
        per_unit = clv_model.discounted_purchases(
            purchases, frame["frequency"], frame["recency"], frame["T"], months=cfg.clv_months,
            discount_rate=cfg.discount_rate, periods_per_month=clv_model.PERIODS_PER_MONTH["week"])
        out["clv"] = mean_order * per_unit
    else:
        out["clv"] = scores["clv"]
    out["clv_kind"] = ClvKind.DISCOUNTED.value
    notes["clv"] = {"model": "bgnbd", "params": dict(purchases.params),
                    "spend": dict(spend.params) if spend is not None else None}
    return out


def _months_between(start: pd.Series, end: pd.Series) -> np.ndarray:
    s, e = pd.to_datetime(start), pd.to_datetime(end)
    months = (e.dt.year - s.dt.year) * 12 + (e.dt.month - s.dt.month) - (e.dt.day < s.dt.day).astype(int)
    return np.maximum(months.to_numpy(dtype=int), 0)


def _subscription_clv(as_of: dt.date, cfg: ScoringSettings, notes: dict[str, Any]) -> pd.Series:
    """Subscription CLV per account with an active subscription (company currency)."""
    rows = pd.DataFrame.from_records(
        Subscription.objects.order_by().values_list(
            "account_id", "amount", "currency", "billing_period", "start_date", "end_date", "status", "cancelled_on"),
        columns=["account", "amount", "currency", "period", "start", "end", "status", "cancelled"],
    )
    if rows.empty:
        return pd.Series(dtype=float)
    now = pd.Timestamp(as_of)
    rows = rows[pd.to_datetime(rows["start"]) <= now]
    end, cancelled = pd.to_datetime(rows["end"]), pd.to_datetime(rows["cancelled"])
    ended = (rows["status"] != SubscriptionStatus.ACTIVE) | (end <= now)
    # An ended subscription stopped at the earlier of its past end date and its cancellation; one
    # that ended with neither recorded is measured to today (the most its life can have been).
    known = pd.concat([end.where(end <= now), cancelled], axis=1).min(axis=1)
    stop = known.where(ended & known.notna(), now)
    # A subscriber with duration D months has made D payments (value.life_table's convention).
    duration = _months_between(rows["start"], stop) + 1
    table = clv_model.life_table(duration, ended.to_numpy())
    hazard = table["hazard"].iloc[1:].ffill().fillna(0.0).to_numpy()
    if hazard.size == 0:
        hazard = np.zeros(1)
    tenure = duration - 1
    active = ~ended.to_numpy()
    if not active.any():
        return pd.Series(dtype=float)
    retention = clv_model.retention_from_hazard(hazard, int(tenure[active].max()) + cfg.clv_months)
    months = rows["period"].map(lambda p: BILLING_PERIOD_MONTHS.get(p, 1)).to_numpy(dtype=float)
    rates = _rates(set(rows["currency"]))
    rate = rows["currency"].map(rates).to_numpy(dtype=float)
    margin = rows["amount"].astype(float).to_numpy() / months * rate
    act = rows[active].assign(margin=margin[active], tenure=tenure[active])
    act = act[np.isfinite(act["margin"])]
    if len(act) < active.sum():
        notes["fallbacks"].append(f"subscriptions: {int(active.sum()) - len(act)} without an exchange rate left out")
    value = clv_model.subscription_clv(act["margin"].to_numpy(), retention, tenure=act["tenure"].to_numpy(),
                                       discount_rate=cfg.discount_rate, horizon=cfg.clv_months)
    return pd.Series(value, index=act["account"].to_numpy()).groupby(level=0).sum()


def _rates(currencies: set[str]) -> dict[str, float]:
    """Company-currency units per unit of each currency: the latest stored rate (commerce's rule)."""
    company = django_settings.RAPPORT_COMPANY_CURRENCY
    out = {company: 1.0}
    for currency in currencies - {company}:
        rate = ExchangeRate.objects.filter(currency=currency).order_by("-date").values_list("rate", flat=True).first()
        out[currency] = float(rate) if rate is not None else np.nan
    return out


MIN_AUC = 0.6  # below this (out of fold) the trained model is no better than a rough guess
# What produced the stored churn probabilities (ScoringRun.notes["churn"]["scored_with"]).
SCORED_BY_TREES, SCORED_BY_BASELINE, SCORED_BY_P_ALIVE = "trees", "baseline", "p_alive"


def _rule_drivers(current: pd.DataFrame) -> list[list[str]]:
    """Drivers without a trained model: the features whose value is on the risky side of the
    population, strongest first (robust z-scores: distance from the median over the IQR)."""
    def z(column: str, sign: float) -> np.ndarray:
        x = pd.to_numeric(current[column], errors="coerce").to_numpy(dtype=float)
        med = np.nanmedian(x) if np.isfinite(x).any() else 0.0
        iqr = np.subtract(*np.nanpercentile(x, [75, 25])) if np.isfinite(x).any() else 0.0
        out = sign * (x - med) / (iqr if iqr > 0 else (abs(med) or 1.0))
        return np.nan_to_num(out, nan=0.0)

    names = ["days_since_last_order", "spend_change", "inbound_contacts", "days_since_last_interaction", "days_overdue"]
    strength = np.column_stack([z("days_since_last_order", 1), z("spend_change", -1), z("inbound_contacts", 1),
                                z("days_since_last_interaction", 1), z("days_overdue", 1)])
    order = np.argsort(-strength, axis=1, kind="stable")[:, :3]
    return [[f"+{names[j]}" for j in row if strength[i, j] > 0.25] for i, row in enumerate(order)]


def _train(training: pd.DataFrame, cutoff: dt.date, report: dict[str, Any]) -> churn_model.ChurnModel:
    """The churn model, evaluated by 5-fold cross-validation and by a time split: trained on the
    customers acquired first (80%), validated on the latest (the honest figure when newer customers
    behave differently). The acquisition day is the split's clock only, never a feature. When the
    split cannot be made (e.g. one class among the latest customers) the same model is trained without
    it and the report says why; any other error the second attempt raises again, for the caller."""
    columns = [*CHURN_FEATURES, "churned"]
    frame = training[columns].assign(
        first_order=pd.Timestamp(cutoff) - pd.to_timedelta(training["tenure_days"].astype(float), unit="D"))
    try:
        return churn_model.train(frame, target="churned", positive="1", time_column="first_order", folds=5, seed=0)
    except churn_model.ChurnInputError as exc:
        first = exc
    model = churn_model.train(training[columns], target="churned", positive="1", folds=5, seed=0)
    report["time_split_message"] = f"no time split: {first}"
    return model


def _churn(con: Any, as_of: dt.date, cfg: ScoringSettings, notes: dict[str, Any]) -> pd.DataFrame | None:
    """churn_probability and drivers (list) per customer with orders. Without a usable trained model
    the probability is NaN (the caller fills in 1 − P(alive)) and the drivers are rule-based."""
    horizon = cfg.horizon_days
    cutoff = as_of - dt.timedelta(days=horizon)
    history = features.churn_features(con, end=cutoff, horizon_days=horizon)
    current = features.churn_features(con, end=as_of, horizon_days=horizon)
    if current.empty:
        return None
    out = pd.DataFrame(index=current.index)
    # The dashboard's churn report; model_report() fills in the evaluation once a model is trained.
    report: dict[str, Any] = {"cutoff": cutoff.isoformat(), "window_days": horizon, "scored_with": SCORED_BY_TREES}
    notes["churn"] = report

    def fallback(reason: str) -> pd.DataFrame:
        reason = f"churn: {reason}; probability is 1 − P(alive), drivers are rule-based"
        log.warning("scoring: %s", reason)
        notes["fallbacks"].append(reason)
        report["scored_with"] = SCORED_BY_P_ALIVE
        out["churn_probability"] = np.nan
        out["churn_drivers"] = _rule_drivers(current)
        return out

    if history.empty:
        return fallback(f"no customer had ordered by {cutoff}, so there is nothing to train on")
    later = features.orders_frame(con, end=as_of)
    later = later[pd.to_datetime(later["date"]) > pd.Timestamp(cutoff)]
    training = history.copy()
    training["churned"] = (~training.index.isin(later["customer"].unique())).astype(int)
    try:
        model = _train(training, cutoff, report)
    except (churn_model.ChurnInputError, ValueError) as exc:
        return fallback(f"no model trained on the split at {cutoff} ({exc})")
    metrics = model.metrics
    report.update(model_report(model))
    if metrics.auc < MIN_AUC <= metrics.baseline_auc:
        # Small bases: the trees need ~40 customers a leaf, the linear baseline does not.
        reason = (f"churn: the boosted trees trained on {metrics.rows} customers are no better than chance "
                  f"(out-of-fold AUC {metrics.auc:.2f}); the linear baseline (AUC {metrics.baseline_auc:.2f}) "
                  "scores instead, drivers are rule-based")
        log.info("scoring: %s", reason)
        notes["fallbacks"].append(reason)
        report["scored_with"] = SCORED_BY_BASELINE
        out["churn_probability"] = model.baseline_predict(current[list(CHURN_FEATURES)])
        out["churn_drivers"] = _rule_drivers(current)
        return out
    if metrics.auc < MIN_AUC:
        return fallback(f"the model trained on {metrics.rows} customers at {cutoff} is no better than chance "
                        f"(out-of-fold AUC {metrics.auc:.2f}, linear baseline {metrics.baseline_auc:.2f})")
    scored = model.score(current[list(CHURN_FEATURES)], drivers=3)
    drivers = scored[["driver_1", "driver_2", "driver_3"]].to_numpy()
    out["churn_probability"] = scored["churn_probability"].to_numpy()
    out["churn_drivers"] = [[d for d in row if d] for row in drivers]
    return out


def _assemble(con: Any, cfg: ScoringSettings, as_of: dt.date, notes: dict[str, Any]) -> pd.DataFrame:
    customers = features.customers_frame(con).set_index("customer_key")
    frame = pd.DataFrame(index=customers.index)
    orders = features.orders_frame(con, end=as_of)
    orders = orders[orders["amount"] > 0]
    if orders.empty:
        notes["fallbacks"].append("no customer has an order: only empty scores are stored")
        return frame
    scored = _rfm(orders, as_of, notes)
    frame = frame.join(scored[["recency", "frequency", "monetary", "R", "F", "M", "segment_slug", "cluster"]])
    frame = frame.join(_clv(orders, as_of, cfg, notes))
    subs = _subscription_clv(as_of, cfg, notes)
    if len(subs):
        has = frame.index.isin(subs.index)
        frame.loc[has, "clv"] = subs.reindex(frame.index[has]).to_numpy()
        frame.loc[has, "clv_kind"] = ClvKind.SUBSCRIPTION.value
    if cfg.pyramid_basis == PyramidBasis.PROFIT:
        value = orders.groupby("customer")["profit"].sum().reindex(frame.index)
    else:
        value = frame["clv"]
    frame["value_tier"] = rfm.customer_pyramid(value.fillna(0.0).to_numpy(), cutoffs=cfg.cutoffs)
    churn = _churn(con, as_of, cfg, notes)
    if churn is not None:
        frame = frame.join(churn)
    else:
        frame["churn_probability"], frame["churn_drivers"] = np.nan, None
    # 1 − P(alive) wherever the churn model had nothing to say (see _churn's fallbacks).
    missing = frame["churn_probability"].isna()
    frame.loc[missing, "churn_probability"] = 1.0 - frame.loc[missing, "p_alive"]
    return frame


def _value(x: Any) -> Any:
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else x


def _money(x: Any) -> Decimal | None:
    x = _value(x)
    return None if x is None else Decimal(str(round(float(x), 2)))


def _int(x: Any) -> int | None:
    x = _value(x)
    return None if x is None else int(x)


def _rows(frame: pd.DataFrame, previous: pd.Series, run: ScoringRun, now: dt.datetime) -> Iterator[CustomerScore]:
    cols = {c: frame[c].to_numpy() if c in frame else np.full(len(frame), None, dtype=object)
            for c in ("recency", "frequency", "monetary", "R", "F", "M", "segment_slug", "value_tier", "cluster",
                      "p_alive", "expected_purchases", "clv", "clv_kind", "churn_probability", "churn_drivers")}
    prev = previous.reindex(frame.index).to_numpy()
    for i, account_id in enumerate(frame.index):
        drivers = cols["churn_drivers"][i]
        yield CustomerScore(
            account_id=int(account_id), run=run, recency_days=_int(cols["recency"][i]),
            frequency=_int(cols["frequency"][i]), monetary=_money(cols["monetary"][i]),
            r_score=_int(cols["R"][i]), f_score=_int(cols["F"][i]), m_score=_int(cols["M"][i]),
            rfm_segment=_value(cols["segment_slug"][i]) or "", value_tier=_value(cols["value_tier"][i]) or "",
            cluster=_int(cols["cluster"][i]), p_alive=_value(cols["p_alive"][i]),
            expected_purchases=_value(cols["expected_purchases"][i]), clv=_money(cols["clv"][i]),
            clv_kind=_value(cols["clv_kind"][i]) or "", churn_probability=_value(cols["churn_probability"][i]),
            previous_churn_probability=_value(prev[i]),
            churn_drivers=list(drivers) if isinstance(drivers, list) else [], scored_at=now,
        )


def _batches(items: Iterator[CustomerScore], size: int) -> Iterator[list[CustomerScore]]:
    batch: list[CustomerScore] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def customers_score(*, path: Path | None = None, progress: Callable[[str], None] | None = None,
                    raise_alerts: bool = True) -> ScoringResult:
    """Score every customer of the warehouse and store the results (see the module docstring)."""
    from rapport.insights.alerts import alerts_raise

    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    cfg = ScoringSettings.load()
    notes: dict[str, Any] = {"fallbacks": []}
    con = warehouse_connect(path)
    try:
        as_of = features.warehouse_as_of(con)
        say("fitting models")
        frame = _assemble(con, cfg, as_of, notes)
    finally:
        con.close()
    # The warehouse may hold accounts deleted since it was built: they cannot be scored.
    frame = frame[frame.index.isin(set(Account.objects.values_list("pk", flat=True)))]
    if "churn" in notes:
        # Over the customers stored, as the dashboard reads them: those the churn step scored (an order).
        scored = [d for d in frame["churn_drivers"] if isinstance(d, list)]
        notes["churn"].update(drivers=driver_importance(scored), driver_customers=len(scored))
    previous = pd.Series(dict(CustomerScore.objects.values_list("account_id", "churn_probability")), dtype=float)
    now = timezone.now()
    run = ScoringRun.objects.create(as_of=as_of, customers=len(frame),
                                    cluster_descriptions=notes.get("clusters", {}).get("descriptions", {}))
    say(f"storing {len(frame):,} scores")
    bands = risk_band(frame["churn_probability"].to_numpy(dtype=float) if "churn_probability" in frame
                      else np.full(len(frame), np.nan), cfg.churn_alert_threshold)
    with transaction.atomic():
        for batch in _batches(_rows(frame, previous, run, now), BATCH):
            CustomerScore.objects.bulk_create(batch, update_conflicts=True, unique_fields=["account"],
                                              update_fields=_UPDATE_FIELDS)
        # Customers gone from the warehouse keep no stale scores.
        CustomerScore.objects.exclude(run=run).delete()
        party_scores_set(rows=zip(
            map(int, frame.index),
            (frame["segment_slug"].fillna("") if "segment_slug" in frame else [""] * len(frame)),
            (frame["value_tier"].fillna("") if "value_tier" in frame else [""] * len(frame)),
            bands, strict=True))
    alerts = 0
    if raise_alerts and "churn_probability" in frame:
        say("raising churn alerts")
        alerts = alerts_raise(
            probability=frame["churn_probability"], previous=previous.reindex(frame.index), settings=cfg,
            drivers=frame.get("churn_drivers"))
    for reason in notes["fallbacks"]:
        log.info("scoring fallback: %s", reason)
    ScoringRun.objects.filter(pk=run.pk).update(finished_at=timezone.now(), alerts=alerts, notes=notes)
    return ScoringResult(run.pk, len(frame), alerts, time.perf_counter() - started, notes)
