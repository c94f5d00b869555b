"""Pivot a query result: rows × the members of one dimension as columns, one measure per cell."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rapport.analytics.olap.query import OlapError, QueryResult


@dataclass(frozen=True)
class Pivot:
    row_columns: tuple[str, ...]
    column_members: tuple[Any, ...]
    measure: str
    rows: list[tuple[tuple[Any, ...], list[Any]]]  # (row key, one cell per column member; None = no data)


def pivot(result: QueryResult, *, columns: str, measure: str | None = None) -> Pivot:
    if columns not in result.dimension_columns:
        raise OlapError(f"cannot pivot on {columns!r}: not a dimension of the result")
    measure = measure or result.measure_columns[0]
    if measure not in result.measure_columns:
        raise OlapError(f"cannot pivot measure {measure!r}: not in the result")
    ci = result.columns.index(columns)
    mi = result.columns.index(measure)
    ri = [result.columns.index(c) for c in result.dimension_columns if c != columns]
    members: list[Any] = []
    cells: dict[tuple[Any, ...], dict[Any, Any]] = {}
    for row in result.rows:
        if row[ci] not in members:
            members.append(row[ci])
        cells.setdefault(tuple(row[i] for i in ri), {})[row[ci]] = row[mi]
    members.sort(key=lambda m: (m is None, m))
    return Pivot(
        tuple(c for c in result.dimension_columns if c != columns),
        tuple(members),
        measure,
        [(key, [by.get(m) for m in members]) for key, by in cells.items()],
    )
