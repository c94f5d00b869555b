"""EM for the Fellegi–Sunter model recovers the parameters that generated the comparison vectors.

Tolerance: with ``matches`` simulated match pairs, an estimated m-probability has a standard error
of at most sqrt(0.25 / matches) = 0.0035 for 20,000 matches. The classes are well separated
(every pattern's posterior is near 0 or 1), so misclassification adds little; 0.02 is about six
standard errors, loose enough never to flake on a fixed seed yet tight enough to catch a wrong
M step (which is off by 0.1 or more). λ is a count ratio and is held to 3% relative.
"""

from __future__ import annotations

import numpy as np

from rapport.analytics.resolve import fellegi_sunter as fs

M = (np.array([0.05, 0.15, 0.80]), np.array([0.10, 0.90]), np.array([0.02, 0.08, 0.20, 0.70]),
     np.array([0.30, 0.70]))
U = (np.array([0.90, 0.08, 0.02]), np.array([0.97, 0.03]), np.array([0.95, 0.03, 0.015, 0.005]),
     np.array([0.80, 0.20]))


def simulate(rng: np.random.Generator, params: tuple[np.ndarray, ...], count: int, missing: float = 0.1) -> np.ndarray:
    columns = []
    for p in params:
        column = rng.choice(len(p), size=count, p=p).astype(np.int8)
        column[rng.random(count) < missing] = -1
        columns.append(column)
    return np.column_stack(columns)


def test_em_recovers_known_m_and_lambda_from_simulated_vectors():
    # given 20,000 match and 180,000 non-match comparison vectors drawn from known m and u
    rng = np.random.default_rng(7)
    matches, others = 20_000, 180_000
    levels = np.concatenate([simulate(rng, M, matches), simulate(rng, U, others)])
    pattern_levels, counts = fs.patterns(levels)
    # when EM fits m and λ with u known
    model = fs.fit(pattern_levels, counts, u=U, total_pairs=matches + others, fields=("a", "b", "c", "d"))
    # then it converges to the generating parameters
    assert model.converged
    for fitted, true in zip(model.m, M, strict=True):
        assert np.max(np.abs(fitted - true)) < 0.02, (fitted, true)
    assert abs(model.lam - 0.1) / 0.1 < 0.03
    assert len(counts) < len(levels) / 100  # identical patterns were aggregated


def test_em_log_likelihood_never_decreases():
    rng = np.random.default_rng(3)
    levels = np.concatenate([simulate(rng, M, 2_000), simulate(rng, U, 50_000)])
    pattern_levels, counts = fs.patterns(levels)
    model = fs.fit(pattern_levels, counts, u=U, total_pairs=200_000, fields=("a", "b", "c", "d"))
    steps = np.diff(np.array(model.history))
    assert model.iterations == len(model.history)
    assert (steps >= -1e-6 * abs(model.history[-1])).all()


def test_em_on_blocked_candidates_estimates_lambda_over_all_pairs():
    # given every pair of a table (1% matches), of which blocking keeps those agreeing fully on
    # at least one field: a function of the comparison vector, as real blocking is
    rng = np.random.default_rng(11)
    matches, others = 20_000, 1_980_000
    levels = np.concatenate([simulate(rng, M, matches), simulate(rng, U, others)])
    is_match = np.arange(len(levels)) < matches
    tops = np.array([len(p) - 1 for p in M])
    kept = (levels == tops).any(axis=1)
    pattern_levels, counts = fs.patterns(levels[kept])
    # when EM sees only the candidates but knows how many pairs the table has
    model = fs.fit(pattern_levels, counts, u=U, total_pairs=len(levels), fields=("a", "b", "c", "d"))
    # then λ is the share of (found) matches among all pairs, and m is still recovered
    found = (kept & is_match).sum() / len(levels)
    assert kept.sum() < len(levels) / 4
    assert abs(model.lam - found) / found < 0.03
    for fitted, true in zip(model.m, M, strict=True):
        assert np.max(np.abs(fitted - true)) < 0.02, (fitted, true)


def test_a_related_class_absorbs_pairs_that_share_only_contact_fields():
    # given matches, strangers, and "households" that agree on field d (a shared address) like
    # matches but look like strangers on the personal fields a-c
    rng = np.random.default_rng(5)
    household = (U[0], U[1], U[2], np.array([0.05, 0.95]))
    levels = np.concatenate([simulate(rng, M, 20_000), simulate(rng, U, 160_000), simulate(rng, household, 20_000)])
    pattern_levels, counts = fs.patterns(levels)
    related = (fs.Related("household", free=(False, False, False, True)),)
    # when the model has a related class free on d
    model = fs.fit(pattern_levels, counts, u=U, total_pairs=200_000, fields=("a", "b", "c", "d"), related=related)
    # then m is recovered and the households are the related class, not matches
    assert np.max(np.abs(model.m[0] - M[0])) < 0.02
    assert np.max(np.abs(model.m[3] - M[3])) < 0.03
    assert abs(model.lam - 0.1) / 0.1 < 0.05
    # (How the non-matches split between the related and the unrelated class is not identified
    # here — they differ on d alone — so the test asserts only what scoring depends on.)
    household_like = np.array([[0, 0, 0, 1]], dtype=np.int8)
    assert model.probability(household_like)[0] < 0.01


def test_match_weight_adds_log_ratios_and_missing_levels_add_nothing():
    model = fs.Model(fields=("a", "b"), m=(np.array([0.2, 0.8]), np.array([0.1, 0.9])),
                     u=(np.array([0.9, 0.1]), np.array([0.5, 0.5])), lam=0.01, iterations=0,
                     log_likelihood=0.0, converged=True)
    levels = np.array([[1, 1], [1, -1], [-1, -1]], dtype=np.int8)
    prior = np.log(0.01 / 0.99)
    expected = [prior + np.log(8) + np.log(1.8), prior + np.log(8), prior]
    assert np.allclose(model.match_weight(levels), expected)
    assert np.allclose(model.probability(levels), 1 / (1 + np.exp(-np.array(expected))))


def test_refine_with_labels_moves_m_towards_the_labelled_matches():
    # given a fit on simulated data, then labelled matches that all disagree on field b
    rng = np.random.default_rng(2)
    levels = np.concatenate([simulate(rng, M, 2_000), simulate(rng, U, 18_000)])
    pattern_levels, counts = fs.patterns(levels)
    model = fs.fit(pattern_levels, counts, u=U, total_pairs=20_000, fields=("a", "b", "c", "d"))
    labels = np.tile(np.array([[2, 0, 3, 1]], dtype=np.int8), (500, 1))
    # when refined
    refined = fs.refine(model, pattern_levels, counts, label_levels=labels, label_match=np.ones(500),
                        total_pairs=20_000)
    # then m(b = disagree) grows, the labelled pattern scores higher, and the labels are counted
    assert refined.m[1][0] > model.m[1][0] + 0.1
    assert refined.probability(labels[:1])[0] > model.probability(labels[:1])[0]
    assert refined.labelled_pairs == 500


def test_fit_without_candidates_returns_a_neutral_model():
    model = fs.fit(np.zeros((0, 2), dtype=np.int8), np.zeros(0), u=U[:2], total_pairs=10, fields=("a", "b"))
    assert model.iterations == 0
    assert model.converged
