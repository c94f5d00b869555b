"""Kaplan–Meier and log-rank against lifelines (reference library, test-only), and recovery of a known
survival function from simulated censored data."""

from __future__ import annotations

import numpy as np
import pytest
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test as ll_logrank
from lifelines.statistics import multivariate_logrank_test

from rapport.analytics.survival import kaplan_meier, kaplan_meier_by_group, logrank_test


def _data(seed: int, n: int = 800, groups: int = 3):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, groups, n)
    t = np.round(rng.exponential(5 + 2 * g), 1)  # rounding makes ties
    e = rng.random(n) < 0.7
    return t, e, g


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_km_matches_lifelines(seed: int) -> None:
    t, e, _ = _data(seed)
    ours = kaplan_meier(t, e)
    ref = KaplanMeierFitter().fit(t, e)
    np.testing.assert_allclose(ours.timeline, ref.survival_function_.index.to_numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.survival, ref.survival_function_.iloc[:, 0], atol=1e-6)
    np.testing.assert_allclose(ours.lower, ref.confidence_interval_.iloc[:, 0], atol=1e-6)
    np.testing.assert_allclose(ours.upper, ref.confidence_interval_.iloc[:, 1], atol=1e-6)
    assert ours.median == pytest.approx(ref.median_survival_time_)


def test_km_per_segment_matches_lifelines() -> None:
    t, e, g = _data(4)
    curves = kaplan_meier_by_group(t, e, g)
    assert sorted(curves) == [0, 1, 2]
    for label, curve in curves.items():
        ref = KaplanMeierFitter().fit(t[g == label], e[g == label])
        np.testing.assert_allclose(curve.survival, ref.survival_function_.iloc[:, 0], atol=1e-6)


@pytest.mark.parametrize("seed", [5, 6])
def test_two_group_logrank_matches_lifelines(seed: int) -> None:
    t, e, g = _data(seed, groups=2)
    ours = logrank_test(t, e, g)
    ref = ll_logrank(t[g == 0], t[g == 1], e[g == 0], e[g == 1])
    assert ours.statistic == pytest.approx(ref.test_statistic, abs=1e-6)
    assert ours.p_value == pytest.approx(ref.p_value, abs=1e-6)
    assert ours.degrees_of_freedom == 1


@pytest.mark.parametrize("groups", [3, 4])
def test_multigroup_logrank_matches_lifelines(groups: int) -> None:
    t, e, g = _data(7, groups=groups)
    ours = logrank_test(t, e, g)
    ref = multivariate_logrank_test(t, g, e)
    assert ours.statistic == pytest.approx(ref.test_statistic, abs=1e-6)
    assert ours.p_value == pytest.approx(ref.p_value, abs=1e-6)
    assert ours.degrees_of_freedom == groups - 1


def test_logrank_does_not_reject_identical_groups_too_often() -> None:
    rng = np.random.default_rng(8)
    rejections = 0
    for _ in range(200):
        t = rng.exponential(3, 200)
        rejections += logrank_test(t, None, rng.integers(0, 2, 200)).p_value < 0.05
    assert rejections / 200 < 0.1


def test_km_recovers_weibull_under_censoring() -> None:
    rng = np.random.default_rng(9)
    n, shape, scale = 20_000, 1.5, 10.0
    life = scale * rng.weibull(shape, n)
    censor = rng.uniform(0, 25, n)
    t, e = np.minimum(life, censor), life <= censor
    curve = kaplan_meier(t, e)
    grid = np.array([2.0, 5.0, 10.0, 15.0])
    truth = np.exp(-((grid / scale) ** shape))
    np.testing.assert_allclose(curve.at(grid), truth, atol=0.015)
    assert curve.median == pytest.approx(scale * np.log(2) ** (1 / shape), rel=0.03)
    inside = (curve.at(grid) >= 0) & (np.interp(grid, curve.timeline, curve.lower) <= truth + 0.01)
    assert inside.all()


@pytest.mark.parametrize(
    ("t", "e"),
    [([0, 0, 1, 2, 3, 3], None), ([1, 2, 2, 5], [1, 1, 0, 1]), ([4, 4, 4], [0, 0, 0])],
    ids=["events-at-zero-and-curve-to-zero", "last-is-event", "all-censored"],
)
def test_km_edge_cases_match_lifelines(t, e) -> None:
    ours = kaplan_meier(t, e)
    ref = KaplanMeierFitter().fit(t, e)
    np.testing.assert_allclose(ours.survival, ref.survival_function_.iloc[:, 0], atol=1e-6)
    np.testing.assert_allclose(ours.lower, ref.confidence_interval_.iloc[:, 0], atol=1e-6)
    np.testing.assert_allclose(ours.upper, ref.confidence_interval_.iloc[:, 1], atol=1e-6)
