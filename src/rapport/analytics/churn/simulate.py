"""A customer base whose churn mechanism is known, to check that a model recovers it.

    base = customers(30_000, seed=1)
    base.frame          # customer_id, features, signup_date, contract_end, plan, region, autopay
    base.churned        # 0/1 drawn from base.probability
    true_logit(base.frame, base.reference_date)   # the mechanism itself, for oracle drivers

The mechanism is a logistic of recency (a threshold: nothing until 60 days, a step after),
frequency and monetary value (diminishing: logs), tenure (new customers churn more), spend trend,
complaints (worse when satisfaction is low — an interaction), satisfaction, e-mail engagement,
payment failures (convex), contract end within 30 days, plan and autopay. Satisfaction and e-mail
engagement are missing for some customers; missingness itself carries no signal. The intercept is
set so that about a fifth of customers churn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

REFERENCE_DATE = pd.Timestamp("2026-06-30")
PLANS = ("basic", "plus", "pro")
REGIONS = ("north", "south", "east", "west", "central")
_PLAN_EFFECT = {"basic": 0.5, "plus": 0.0, "pro": -0.4}


@dataclass(frozen=True)
class Simulated:
    frame: pd.DataFrame
    churned: np.ndarray
    probability: np.ndarray
    reference_date: pd.Timestamp


def true_logit(frame: pd.DataFrame, reference_date: pd.Timestamp = REFERENCE_DATE) -> np.ndarray:
    """The log-odds of churn of each row of a :func:`customers` frame (missing values count as typical)."""
    recency = frame["recency_days"].to_numpy(float)
    tenure = ((reference_date - pd.to_datetime(frame["signup_date"])).dt.days / 30.44).to_numpy(float)
    to_end = (pd.to_datetime(frame["contract_end"]) - reference_date).dt.days.to_numpy(float)
    satisfaction = np.nan_to_num(frame["satisfaction"].to_numpy(float), nan=3.8)
    opens = np.nan_to_num(frame["email_open_rate"].to_numpy(float), nan=0.25)
    complaints = frame["complaints"].to_numpy(float)
    return (-2.3
            + np.where(recency > 60, 2.2, 0.0)                                        # a threshold, flat after
            - 0.45 * np.log1p(frame["frequency"].to_numpy(float))
            - 0.15 * np.log1p(frame["monetary"].to_numpy(float) / 10)
            + 1.2 * np.exp(-tenure / 6)                                            # new customers leave more
            - 0.9 * np.clip(frame["spend_trend"].to_numpy(float), -1, 1)
            + complaints * (0.25 + 0.35 * np.clip(4 - satisfaction, 0, None))      # complaints × dissatisfaction
            - 0.35 * (satisfaction - 3.8)
            - 1.2 * opens
            + 0.35 * frame["payment_failures"].to_numpy(float) ** 1.5              # convex in failures
            + np.where((to_end >= 0) & (to_end <= 30), 1.3, 0.0)                   # contract ends soon
            + frame["plan"].map(_PLAN_EFFECT).to_numpy(float)
            - 0.3 * frame["autopay"].to_numpy(float)
            + 0.2 * frame["cases_open"].to_numpy(float))


def customers(n: int, *, seed: int = 0, reference_date: pd.Timestamp = REFERENCE_DATE) -> Simulated:
    """``n`` customers with typed columns (numbers, booleans, categories, dates) and their churn."""
    rng = np.random.default_rng(seed)
    tenure_days = rng.gamma(1.6, 400, n).astype(int) + 1
    frequency = rng.negative_binomial(2, 0.25, n)
    recency = np.minimum(rng.exponential(45, n) * (1 + 3 / (1 + frequency)), tenure_days).astype(int)
    satisfaction = np.clip(np.round(rng.normal(3.8, 0.9, n), 1), 1, 5)
    satisfaction[rng.random(n) < 0.15] = np.nan
    opens = rng.beta(2, 6, n)
    opens[rng.random(n) < 0.1] = np.nan
    contract_end = reference_date + pd.to_timedelta(rng.integers(-200, 400, n), unit="D")
    frame = pd.DataFrame({
        "customer_id": np.arange(1, n + 1),
        "recency_days": recency,
        "frequency": frequency,
        "monetary": np.round(rng.lognormal(4, 0.8, n), 2),
        "spend_trend": np.round(rng.normal(0, 0.4, n), 3),
        "cases_open": rng.poisson(0.3, n),
        "complaints": rng.poisson(0.4, n),
        "satisfaction": satisfaction,
        "email_open_rate": np.round(opens, 3),
        "payment_failures": rng.poisson(0.25, n),
        "contract_end": contract_end,
        "signup_date": reference_date - pd.to_timedelta(tenure_days, unit="D"),
        "plan": rng.choice(PLANS, n, p=[0.5, 0.35, 0.15]),
        "region": rng.choice(REGIONS, n),              # no effect: a model should not lean on it
        "autopay": rng.random(n) < 0.6,
    })
    probability = 1 / (1 + np.exp(-true_logit(frame, reference_date)))
    churned = (rng.random(n) < probability).astype(int)
    return Simulated(frame, churned, probability, reference_date)
