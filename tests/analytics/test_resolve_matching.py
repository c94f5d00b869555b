"""The whole resolver on simulated people, labels, edge cases, clustering and the accuracy measure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rapport.analytics.resolve import ColumnMap, evaluate, resolve
from rapport.analytics.resolve.cluster import cluster
from rapport.analytics.resolve.simulate import COMPANY_KINDS, KINDS, people


@pytest.fixture(scope="module")
def simulated() -> pd.DataFrame:
    return people(4_000, seed=3)


@pytest.fixture(scope="module")
def resolved(simulated: pd.DataFrame):
    return resolve(simulated.drop(columns=["entity_id", "corruptions"]))


def test_the_simulator_is_seeded_labelled_and_corrupted(simulated: pd.DataFrame):
    assert len(simulated) == 4_000
    assert simulated["id"].is_unique
    assert people(4_000, seed=3).equals(simulated)
    duplicated_entities = simulated["entity_id"].value_counts()
    share = (duplicated_entities > 1).sum() / len(duplicated_entities)
    assert 0.2 <= share <= 0.4
    applied = {k for text in simulated["corruptions"] for k in text.split(";") if k}
    assert applied == {*KINDS, *COMPANY_KINDS}


def test_the_matcher_is_accurate_on_simulated_people_without_labels(simulated: pd.DataFrame, resolved):
    # when resolved without any label, then pairwise precision and recall are high
    accuracy = evaluate(resolved.clusters, simulated)
    assert accuracy.precision >= 0.99
    assert accuracy.recall >= 0.97
    assert accuracy.f1 >= 0.98
    assert resolved.model is not None and resolved.model.converged
    assert resolved.warnings == ()
    assert set(accuracy.per_kind) == {*KINDS, *COMPANY_KINDS, "none"}
    assert all(c.recall >= 0.9 for k, c in accuracy.per_kind.items() if k != "none")


def test_every_record_gets_one_cluster_and_pairs_carry_their_evidence(simulated: pd.DataFrame, resolved):
    clusters = resolved.clusters
    assert list(clusters["id"]) == list(simulated["id"])
    assert clusters["confidence"].between(0, 1).all()
    # a cluster id is one of its members' ids
    assert set(clusters["cluster_id"]) <= set(clusters["id"])
    pairs = resolved.pairs
    assert {"id_l", "id_r", "probability", "match_weight", "swapped", "given_name", "location"} <= set(pairs.columns)
    assert pairs["probability"].is_monotonic_decreasing
    assert (pairs["probability"] >= 0.05).all()


def test_labels_fix_their_pairs_and_refine_the_model(simulated: pd.DataFrame, resolved):
    # given a reviewer who rejects the strongest pair and confirms a pair the model doubted
    pairs = resolved.pairs[resolved.pairs["match_weight"] < np.inf]
    strongest = pairs.iloc[0]
    truth = simulated.set_index("id")["entity_id"]
    doubted = pairs[(pairs["probability"] < 0.5) &
                    (pairs["id_l"].map(truth) == pairs["id_r"].map(truth))].iloc[0]
    labels = pd.DataFrame({"id_l": [strongest["id_l"], doubted["id_l"]], "id_r": [strongest["id_r"], doubted["id_r"]],
                           "match": [False, True]})
    # when resolved with those labels
    again = resolve(simulated.drop(columns=["entity_id", "corruptions"]), labels=labels)
    cluster_of = again.clusters.set_index("id")["cluster_id"]
    # then the confirmed pair is linked, the labels are counted, and the rejected pair scores 0
    assert cluster_of[doubted["id_l"]] == cluster_of[doubted["id_r"]]
    assert again.model.labelled_pairs == 2
    got = again.pairs.set_index(["id_l", "id_r"])["probability"]
    assert got[(doubted["id_l"], doubted["id_r"])] == 1.0
    assert (strongest["id_l"], strongest["id_r"]) not in got.index


def test_u_is_measured_from_value_counts():
    # given 3,000 records whose surname takes 50 values equally often, and nothing else in common
    frame = pd.DataFrame({"id": [str(i) for i in range(3_000)], "surname": [f"name{i % 50}" for i in range(3_000)],
                          "email": [f"p{i}@example.org" for i in range(3_000)]})
    result = resolve(frame, columns=ColumnMap(given_name=None))
    surname = result.model.fields.index("surname")
    # then u(surname same) is the chance two random records share one: (60 - 1) / (3000 - 1)
    assert abs(result.model.u[surname][-1] - 59 / 2999) < 1e-9
    assert result.cluster_count == 3_000


def test_exact_copies_are_collapsed_and_sparse_copies_are_not():
    # given 5,000 identical full records, and two records that share only a surname
    full = {"given_name": "Ann", "surname": "Lee", "email": "ann@example.org", "date_of_birth": "1990-01-02"}
    frame = pd.DataFrame([full] * 5_000 + [{"surname": "Lee"}, {"surname": "Lee"}])
    frame.insert(0, "id", [f"r{i}" for i in range(len(frame))])
    result = resolve(frame)
    sizes = result.clusters["cluster_id"].value_counts()
    # then the copies are one cluster, without blocking them, and the sparse two stay apart
    assert sizes["r0"] == 5_000
    assert result.collapsed == 4_999
    assert result.clusters.set_index("id").loc[["r5000", "r5001"], "cluster_id"].tolist() == ["r5000", "r5001"]


@pytest.mark.parametrize("n", [0, 1])
def test_tiny_inputs_resolve_to_themselves(n: int):
    frame = pd.DataFrame({"id": [str(i) for i in range(n)], "surname": ["Lee"] * n})
    result = resolve(frame)
    assert list(result.clusters["cluster_id"]) == [str(i) for i in range(n)]
    assert len(result.pairs) == 0


def test_bad_arguments_are_refused():
    frame = pd.DataFrame({"id": ["a", "a"], "surname": ["x", "y"]})
    with pytest.raises(ValueError, match="duplicate"):
        resolve(frame)
    with pytest.raises(KeyError, match="no id column"):
        resolve(frame, id_column="nope")
    with pytest.raises(ValueError, match="threshold"):
        resolve(frame.assign(id=["a", "b"]), threshold=1.5)


def test_cluster_cuts_a_weak_chain_but_keeps_a_cohesive_group():
    # given a strong triangle 0-1-2, and a chain 3-4-5 whose ends are strangers
    left = np.array([0, 0, 1, 3, 4, 3])
    right = np.array([1, 2, 2, 4, 5, 5])
    probability = np.array([0.99, 0.98, 0.97, 0.95, 0.96, 0.0])
    result = cluster(6, left, right, probability, threshold=0.9, cohesion=0.7)
    # then the triangle is one cluster and the chain loses its weakest link
    assert result.labels.tolist() == [0, 0, 0, 3, 4, 4]
    assert result.split_components == 1
    assert np.allclose(result.confidence[:3], [0.985, 0.98, 0.975])


def test_evaluate_counts_pairs_overall_and_per_kind():
    truth = pd.DataFrame({"id": list("abcde"), "entity_id": [1, 1, 1, 2, 3],
                          "corruptions": ["", "typo_given", "", "", "phone_typo"]})
    clusters = pd.DataFrame({"id": list("abcde"), "cluster_id": ["a", "a", "c", "d", "d"]})
    accuracy = evaluate(clusters, truth)
    # predicted pairs ab, de; true pairs ab, ac, bc; correct ab
    assert (accuracy.overall.predicted, accuracy.overall.true, accuracy.overall.correct) == (2, 3, 1)
    assert accuracy.precision == 0.5
    assert accuracy.recall == 1 / 3
    assert accuracy.per_kind["typo_given"].correct == 1
    assert accuracy.per_kind["typo_given"].true == 2
    assert accuracy.per_kind["phone_typo"].precision == 0.0
    assert accuracy.per_kind["none"].true == 1
