"""Reviewers' decisions as labels of a run: which candidate pairs they name, and those pairs' levels.

Shared by the people (:func:`..resolve`) and the organisations (:mod:`.organisations`) pipelines,
which differ only in their fields. Invariant: label pairs are representative indices ``l < r``
(after exact copies are collapsed), each pair once (the last label given wins); labels naming
an unknown id, or two records collapsed into one, are dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import numpy as np
import pandas as pd


def label_pairs(labels: pd.DataFrame | None, ids: np.ndarray, rep: np.ndarray) -> pd.DataFrame:
    """``labels`` (``id_l``, ``id_r``, ``match``) as ``l``, ``r``, ``match`` over representative indices."""
    if labels is None or len(labels) == 0:
        return pd.DataFrame({"l": pd.Series([], dtype=np.int64), "r": pd.Series([], dtype=np.int64),
                             "match": pd.Series([], dtype=bool)})
    position = pd.Series(np.arange(len(ids)), index=pd.Index(ids))
    a = position.reindex(labels["id_l"].astype(str)).to_numpy()
    b = position.reindex(labels["id_r"].astype(str)).to_numpy()
    ok = ~(np.isnan(a) | np.isnan(b))
    a, b = rep[a[ok].astype(np.int64)], rep[b[ok].astype(np.int64)]
    match = labels["match"].astype(bool).to_numpy()[ok]
    frame = pd.DataFrame({"l": np.minimum(a, b), "r": np.maximum(a, b), "match": match})
    return frame[frame["l"] != frame["r"]].drop_duplicates(["l", "r"], keep="last").reset_index(drop=True)


def label_levels(con: duckdb.DuckDBPyConnection, pairs: pd.DataFrame, fields: Sequence[str]) -> np.ndarray:
    """The comparison levels of the labelled ``pairs`` from table ``cmp`` (``label_input`` holds the
    pairs); a labelled pair that was never a candidate is all missing (-1)."""
    got = con.execute(f"SELECT l, r, {', '.join(fields)} FROM cmp JOIN label_input USING (l, r)").fetchdf()
    merged = pairs.merge(got, on=["l", "r"], how="left")
    return merged[list(fields)].fillna(-1).to_numpy(dtype=np.int8)
