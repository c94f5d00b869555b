"""Column types of an arbitrary customer table, and the fitted encoder that turns it into numbers.

    encoder = infer(frame, target="churned", id_column="customer_id")   # types decided once, on training data
    X = encoder.transform(frame)                                         # float matrix, NaN where missing
    X_new = encoder.transform(other_file)                                # same columns, same codes

Invariants: the encoder is decided from the training table only and never changes afterwards, so a
``--score`` file is encoded exactly like the training file. Every output column is a float: numbers as
they are, booleans 0/1, dates as days before ``reference_date`` (the latest training date unless given),
categories as codes into ``ColumnSpec.categories``. Missing values — and categories never seen in
training, when no "other" level exists — are NaN, which gradient-boosted trees handle natively and the
linear baseline imputes. Columns that cannot carry signal (all missing, constant, identifiers, free
text) are dropped with a reason, never silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import FeatureError, sample

KINDS = ("numeric", "boolean", "categorical", "date")
MISSING = frozenset({"", "na", "n/a", "nan", "null", "#n/a"})
_TRUE = frozenset({"true", "yes", "y", "t", "1"})
_FALSE = frozenset({"false", "no", "n", "f", "0"})
_ID_NAME = re.compile(r"(^|[_\W])id$|^id|ids?$", re.IGNORECASE)
OTHER = "(other)"
# A column at least this share parseable as numbers (or dates) is meant to be one: the rest is garbage.
_MOSTLY = 0.9


@dataclass(frozen=True)
class ColumnSpec:
    """One encoded column. ``reference`` is its population reference value in encoded units (median of
    numbers and dates, the most frequent code of booleans and categories), used to impute the linear
    baseline and as the "typical customer" value when explaining a prediction."""

    name: str
    kind: str
    reference: float
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dropped:
    name: str
    reason: str


@dataclass(frozen=True)
class Encoder:
    columns: tuple[ColumnSpec, ...]
    dropped: tuple[Dropped, ...]
    reference_date: pd.Timestamp | None

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def categorical_mask(self) -> np.ndarray:
        return np.array([c.kind == "categorical" for c in self.columns], dtype=bool)

    @property
    def references(self) -> np.ndarray:
        return np.array([c.reference for c in self.columns], dtype=float)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The (rows, columns) float matrix of ``frame``; raises :class:`FeatureError` for absent columns
        or values a column of that type cannot hold (text in a numeric column, a non-date in a date one)."""
        absent = [c.name for c in self.columns if c.name not in frame.columns]
        if absent:
            raise FeatureError(f"The file lacks column(s) the model was trained on: {sample(absent)}.")
        out = np.empty((len(frame), len(self.columns)), dtype=float)
        for j, spec in enumerate(self.columns):
            out[:, j] = _encode(frame[spec.name], spec, self.reference_date)
        return out


def _missing(column: pd.Series) -> np.ndarray:
    if column.dtype == object or pd.api.types.is_string_dtype(column):
        text = column.astype(str).str.strip().str.lower()
        return (column.isna() | text.isin(MISSING)).to_numpy()
    return column.isna().to_numpy()


def _garbage(name: str, column: pd.Series, bad: np.ndarray, kind: str) -> FeatureError:
    where = np.flatnonzero(bad)
    # Row numbers as a spreadsheet shows them: the header is row 1.
    shown = ", ".join(f"row {i + 2} ({column.iloc[i]!r})" for i in where[:5])
    more = f" and {len(where) - 5:,} more" if len(where) > 5 else ""
    return FeatureError(f"Column {name!r} holds {kind} but {len(where):,} value(s) are not: {shown}{more}.")


