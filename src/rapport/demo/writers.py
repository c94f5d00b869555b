"""Bulk writers: PostgreSQL ``COPY``, SQLite ``executemany`` (``bulk_create`` elsewhere), fed the same tuples.

A ``Table`` names the model and the columns the generator fills, in order. Every other
concrete field gets its model default, computed once per table, so a row tuple stays small and
the two backends receive exactly the same values.

Invariants:

* Rows are written in the caller's transaction; nothing here commits.
* Primary keys the generator assigns (accounts, contacts) are real ids: ``sequences_reset``
  moves the id sequences past them afterwards so later inserts do not collide.
* ``LoadWindow`` (PostgreSQL, fast mode) drops secondary indexes and foreign keys of the
  tables it loads and re-creates them from their own catalog definitions before the
  transaction ends, so a failure rolls back to the original schema (DDL is transactional).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models


@dataclass
class Table:
    model: type[models.Model]
    columns: Sequence[str]  # attnames the generator provides, in row order
    _fields: list[models.Field] = field(init=False)
    _constants: tuple[Any, ...] = field(init=False)
    _constant_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        by_attname = {f.attname: f for f in self.model._meta.concrete_fields}
        unknown = [c for c in self.columns if c not in by_attname]
        if unknown:
            raise ValueError(f"{self.model.__name__} has no columns {unknown}")
        rest = [f for f in self.model._meta.concrete_fields if f.attname not in self.columns and not f.primary_key]
        self._fields = [by_attname[c] for c in self.columns] + rest
        self._constant_names = tuple(f.attname for f in rest)
        self._constants = tuple(f.get_default() for f in rest)

    @property
    def db_columns(self) -> list[str]:
        return [f.column for f in self._fields]

    def copy_constants(self) -> tuple[Any, ...]:
        # COPY's text format has no JSON adapter for a bare dict; JSON text is what it wants.
        return tuple(json.dumps(v) if isinstance(v, dict | list) else v for v in self._constants)


class Writer:
    """Writes row tuples of ``Table``\\ s to the current connection."""

    def write(self, table: Table, rows: Iterable[tuple[Any, ...]]) -> int:
        raise NotImplementedError


class CopyWriter(Writer):
    """PostgreSQL: one ``COPY ... FROM STDIN`` per call, rows sent with ``write_row``."""

    def __init__(self) -> None:
        connection.ensure_connection()
        self.raw = connection.cursor().connection  # the psycopg 3 connection Django uses

    def write(self, table: Table, rows: Iterable[tuple[Any, ...]]) -> int:
        columns = ", ".join(f'"{c}"' for c in table.db_columns)
        constants = table.copy_constants()
        sql = f'COPY "{table.model._meta.db_table}" ({columns}) FROM STDIN'
        count = 0
        with self.raw.cursor() as cursor, cursor.copy(sql) as cp:
            write_row = cp.write_row
            if constants:
                for row in rows:
                    write_row(row + constants)
                    count += 1
            else:
                for row in rows:
                    write_row(row)
                    count += 1
        return count


class BulkCreateWriter(Writer):
    """SQLite (and any other backend): ``bulk_create`` in batches."""

    batch_size = 2000

    def write(self, table: Table, rows: Iterable[tuple[Any, ...]]) -> int:
        names = tuple(table.columns) + table._constant_names
        constants = table._constants
        model = table.model
        batch: list[models.Model] = []
        count = 0
        for row in rows:
            batch.append(model(**dict(zip(names, row + constants, strict=True))))
            if len(batch) >= self.batch_size:
                model._default_manager.bulk_create(batch, batch_size=self.batch_size)
                count += len(batch)
                batch = []
        if batch:
            model._default_manager.bulk_create(batch, batch_size=self.batch_size)
            count += len(batch)
        return count


class SqliteWriter(Writer):
    """SQLite: ``executemany`` of one prepared ``INSERT`` per batch, inside the caller's transaction.

    ``bulk_create`` compiles SQL for every value of every row (about 60 % of the demo's time at
    the default size); here each column's conversion to what Django stores is chosen once per
    table. Values are converted exactly as the ORM would: aware datetimes become naive UTC text,
    other non-trivial types go through the field's own ``get_db_prep_save``.
    """

    batch_size = 5000

    def write(self, table: Table, rows: Iterable[tuple[Any, ...]]) -> int:
        fields = table._fields
        columns = ", ".join(f'"{c}"' for c in table.db_columns)
        sql = f'INSERT INTO "{table.model._meta.db_table}" ({columns}) VALUES ({", ".join("?" * len(fields))})'
        constants = tuple(f.get_db_prep_save(v, connection) for f, v in zip(fields[len(table.columns):],
                                                                             table._constants, strict=True))
        converters = [_sqlite_converter(f) for f in fields[: len(table.columns)]]
        plain = all(c is None for c in converters)
        count = 0
        batch: list[tuple[Any, ...]] = []
        with connection.cursor() as cursor:
            raw = cursor.cursor  # the sqlite3 cursor: Django's wrapper would rewrite %s per batch
            for row in rows:
                if not plain:
                    row = tuple(v if c is None or v is None else c(v) for c, v in zip(converters, row, strict=True))
                batch.append(row + constants)
                if len(batch) >= self.batch_size:
                    raw.executemany(sql, batch)
                    count += len(batch)
                    batch = []
            if batch:
                raw.executemany(sql, batch)
                count += len(batch)
        return count


def _sqlite_datetime(value: Any) -> str:
    # What DatabaseOperations.adapt_datetimefield_value stores: naive UTC as str(). The demo's
    # datetimes are already UTC, so cutting "+00:00" off str() is the same and three times faster.
    if value.tzinfo is dt.UTC:
        return str(value)[:-6]
    return str(value.astimezone(dt.UTC).replace(tzinfo=None))


def _sqlite_converter(field: models.Field) -> Any:
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        return _sqlite_datetime
    if kind in ("DateField", "DecimalField", "JSONField", "BooleanField"):
        return lambda value: field.get_db_prep_save(value, connection)
    return None


def writer_for_connection() -> Writer:
    if connection.vendor == "postgresql":
        return CopyWriter()
    if connection.vendor == "sqlite":
        return SqliteWriter()
    return BulkCreateWriter()


def next_id(model: type[models.Model]) -> int:
    """The first free id: generated ids start here so they never collide with existing rows."""
    top = model._default_manager.aggregate(top=models.Max("pk"))["top"]
    return (top or 0) + 1


def sequences_reset(model_list: Sequence[type[models.Model]]) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def analyze(model_list: Sequence[type[models.Model]]) -> None:
    """Fresh planner statistics: without them PostgreSQL plans a just-loaded table as empty."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for model in model_list:
                cursor.execute(f'ANALYZE "{model._meta.db_table}"')
        elif connection.vendor == "sqlite":
            cursor.execute("ANALYZE")


