"""From the caller's frame to the normalised record table that blocking and comparison read.

The table is a pyarrow ``Table`` (DuckDB scans it without copying) with one row per input
record, ``rid`` = its position, and only normalised strings, null where a value is missing, so
that SQL's null rules make "either side missing" the natural outcome of every comparison.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from . import normalize as nz
from . import org_normalize as onz
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
    organisation: str | None = "organisation"  # the employer's name (a contact's account)

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


@dataclass(frozen=True)
class Step:
    """One column of the record table: ``fn`` applied to a raw role's value, or to an earlier column."""

    column: str
    source: str  # a :class:`ColumnMap` role, or (``derived``) a column computed before this one
    fn: Callable[[object], str]
    derived: bool = False


def _canonical(value: object) -> str:
    return CANONICAL.get(value, value) if value else ""  # type: ignore[call-overload]


def _steps(dayfirst: bool) -> tuple[Step, ...]:
    return (
        Step("given", "given_name", nz.given_name),
        Step("given_canon", "given", _canonical, derived=True),
        # The given-name column read as a surname, and the surname read as a given name: what the
        # comparison needs when a record has the two swapped.
        Step("given_as_surname", "given_name", nz.surname),
        Step("surname_as_given", "surname", nz.canonical_given),
        Step("surname", "surname", nz.surname),
        Step("surname_sdx", "surname", nz.soundex, derived=True),
        Step("email", "email", nz.email),
        Step("phone", "phone", nz.phone),
        Step("street", "street_address", nz.street_address),
        Step("city", "city", nz.city),
        Step("postcode", "postcode", nz.postcode),
        Step("state", "state", nz.state),
        Step("dob", "date_of_birth", lambda v: nz.parse_date(v, dayfirst=dayfirst)),
        Step("dob_swapped", "dob", nz.swap_day_month, derived=True),
        # The employer without legal form, case or punctuation, and the email's company domain (none for
        # free-mail addresses): see compare's organisation field.
        Step("org", "organisation", onz.company_name),
        Step("work_domain", "email", onz.domain, derived=True),
    )


_STEPS = {True: _steps(True), False: _steps(False)}
_COLUMNS = tuple(step.column for step in _STEPS[True])


def steps(dayfirst: bool) -> tuple[Step, ...]:
    """The normalisation of a record, column by column, in table order (both paths run exactly these)."""
    return _STEPS[bool(dayfirst)]


def infer_dayfirst(frame: pd.DataFrame, columns: ColumnMap) -> bool:
    """Whether the frame's date-of-birth column writes ``D/M/Y`` (see :func:`normalize.infer_dayfirst`)."""
    dob_raw = _column(frame, columns.date_of_birth)
    return nz.infer_dayfirst(pd.unique(dob_raw.dropna().astype(str))[:100_000])


def prepare(frame: pd.DataFrame, columns: ColumnMap, exact_columns: Sequence[str] = (), *,
            dayfirst: bool | None = None) -> pa.Table:
    """The normalised record table of ``frame``; ``exact`` joins the ``exact_columns`` (null if none).

    ``dayfirst`` (default: inferred from the frame) reads ambiguous dates of birth.
    """
    dayfirst = infer_dayfirst(frame, columns) if dayfirst is None else dayfirst
    values: dict[str, np.ndarray] = {}
    for step in steps(dayfirst):
        source = values[step.source] if step.derived else _column(frame, getattr(columns, step.source))
        values[step.column] = nz.apply_unique(source, step.fn)
    out = {"rid": pa.array(np.arange(len(frame), dtype=np.int64)),
           **{column: _arrow(column_values) for column, column_values in values.items()}}
    if exact_columns:
        missing = [name for name in exact_columns if name not in frame.columns]
        if missing:
            raise KeyError(f"exact column(s) not in the frame: {', '.join(missing)}")
        # Folded, so "NSW" and "nsw " are the same; missing is "" (two missing values agree).
        exact_values = frame[list(exact_columns)].astype(object).map(nz.fold)
        joined = exact_values.agg("\x1f".join, axis=1) if len(frame) else pd.Series([], dtype=object)
        out["exact"] = pa.array(joined.to_numpy(dtype=object), type=pa.string())
    else:
        out["exact"] = pa.nulls(len(frame), type=pa.string())
    return pa.table(out)


def _raw(value: object) -> object:
    """A record's value as :func:`normalize.apply_unique` would see it: pandas' missing markers are ``None``."""
    if value is None or isinstance(value, str):
        return value
    try:
        return None if pd.api.types.is_scalar(value) and pd.isna(value) else value
    except (TypeError, ValueError):
        return value


_Plan = tuple[tuple[str, "str | None", Callable[[object], str], Callable[[object], str], bool], ...]
# Single records repeat values (given names, surnames, cities, postcodes, dates) from one call to the
# next, so the one-record path remembers the last few thousand results of each step, for short str values
# only (the normalisers are pure, so a remembered result is the result).
CACHE_SIZE = 4096


_REMEMBERING = {dayfirst: tuple(functools.lru_cache(maxsize=CACHE_SIZE)(step.fn) for step in _STEPS[dayfirst])
                for dayfirst in (True, False)}


def clear_caches() -> None:
    """Forget the remembered normalisations of :func:`normalise_record` (benchmarks measure cold calls)."""
    for fns in _REMEMBERING.values():
        for fn in fns:
            fn.cache_clear()


@functools.lru_cache(maxsize=512)
def _plan(columns: ColumnMap, dayfirst: bool, only: frozenset[str] | None) -> _Plan:
    """:func:`steps` resolved against ``columns`` (the key to read, or the column to derive from)."""
    wanted = None if only is None else only | {step.source for step in steps(dayfirst) if step.derived and
                                               step.column in only}
    return tuple((step.column, step.source if step.derived else getattr(columns, step.source), step.fn, cached,
                   step.derived) for step, cached in zip(steps(dayfirst), _REMEMBERING[dayfirst], strict=True)
                 if wanted is None or step.column in wanted)


def normalise_record(record: Mapping[str, Any], columns: ColumnMap, *, dayfirst: bool,
                     only: frozenset[str] | None = None) -> dict[str, str | None]:
    """One row of :func:`prepare`'s table (without ``rid`` and ``exact``) for a single record.

    Invariant: for a record that is row ``i`` of a frame, the result equals row ``i`` of
    ``prepare(frame, columns, dayfirst=dayfirst)`` (``None`` where the table holds null), because
    both run :func:`steps`. A role whose column is ``None`` or absent from ``record`` is missing.
    ``only`` (optional) limits the work to those columns (and what they derive from); the others are
    ``None`` then.
    """
    values: dict[str, str] = {}
    get = record.get
    for column, source, fn, cached, derived in _plan(columns, bool(dayfirst), only):
        value = values[source] if derived else get(source) if source is not None else None  # type: ignore[index]
        if type(value) is str and len(value) <= 256:  # long text is not kept: it would crowd the cache out
            values[column] = cached(value)
        else:
            values[column] = fn(None if value is None else _raw(value))
    if only is None:
        return {column: value or None for column, value in values.items()}
    return {column: values.get(column) or None for column in _COLUMNS}
