"""Survival and defection analysis: Kaplan–Meier with Greenwood intervals, log-rank tests,
cohort retention, declining accounts and defection-reason tallies. Framework-free (numpy, pandas, scipy)."""

from rapport.analytics.survival.cohorts import cohort_retention
from rapport.analytics.survival.decline import DecliningAccount, declining_accounts
from rapport.analytics.survival.errors import OneGroupError, SurvivalInputError
from rapport.analytics.survival.km import KaplanMeier, kaplan_meier, kaplan_meier_by_group
from rapport.analytics.survival.logrank import LogRankResult, logrank_test
from rapport.analytics.survival.reasons import defection_reasons

__all__ = [
    "DecliningAccount",
    "KaplanMeier",
    "LogRankResult",
    "OneGroupError",
    "SurvivalInputError",
    "cohort_retention",
    "declining_accounts",
    "defection_reasons",
    "kaplan_meier",
    "kaplan_meier_by_group",
    "logrank_test",
]
