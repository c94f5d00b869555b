"""Column type inference on string tables as read from a CSV, and an encoder that treats a scoring
file exactly like the training one: unknown categories, missing values, garbage. No database."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rapport.analytics.churn import FeatureError, features


def table() -> pd.DataFrame:
    n = 40
    return pd.DataFrame({
        "customer_id": [f"C{i:03d}" for i in range(n)],
        "spend": [f"{i * 1.5:.2f}" for i in range(n)],
        "orders": [str(i % 7) for i in range(n)],
        "vip": ["yes" if i % 3 else "no" for i in range(n)],
        "plan": ["basic", "pro", "plus", ""] * 10,
        "last_order": [f"2026-0{1 + i % 6}-1{i % 10}" for i in range(n)],
        "country": ["FR"] * n,
        "notes": [""] * n,
        "comment": [f"free text number {i}" for i in range(n)],
        "churned": ["0", "1"] * 20,
    })


def test_each_column_gets_its_type_or_a_reason_to_be_dropped():
    enc = features.infer(table(), target="churned")
    kinds = {c.name: c.kind for c in enc.columns}
    assert kinds == {"spend": "numeric", "orders": "numeric", "vip": "boolean", "plan": "categorical",
                     "last_order": "date"}
    reasons = {d.name: d.reason for d in enc.dropped}
    assert reasons["customer_id"].startswith("an identifier")
    assert reasons["country"].startswith("constant")
    assert reasons["notes"] == "all values missing"
    assert reasons["comment"].startswith("free text")


def test_dates_are_days_before_the_latest_training_date_and_missing_is_nan():
    frame = table()
    enc = features.infer(frame, target="churned")
    X = enc.transform(frame)
    j = enc.names.index("last_order")
    assert enc.reference_date == pd.Timestamp("2026-06-19")
    assert X[0, j] == (pd.Timestamp("2026-06-19") - pd.Timestamp("2026-01-10")).days
    assert np.isnan(X[3, enc.names.index("plan")])  # "" is missing, not a category
    assert set(X[:, enc.names.index("vip")]) == {0.0, 1.0}


def test_scoring_file_with_unknown_category_missing_values_and_a_new_column():
    enc = features.infer(table(), target="churned")
    other = table().head(3).drop(columns=["churned"]).assign(plan=["gold", "pro", "NA"], spend=["", "2", "3"],
                                                             extra=["a", "b", "c"])
    X = enc.transform(other)
    assert np.isnan(X[0, enc.names.index("plan")]) and np.isnan(X[2, enc.names.index("plan")])
    assert X[1, enc.names.index("plan")] == enc.columns[enc.names.index("plan")].categories.index("pro")
    assert np.isnan(X[0, enc.names.index("spend")])


def test_many_categories_keep_the_most_frequent_and_lump_the_rest_into_other():
    frame = pd.DataFrame({"city": ["a"] * 50 + ["b"] * 30 + [f"x{i}" for i in range(20)] * 1,
                          "churned": ["0", "1"] * 50})
    frame["city"] = frame["city"].where(frame.index < 80, frame["city"].str[:2])  # 20 rare cities
    enc = features.infer(frame, target="churned", max_categories=3)
    spec = enc.columns[0]
    assert spec.categories == ("a", "b", features.OTHER)
    X = enc.transform(pd.DataFrame({"city": ["a", "x7", "never seen"]}))
    assert list(X[:, 0]) == [0.0, 2.0, 2.0]


def test_garbage_in_a_numeric_column_is_an_error_naming_rows():
    frame = table()
    frame.loc[5, "spend"] = "twelve"
    with pytest.raises(FeatureError, match=r"Column 'spend' holds numbers .* row 7 \('twelve'\)"):
        features.infer(frame, target="churned")


def test_garbage_in_a_scoring_file_and_missing_columns_are_errors():
    enc = features.infer(table(), target="churned")
    bad = table().assign(orders=["x"] + ["1"] * 39)
    with pytest.raises(FeatureError, match="'orders' holds numbers but 1 value"):
        enc.transform(bad)
    with pytest.raises(FeatureError, match="lacks column.*spend"):
        enc.transform(table().drop(columns=["spend"]))
    with pytest.raises(FeatureError, match="'last_order' holds dates"):
        enc.transform(table().assign(last_order=["soon"] * 40))


def test_numeric_frame_columns_and_boolean_dtype_are_kept_as_they_are():
    frame = pd.DataFrame({"x": np.arange(30.0), "flag": [True, False] * 15, "id": range(30), "churned": [0, 1] * 15})
    enc = features.infer(frame, target="churned")
    assert {c.name: c.kind for c in enc.columns} == {"x": "numeric", "flag": "boolean"}
    assert enc.dropped[0].name == "id"


def test_an_integer_column_of_zeros_and_ones_is_a_count_not_a_flag():
    # The scoring job trains on counts that may hold only 0/1 this time (complaints) and later scores a 2.
    frame = pd.DataFrame({"complaints": [0, 1] * 15, "churned": [0, 1, 1, 0] * 7 + [0, 1]})
    enc = features.infer(frame, target="churned")
    assert {c.name: c.kind for c in enc.columns} == {"complaints": "numeric"}
    assert enc.transform(pd.DataFrame({"complaints": [2, 0]}))[:, 0].tolist() == [2.0, 0.0]
    # As text (a CSV's column) the same values are a yes/no column, and a 2 is then refused.
    text = features.infer(frame.astype(str), target="churned")
    assert text.columns[0].kind == "boolean"
    with pytest.raises(FeatureError, match="yes/no"):
        text.transform(pd.DataFrame({"complaints": ["2"]}))
