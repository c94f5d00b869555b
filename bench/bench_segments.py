"""Segmentation and survival at 1M customers: ``rapport.analytics.rfm`` / ``survival`` against baselines.

    .venv/bin/python bench/bench_segments.py                     # 1M customers / durations
    .venv/bin/python bench/bench_segments.py --customers 200000  # another size

Baselines, measured in the same run on the same data: RFM scores against ``pandas.qcut`` on ranks
(three columns); clusters (k searched over 2..6 on a 50k sample, then all assigned) against one
scikit-learn ``KMeans`` fitted on every row at the chosen k; Kaplan–Meier and log-rank against
lifelines (reference-only dependency). Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

import common  # noqa: F401  (puts src/ on sys.path)


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> None:
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import multivariate_logrank_test
    from sklearn.cluster import KMeans

    from rapport.analytics.rfm import cluster_customers, customer_pyramid, rfm_scores
    from rapport.analytics.survival import kaplan_meier, logrank_test

    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    n = parser.parse_args().customers
    rng = np.random.default_rng(0)
    summary = pd.DataFrame(
        {
            "recency": rng.integers(0, 730, n),
            "frequency": rng.poisson(3, n) + 1,
            "monetary": np.round(rng.lognormal(4, 1, n), 2),
        }
    )
    rows = []

    ours, _ = timed(lambda: rfm_scores(summary))
    base, _ = timed(
        lambda: [
            pd.qcut(summary[c].rank(method="first"), 5, labels=False) for c in ("recency", "frequency", "monetary")
        ]
    )
    rows.append(("RFM scores + segments", ours, "pandas qcut (3 cols)", base))

    value = summary["frequency"] * summary["monetary"]
    ours, _ = timed(lambda: customer_pyramid(value, shares={"platinum": 0.01, "gold": 0.04, "iron": 0.15}))
    base, _ = timed(lambda: pd.qcut(value.rank(method="first"), [0, 0.8, 0.95, 0.99, 1.0], labels=False))
    rows.append(("pyramid (top shares)", ours, "pandas qcut", base))

    ours, clustering = timed(lambda: cluster_customers(summary, k=range(2, 7), seed=0))
    k = clustering.k
    feats = np.log1p(summary.to_numpy(dtype=float))
    feats = (feats - feats.mean(0)) / feats.std(0)
    base, _ = timed(lambda: KMeans(n_clusters=k, n_init=4, random_state=0).fit(feats))
    rows.append((f"clusters (k={k} by silhouette)", ours, f"KMeans k={k} on all rows", base))

    life = np.round(rng.weibull(1.3, n) * 20, 1)
    censor = rng.uniform(0, 40, n)
    t, e, g = np.minimum(life, censor), life <= censor, rng.integers(0, 4, n)
    ours, _ = timed(lambda: kaplan_meier(t, e))
    base, _ = timed(lambda: KaplanMeierFitter().fit(t, e))
    rows.append(("Kaplan-Meier + Greenwood CI", ours, "lifelines KaplanMeierFitter", base))
    ours, res = timed(lambda: logrank_test(t, e, g))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base, ref = timed(lambda: multivariate_logrank_test(t, g, e))
    rows.append(("log-rank, 4 groups", ours, "lifelines multivariate_logrank_test", base))

    print(f"customers / durations: {n:,}")
    print(f"{'step':32} {'ours s':>8}  {'baseline':38} {'base s':>8} {'ours/base':>9}")
    for name, o, bname, b in rows:
        print(f"{name:32} {o:8.3f}  {bname:38} {b:8.3f} {o / b:9.2f}")
    print(f"log-rank statistic ours {res.statistic:.6f} vs lifelines {ref.test_statistic:.6f}")


if __name__ == "__main__":
    main()
