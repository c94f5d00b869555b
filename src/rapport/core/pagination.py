"""Keyset ("cursor") pagination: constant cost per page at any depth, unlike OFFSET.

A cursor encodes the ordering values of the last row shown. The next page is the rows strictly
after it in the ordering, which an index on the ordering columns answers directly. The last
ordering column is always the primary key, so the order is total and no row is skipped or
repeated when rows with equal values straddle a page boundary.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db.models import Model, Q, QuerySet

from rapport.core.errors import ValidationFailed

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Page(Generic[M]):
    items: list[M]
    next_cursor: str | None


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return {"t": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"d": str(value)}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "t" in value:
            text = value["t"]
            return dt.datetime.fromisoformat(text) if "T" in text else dt.date.fromisoformat(text)
        if "d" in value:
            return decimal.Decimal(value["d"])
    return value


def cursor_encode(values: list[Any]) -> str:
    raw = json.dumps([_encode_value(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str, size: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != size:
            raise ValueError
        return [_decode_value(v) for v in values]
    except (ValueError, binascii.Error, UnicodeDecodeError, TypeError, KeyError):
        raise ValidationFailed(
            "The cursor is not valid for this list; start again without it.",
            field_errors={"cursor": ["Not a cursor this list issued."]},
        ) from None


def _after_q(fields: list[str], values: list[Any]) -> Q:
    """Rows after ``values`` in the order ``fields`` ("-name" descending)."""
    condition = Q()
    for index, spec in enumerate(fields):
        name = spec.lstrip("-")
        op = "lt" if spec.startswith("-") else "gt"
        step = Q(**{f"{name}__{op}": values[index]})
        for prior_index in range(index):
            prior = fields[prior_index].lstrip("-")
            step &= Q(**{prior: values[prior_index]})
        condition |= step
    return condition


def keyset_page(queryset: QuerySet[M], *, ordering: list[str], cursor: str | None, limit: int) -> Page[M]:
    """One page of ``queryset`` ordered by ``ordering`` (the primary key is appended).

    Ordering columns must be non-null, so comparisons are total.
    """
    pk_name = queryset.model._meta.pk.attname
    descending = ordering[0].startswith("-") if ordering else False
    fields = [*ordering, f"-{pk_name}" if descending else pk_name]
    if cursor:
        queryset = queryset.filter(_after_q(fields, cursor_decode(cursor, len(fields))))
    rows = list(queryset.order_by(*fields)[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = cursor_encode([_attr(last, spec.lstrip("-")) for spec in fields])
    return Page(items=rows, next_cursor=next_cursor)


def page_out(
    queryset: QuerySet[M], ordering: list[str], cursor: str | None, limit: int, out: Callable[[M], Any]
) -> dict[str, Any]:
    """The API's page body: ``{"items": [out(row), ...], "next": cursor or None}``."""
    page = keyset_page(queryset, ordering=ordering, cursor=cursor, limit=limit)
    return {"items": [out(row) for row in page.items], "next": page.next_cursor}


def _attr(obj: Any, path: str) -> Any:
    for part in path.split("__"):
        obj = getattr(obj, part)
    return obj
