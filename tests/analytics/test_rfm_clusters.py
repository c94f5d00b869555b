"""Behavioural clusters recover planted clusters, are deterministic, describe themselves, reject bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from rapport.analytics.rfm import ClusterInputError, cluster_customers


def _planted(n: int = 4000, seed: int = 0):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, n)
    centres = np.array([[2.0, 50.0, 300.0], [10.0, 200.0, 30.0], [30.0, 20.0, 100.0]])
    x = np.exp(np.log(centres[truth]) + rng.normal(0, 0.2, (n, 3)))
    return pd.DataFrame(x, columns=["frequency", "monetary", "recency"]), truth


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_recovers_planted_clusters(method: str) -> None:
    x, truth = _planted()
    c = cluster_customers(x, method=method, seed=3, sample_size=2000)
    assert c.k == 3
    assert adjusted_rand_score(truth, c.labels) >= 0.9
    assert set(c.logged) <= {"frequency", "monetary", "recency"}


def test_deterministic_and_described() -> None:
    x, _ = _planted(seed=1)
    a = cluster_customers(x, k=3, seed=5)
    b = cluster_customers(x, k=3, seed=5)
    assert np.array_equal(a.labels, b.labels)
    frequent = int(a.profile["frequency"].idxmax())
    assert a.descriptions[frequent].startswith("High frequency")
    assert "× average" in a.descriptions[frequent]
    assert a.profile.loc[frequent, "frequency"] > 2


@pytest.mark.parametrize(
    ("frame", "kwargs", "match"),
    [
        (pd.DataFrame({"f": []}), {}, "no customers"),
        (pd.DataFrame({"f": [1.0]}), {"k": 2}, "too few"),
        (pd.DataFrame({"f": [1.0] * 10, "m": [2.0] * 10}), {"k": 2}, "constant"),
        (pd.DataFrame({"f": [1.0, np.nan, 3.0, 4.0]}), {"k": 2}, "NaN"),
        (pd.DataFrame({"f": range(10)}), {"k": 1}, "at least 2"),
        (pd.DataFrame({"f": range(10)}), {"method": "dbscan"}, "method"),
    ],
)
def test_bad_cluster_input(frame, kwargs, match) -> None:
    with pytest.raises(ClusterInputError, match=match):
        cluster_customers(frame, **kwargs)
