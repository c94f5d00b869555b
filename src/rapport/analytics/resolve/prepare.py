"""From the caller's frame to the normalised record table that blocking and comparison read.

The table is a pyarrow ``Table`` (DuckDB scans it without copying) with one row per input
record, ``rid`` = its position, and only normalised strings, null where a value is missing, so
that SQL's null rules make "either side missing" the natural outcome of every comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
import pyarrow as pa

from . import normalize as nz
from .nicknames import CANONICAL

# The fields whose presence makes a record worth collapsing with its exact copies (see resolve).
INFORMATIVE = ("given", "surname", "email", "phone", "street", "dob")


@dataclass(frozen=True)
class ColumnMap:
    """Which column of the caller's frame holds each role; ``None`` when the frame has none."""

    given_name: str | None = "given_name"
    surname: str | None = "surname"
    email: str | None = "email"
    phone: str | None = "phone"
    street_address: str | None = "street_address"
    city: str | None = "city"
    postcode: str | None = "postcode"
    state: str | None = "state"
    date_of_birth: str | None = "date_of_birth"

    def present(self, frame: pd.DataFrame) -> dict[str, str]:
        """Role -> column for the roles whose column is in ``frame``."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not None and getattr(self, f.name) in frame.columns}


def _column(frame: pd.DataFrame, name: str | None) -> pd.Series:
    if name is None or name not in frame.columns:
        return pd.Series([None] * len(frame), dtype=object)
    return frame[name]


def _arrow(values: np.ndarray) -> pa.Array:
    # "" is missing: store it as null so SQL comparisons with it are null too.
    return pa.array([v or None for v in values], type=pa.string())


def prepare(frame: pd.DataFrame, columns: ColumnMap, exact_columns: Sequence[str] = ()) -> pa.Table:
    """The normalised record table of ``frame``; ``exact`` joins the ``exact_columns`` (null if none)."""
    given_raw = _column(frame, columns.given_name)
    surname_raw = _column(frame, columns.surname)
    dob_raw = _column(frame, columns.date_of_birth)
    dayfirst = nz.infer_dayfirst(pd.unique(dob_raw.dropna().astype(str))[:100_000])
    given = nz.apply_unique(given_raw, nz.given_name)
    surname = nz.apply_unique(surname_raw, nz.surname)
    dob = nz.apply_unique(dob_raw, lambda v: nz.parse_date(v, dayfirst=dayfirst))
    email = nz.apply_unique(_column(frame, columns.email), nz.email)
    out = {
        "rid": pa.array(np.arange(len(frame), dtype=np.int64)),
        "given": _arrow(given),
        "given_canon": _arrow(nz.apply_unique(given, lambda v: CANONICAL.get(v, v) if v else "")),
        # The given-name column read as a surname, and the surname read as a given name: what the
        # comparison needs when a record has the two swapped.
        "given_as_surname": _arrow(nz.apply_unique(given_raw, nz.surname)),
        "surname_as_given": _arrow(nz.apply_unique(surname_raw, nz.canonical_given)),
        "surname": _arrow(surname),
        "surname_sdx": _arrow(nz.apply_unique(surname, nz.soundex)),
        "email": _arrow(email),
        "phone": _arrow(nz.apply_unique(_column(frame, columns.phone), nz.phone)),
        "street": _arrow(nz.apply_unique(_column(frame, columns.street_address), nz.street_address)),
        "city": _arrow(nz.apply_unique(_column(frame, columns.city), nz.city)),
        "postcode": _arrow(nz.apply_unique(_column(frame, columns.postcode), nz.postcode)),
        "state": _arrow(nz.apply_unique(_column(frame, columns.state), nz.state)),
        "dob": _arrow(dob),
        "dob_swapped": _arrow(nz.apply_unique(dob, nz.swap_day_month)),
    }
    if exact_columns:
        missing = [name for name in exact_columns if name not in frame.columns]
        if missing:
            raise KeyError(f"exact column(s) not in the frame: {', '.join(missing)}")
        # Folded, so "NSW" and "nsw " are the same; missing is "" (two missing values agree).
        values = frame[list(exact_columns)].astype(object).map(nz.fold)
        joined = values.agg("\x1f".join, axis=1) if len(frame) else pd.Series([], dtype=object)
        out["exact"] = pa.array(joined.to_numpy(dtype=object), type=pa.string())
    else:
        out["exact"] = pa.nulls(len(frame), type=pa.string())
    return pa.table(out)
