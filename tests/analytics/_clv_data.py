"""Data shared by the CLV tests: lifetimes' CDNOW files (the library is a test-only dependency)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

lifetimes = pytest.importorskip("lifetimes")
DATASETS = Path(lifetimes.__file__).parent / "datasets"


def cdnow_summary() -> pd.DataFrame:
    """Fader & Hardie's CDNOW sample of 2,357 customers in weeks, with mean repeat spend."""
    frame = pd.read_csv(DATASETS / "cdnow_customers_summary_with_transactions.csv")
    frame = frame.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})
    return frame.set_index("ID")[["frequency", "recency", "T", "monetary_value"]]


def cdnow_transactions() -> pd.DataFrame:
    """The CDNOW sample's transactions (customer, date, amount); 8 zero-amount rows are kept."""
    raw = pd.read_csv(DATASETS / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["customer", "order", "date", "quantity", "amount"], dtype={"date": str})
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    return raw[["customer", "date", "amount"]]
