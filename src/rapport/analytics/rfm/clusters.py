"""Behavioural clusters: k-means (k chosen by silhouette) or a Gaussian mixture on standardised features.

Features with skew > 1 and no negative values are log1p-transformed first (spend and frequency are
long-tailed; without it one cluster holds the whales and the rest is one blob). Constant features
are dropped. The model is fitted on a seeded sample of at most ``sample_size`` customers and every
customer is then assigned, so 1M customers cost one fit on the sample plus one vectorised predict.
Clusters are relabelled by size (0 = largest), so results are deterministic given ``seed``.

Each cluster gets a plain-language description from its members' means against the population
mean, e.g. "High frequency, high monetary, recent: frequency 3.2× average, monetary 2.1× average,
recency 0.4× average (1,204 customers, 12.0%)".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.mixture import GaussianMixture

from rapport.analytics.rfm.errors import ClusterInputError


@dataclass(frozen=True)
class Clustering:
    labels: np.ndarray
    k: int
    method: str
    features: tuple[str, ...]
    logged: tuple[str, ...]
    silhouettes: dict[int, float]
    profile: pd.DataFrame  # cluster × feature mean ratio to population mean
    descriptions: dict[int, str]


_LOW_IS = {"recency": ("recent", "lapsed")}  # features where a low value has its own word


def _describe(cluster: int, ratios: pd.Series, z: pd.Series, size: int, total: int) -> str:
    words = []
    for name in ratios.index:
        if abs(z[name]) < 0.5:
            continue
        if name in _LOW_IS:
            words.append(_LOW_IS[name][0] if z[name] < 0 else _LOW_IS[name][1])
        else:
            words.append(f"{'high' if z[name] > 0 else 'low'} {name}")
    head = ", ".join(words).capitalize() if words else "Typical customers"
    detail = ", ".join(f"{n} {ratios[n]:.1f}× average" for n in ratios.index)
    return f"{head}: {detail} ({size:,} customers, {size / total:.1%})"


def cluster_customers(
    features: pd.DataFrame,
    *,
    k: int | range = range(2, 9),
    method: str = "kmeans",
    seed: int = 0,
    sample_size: int = 50_000,
    silhouette_sample: int = 5_000,
) -> Clustering:
    """Cluster customers (rows) on numeric ``features``; ``k`` fixed or a range searched by silhouette."""
    if method not in ("kmeans", "gmm"):
        raise ClusterInputError(f"method must be 'kmeans' or 'gmm', got {method!r}")
    ks = list(k) if isinstance(k, range) else [int(k)]
    if not ks or min(ks) < 2:
        raise ClusterInputError("k must be at least 2")
    x = features.apply(pd.to_numeric, errors="coerce")
    if x.empty or x.shape[1] == 0:
        raise ClusterInputError("no customers or no features given")
    if x.isna().any().any():
        raise ClusterInputError(f"{int(x.isna().any(axis=1).sum())} customers have NaN or non-numeric features")
    n = len(x)
    if n <= max(ks):
        raise ClusterInputError(f"{n} customers is too few for k up to {max(ks)}")
    varying = [c for c in x.columns if x[c].nunique() > 1]
    if not varying:
        raise ClusterInputError("every feature is constant: there is nothing to cluster on")
    x = x[varying]
    raw = x.to_numpy(dtype=float)
    logged = [c for i, c in enumerate(varying) if raw[:, i].min() >= 0 and stats.skew(raw[:, i]) > 1]
    t = raw.copy()
    for c in logged:
        i = varying.index(c)
        t[:, i] = np.log1p(t[:, i])
    t = (t - t.mean(axis=0)) / t.std(axis=0)
    rng = np.random.default_rng(seed)
    fit_idx = rng.choice(n, size=min(n, sample_size), replace=False)
    sil_idx = fit_idx[: min(len(fit_idx), silhouette_sample)]
    models, sils = {}, {}
    for kk in ks:
        if method == "kmeans":
            model = KMeans(n_clusters=kk, n_init=4, random_state=seed).fit(t[fit_idx])
        else:
            model = GaussianMixture(n_components=kk, covariance_type="full", random_state=seed).fit(t[fit_idx])
        pred = model.predict(t[sil_idx])
        models[kk] = model
        sils[kk] = float(silhouette_score(t[sil_idx], pred)) if len(set(pred)) > 1 else -1.0
    best = ks[0] if len(ks) == 1 else max(ks, key=lambda kk: (sils[kk], -kk))
    labels = models[best].predict(t)
    sizes = np.bincount(labels, minlength=best)
    remap = np.empty(best, dtype=np.int64)
    remap[np.argsort(-sizes, kind="stable")] = np.arange(best)
    labels = remap[labels]
    sizes = np.bincount(labels, minlength=best)
    frame = pd.DataFrame(raw, columns=varying)
    means = frame.groupby(labels).mean()
    pop = frame.mean()
    ratios = means / pop.replace(0, np.nan)
    zc = pd.DataFrame(t, columns=varying).groupby(labels).mean()
    desc = {int(c): _describe(int(c), ratios.loc[c], zc.loc[c], int(sizes[c]), n) for c in means.index}
    return Clustering(labels, best, method, tuple(varying), tuple(logged), sils, ratios, desc)