class LoadWindow:
    """PostgreSQL: drop secondary indexes and foreign keys of ``tables`` now, restore on ``close``.

    Loading into a bare heap and building each index once (in parallel, sorted) is several times
    faster than maintaining a dozen indexes, a GIN trigram index among them, row by row; and
    without foreign keys COPY queues no per-row deferred trigger events. Indexes that back a
    constraint (primary and unique keys) stay, so duplicates are still refused during the load.
    """

    def __init__(self, tables: Sequence[str]) -> None:
        self.tables = list(tables)
        self.indexes: list[tuple[str, str]] = []
        self.foreign_keys: list[tuple[str, str, str]] = []

    def open(self) -> None:
        with connection.cursor() as cursor:
            # ALTER TABLE refuses tables with foreign-key checks still queued in this transaction
            # (the demo users were just written): run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            cursor.execute(
                """
                SELECT i.indexname, i.indexdef FROM pg_indexes i
                WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                                  WHERE c.conindid = (quote_ident(i.schemaname) || '.' ||
                                                      quote_ident(i.indexname))::regclass)
                ORDER BY i.tablename, i.indexname
                """,
                [self.tables],
            )
            self.indexes = list(cursor.fetchall())
            cursor.execute(
                """
                SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
                WHERE c.contype = 'f' AND c.conrelid = ANY(SELECT oid FROM pg_class WHERE relname = ANY(%s)
                      AND relnamespace = current_schema()::regnamespace)
                ORDER BY 1, 2
                """,
                [self.tables],
            )
            self.foreign_keys = list(cursor.fetchall())
            for table, name, _definition in self.foreign_keys:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, _definition in self.indexes:
                cursor.execute(f'DROP INDEX "{name}"')

    def close(self, advance: Any = None) -> None:
        with connection.cursor() as cursor:
            # Big sorts for index builds; both settings are local to this transaction.
            cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
            cursor.execute("SET LOCAL max_parallel_maintenance_workers = 2")
            for _name, definition in self.indexes:
                cursor.execute(definition)
                if advance:
                    advance(1)
            for table, name, definition in self.foreign_keys:
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
                if advance:
                    advance(1)

    @property
    def steps(self) -> int:
        return len(self.indexes) + len(self.foreign_keys)
