"""Fast inserts: psycopg 3 ``COPY`` on PostgreSQL, ``bulk_create`` elsewhere.

On PostgreSQL the ids of new rows are taken from the table's sequence first (``nextval``), so
child rows (emails, phones, memberships, audit events) can be copied right after their parents
without a round trip per row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Model


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def _columns(model: type[Model], names: Sequence[str]) -> list[str]:
    return [model._meta.get_field(name).column for name in names]


def _copy(model: type[Model], names: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in _columns(model, names))
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _json_fields(model: type[Model], names: Sequence[str]) -> list[int]:
    return [i for i, n in enumerate(names) if model._meta.get_field(n).get_internal_type() == "JSONField"]


def insert_returning_ids(model: type[Model], names: Sequence[str], rows: list[tuple[Any, ...]]) -> list[int]:
    """Insert ``rows`` (values in the order of ``names``, no id) and return their new ids in order."""
    if not rows:
        return []
    if is_postgresql():
        table = model._meta.db_table
        pk = model._meta.pk.column
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, pk, len(rows)]
            )
            ids = [r[0] for r in cursor.fetchall()]
        jsons = _json_fields(model, names)
        out = []
        for new_id, row in zip(ids, rows, strict=True):
            values = list(row)
            for i in jsons:
                values[i] = json.dumps(values[i])
            out.append((new_id, *values))
        _copy(model, ["id", *names], out)
        return ids
    objs = model._default_manager.bulk_create(
        [model(**dict(zip(names, row, strict=True))) for row in rows], batch_size=500
    )
    return [obj.pk for obj in objs]


def insert(model: type[Model], names: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` whose ids the database assigns (or that name their id in ``names``)."""
    if not rows:
        return
    if is_postgresql():
        jsons = _json_fields(model, names)
        if jsons:
            rows = [tuple(json.dumps(v) if i in jsons else v for i, v in enumerate(row)) for row in rows]
        _copy(model, names, rows)
        return
    model._default_manager.bulk_create([model(**dict(zip(names, row, strict=True))) for row in rows], batch_size=500)