def _numbers(column: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(column):
        return column.to_numpy(dtype=float)
    if pd.api.types.is_numeric_dtype(column):
        return column.to_numpy(dtype=float)
    return pd.to_numeric(column.astype(str).str.strip(), errors="coerce").to_numpy(dtype=float)


def _dates(column: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(column):
        return column.dt.tz_localize(None) if column.dt.tz is not None else column
    return pd.to_datetime(column.astype(str).str.strip(), errors="coerce", format="mixed")


def _booleans(column: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(column):
        return column.to_numpy(dtype=float)
    text = column.astype(str).str.strip().str.lower()
    out = np.full(len(column), np.nan)
    out[text.isin(_TRUE).to_numpy()] = 1.0
    out[text.isin(_FALSE).to_numpy()] = 0.0
    return out


def _encode(column: pd.Series, spec: ColumnSpec, reference_date: pd.Timestamp | None) -> np.ndarray:
    missing = _missing(column)
    if spec.kind == "numeric":
        values = _numbers(column)
    elif spec.kind == "boolean":
        values = _booleans(column)
    elif spec.kind == "date":
        parsed = _dates(column)
        values = ((reference_date - parsed).dt.total_seconds() / 86400.0).to_numpy(dtype=float)
    else:
        codes = {c: float(i) for i, c in enumerate(spec.categories)}
        fallback = codes.get(OTHER, np.nan)
        values = np.array(column.astype(str).str.strip().map(codes), dtype=float)
        values[np.isnan(values) & ~missing] = fallback  # unseen in training: "other" if it exists, else missing
        values[missing] = np.nan
        return values
    values = np.array(values, dtype=float)  # a copy: to_numpy() may be a read-only view of the frame
    bad = np.isnan(values) & ~missing
    if bad.any():
        raise _garbage(spec.name, column, bad, {"numeric": "numbers", "boolean": "yes/no values",
                                                "date": "dates"}[spec.kind])
    values[missing] = np.nan
    return values


def infer(frame: pd.DataFrame, *, target: str | None = None, id_column: str | None = None,
          exclude: tuple[str, ...] = (), max_categories: int = 50,
          reference_date: pd.Timestamp | str | None = None) -> Encoder:
    """Decide every column's type from ``frame`` (a training table: strings as read from a CSV, or typed
    columns) and fit the encoder. ``target``, ``id_column`` and ``exclude`` are never features.

    A column is dropped when it is all missing, constant, named like an identifier with every value
    distinct, or text with every value distinct or more distinct values than half its rows. Text with
    more than ``max_categories`` distinct values keeps the most frequent ``max_categories - 1`` and lumps
    the rest into ``"(other)"``. A column that is mostly numbers (or dates) with a few unparseable values raises
    :class:`FeatureError` naming them rather than being guessed to be a category.
    """
    if max_categories < 2:
        raise ValueError(f"max_categories must be at least 2, not {max_categories}.")
    skip = {target, id_column, *exclude}
    kinds: dict[str, str] = {}
    dropped: list[Dropped] = []
    date_columns: dict[str, pd.Series] = {}
    for name in frame.columns:
        if name in skip:
            continue
        column = frame[name]
        missing = _missing(column)
        present = column[~missing]
        if present.empty:
            dropped.append(Dropped(name, "all values missing"))
            continue
        text = present.astype(str).str.strip()
        distinct = text.nunique()
        if distinct == 1:
            dropped.append(Dropped(name, f"constant ({text.iloc[0]!r})"))
            continue
        if distinct == len(text) and _ID_NAME.search(str(name)) and len(text) > 2:
            dropped.append(Dropped(name, "an identifier (every value distinct)"))
            continue
        # A typed number column is a count even when the training rows hold only 0 and 1 (a customer
        # with two complaints may be scored later); only text (a CSV's "yes"/"0") or bools are yes/no.
        if pd.api.types.is_bool_dtype(column) or (distinct == 2 and set(text.str.lower()) <= _TRUE | _FALSE
                                                  and not pd.api.types.is_numeric_dtype(column)):
            kinds[name] = "boolean"
            continue
        if pd.api.types.is_datetime64_any_dtype(column):
            kinds[name] = "date"
            date_columns[name] = _dates(present)
            continue
        numbers = _numbers(present)
        parsed = ~np.isnan(numbers)
        if parsed.all():
            kinds[name] = "numeric"
            continue
        if parsed.mean() >= _MOSTLY:
            raise _garbage(name, column, ~missing & np.isnan(_numbers(column)), "numbers")
        dates = _dates(present) if not parsed.any() and text.str.contains(r"\d").mean() >= _MOSTLY else None
        if dates is not None and dates.notna().mean() >= _MOSTLY:
            if dates.notna().all():
                kinds[name] = "date"
                date_columns[name] = dates
                continue
            raise _garbage(name, column, ~missing & _dates(column).isna().to_numpy(), "dates")
        # Every value distinct (in more than a handful of rows), or more distinct values than half the rows:
        # names, e-mails, comments. No category of them recurs often enough to learn from.
        if (distinct == len(text) and len(text) >= 20) or distinct > max(max_categories, len(text) // 2):
            dropped.append(Dropped(name, f"free text or an identifier ({distinct:,} distinct values)"))
            continue
        kinds[name] = "categorical"
    if not kinds:
        why = "; ".join(f"{d.name}: {d.reason}" for d in dropped) or "the table has no other columns"
        raise FeatureError(f"No usable feature columns ({why}).")
    if reference_date is not None:
        ref_date: pd.Timestamp | None = pd.Timestamp(reference_date)
    else:
        latest = [d.max() for d in date_columns.values()]
        ref_date = max(latest) if latest else None
    specs: list[ColumnSpec] = []
    for name, kind in kinds.items():
        column = frame[name]
        categories: tuple[str, ...] = ()
        if kind == "categorical":
            counts = column[~_missing(column)].astype(str).str.strip().value_counts(sort=True)
            if len(counts) > max_categories:
                categories = (*counts.index[: max_categories - 1], OTHER)
            else:
                categories = tuple(counts.index)
        spec = ColumnSpec(name, kind, np.nan, categories)
        values = _encode(column, spec, ref_date)
        if kind in ("categorical", "boolean"):
            reference = float(pd.Series(values).mode(dropna=True).iloc[0])
        else:
            reference = float(np.nanmedian(values))
        specs.append(ColumnSpec(name, kind, reference, categories))
    return Encoder(tuple(specs), tuple(dropped), ref_date)
