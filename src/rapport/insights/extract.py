"""Move operational rows out of the ORM database into CSV files that DuckDB loads.

Each ``Extract`` is one ORM queryset of plain columns (so the SQL and its parameters are Django's,
right for SQLite and PostgreSQL alike) plus the DuckDB types of those columns. On PostgreSQL a
table is streamed with ``COPY (SELECT ...) TO STDOUT`` (the server writes CSV, no Python per row);
elsewhere the rows are read in chunks from a cursor and written with the csv module.
Invariant: the CSV columns are exactly ``Extract.columns`` in order; no header row.

``extract_parallel`` (PostgreSQL) runs the COPYs on several connections at once, every one of
them in the snapshot the caller's transaction exported (``pg_export_snapshot``), so the files
agree with each other exactly as if one connection had read them all; the large fact tables go
first, so they overlap.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection
from django.db.models import Case, IntegerField, Model, QuerySet, Value, When

from rapport.activities.models import Interaction
from rapport.commerce.models import ExchangeRate, Invoice, Order, OrderLine, Payment, Product, Subscription
from rapport.core.models import Team, User
from rapport.marketing.models import Campaign, CampaignMember
from rapport.parties.models import Account, AccountMembership, Address
from rapport.service.models import Case as ServiceCase

CHUNK = 20_000


@dataclass(frozen=True)
class Extract:
    table: str  # the DuckDB staging table it lands in
    columns: tuple[tuple[str, str], ...]  # (column, DuckDB type)
    queryset: Callable[[dt.datetime | None], QuerySet[Any]] | None  # given the watermark (None = everything)
    large: bool = False  # fact-sized: extracted first when several run at once
    # Only an incremental refresh needs it (deletions are found against the previous file's facts).
    incremental_only: bool = False
    # Instead of a queryset, for finding deletions: the id block summary of this model (block,
    # count, sum; see ``_id_blocks_sql``) ...
    id_blocks_of: type[Model] | None = None
    # ... or its primary keys in ``id_ranges`` (inclusive): the blocks that changed since the last
    # run. No ranges, no rows.
    ids_of: type[Model] | None = None
    id_ranges: tuple[tuple[int, int], ...] = ()


# Ids per block of the deletion check. Smaller blocks mean more rows in every run's block summary
# but fewer ids re-read for each scattered deletion (256 ids per deleted row at most).
ID_BLOCK = 256
# At most this many ranges in one id query on SQLite (nearby ranges are merged beyond it), whose
# statement takes a bounded number of parameters.
MAX_ID_RANGES = 1000


def _id_blocks_sql(model: type[Model]) -> str:
    """Per ``ID_BLOCK`` consecutive ids of ``model``: (block, count, sum of ids), blocks with rows.

    Invariant used to find deletions: ids are serial and never reused (PostgreSQL sequences,
    SQLite AUTOINCREMENT), so between two runs a block gains only ids above every id it had. If
    its count is unchanged, as many ids came as went, and the newcomers' sum is larger than the
    leavers' unless there were none: an unchanged (count, sum) means an unchanged block."""
    meta = model._meta
    qn = connection.ops.quote_name
    pk = qn(meta.pk.column)
    return f"SELECT {pk} / {ID_BLOCK}, count(*), sum({pk}) FROM {qn(meta.db_table)} GROUP BY {pk} / {ID_BLOCK}"


def changed_ranges(before: dict[int, tuple[int, int]], now: dict[int, tuple[int, int]]) -> list[tuple[int, int]]:
    """The id ranges (inclusive, block-aligned, adjacent blocks merged) covering every block whose
    (count, sum) differs between two id block summaries (``{block: (count, sum)}``), gone or new
    blocks included."""
    ranges: list[tuple[int, int]] = []
    for b in sorted(b for b in before.keys() | now.keys() if before.get(b) != now.get(b)):
        lo, hi = b * ID_BLOCK, b * ID_BLOCK + ID_BLOCK - 1
        if ranges and ranges[-1][1] == lo - 1:  # the next block: extend the last range
            ranges[-1] = (ranges[-1][0], hi)
        else:
            ranges.append((lo, hi))
    return ranges


def capped_ranges(ranges: list[tuple[int, int]], limit: int = MAX_ID_RANGES) -> list[tuple[int, int]]:
    """At most ``limit`` ranges covering ``ranges``: the narrowest gaps between neighbours closed
    (their ids are read needlessly, never wrongly: only ids in changed blocks are compared)."""
    if len(ranges) <= limit:
        return ranges
    gaps = sorted(range(len(ranges) - 1), key=lambda i: ranges[i + 1][0] - ranges[i][1])
    close = set(gaps[: len(ranges) - limit])
    out: list[tuple[int, int]] = []
    for i, (lo, hi) in enumerate(ranges):
        if i - 1 in close:  # the gap before this range is closed: extend the last one over it
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def _sql(ext: Extract, since: dt.datetime | None) -> tuple[str, Any]:
    if ext.id_blocks_of is not None:
        return _id_blocks_sql(ext.id_blocks_of), ()
    if ext.ids_of is not None:
        meta = ext.ids_of._meta
        qn = connection.ops.quote_name
        table, pk = qn(meta.db_table), qn(meta.pk.column)
        if not ext.id_ranges:
            return f"SELECT {pk} FROM {table} WHERE 1 = 0", ()
        if connection.vendor == "postgresql":
            # A nested loop over the ranges: one primary-key index range scan each, however many.
            # (An OR list is tested on every row of a sequential scan: 20 s for 2,000 ranges at 10M.)
            return (
                f"SELECT t.{pk} FROM {table} AS t JOIN unnest(%s::bigint[], %s::bigint[]) AS r(lo, hi) "
                f"ON t.{pk} BETWEEN r.lo AND r.hi",
                [[lo for lo, _ in ext.id_ranges], [hi for _, hi in ext.id_ranges]],
            )
        ranges = capped_ranges(list(ext.id_ranges))
        where = " OR ".join(f"{pk} BETWEEN %s AND %s" for _ in ranges)
        return f"SELECT {pk} FROM {table} WHERE {where}", [v for r in ranges for v in r]
    assert ext.queryset is not None
    return ext.queryset(since).query.sql_with_params()


def _since(qs: QuerySet[Any], field: str, since: dt.datetime | None) -> QuerySet[Any]:
    return qs if since is None else qs.filter(**{f"{field}__gte": since})


def _flag(field: str) -> Case:
    # Booleans as 0/1: SQLite and PostgreSQL's CSV spell true differently.
    return Case(When(**{field: True}, then=Value(1)), default=Value(0), output_field=IntegerField())


EXTRACTS: tuple[Extract, ...] = (
    # First, so that they start first (an incremental run reads the changed blocks' ids after them).
    *(
        Extract(f"stg_{name}_id_blocks", (("block", "BIGINT"), ("n", "BIGINT"), ("total", "HUGEINT")), None,
                large=True, id_blocks_of=model)
        # Accounts: a merge deletes the duplicate (its dimension row goes). Campaign members: a
        # contact merge drops the duplicate's member of a campaign both were sent.
        for name, model in (("order", Order), ("interaction", Interaction), ("account", Account),
                            ("campaign_member", CampaignMember))
    ),
    Extract(
        "stg_account",
        (
            ("id", "BIGINT"),
            ("name", "VARCHAR"),
            ("tier", "VARCHAR"),
            ("industry", "VARCHAR"),
            ("size", "VARCHAR"),
            ("owner_id", "BIGINT"),
            ("team_id", "BIGINT"),
        ),
        lambda since: (
            _since(Account.objects.all(), "updated_at", since)
            .order_by()
            .values_list("id", "name", "tier", "industry", "size", "owner_id", "team_id")
        ),
    ),
    Extract(
        "stg_address",
        (("id", "BIGINT"), ("account_id", "BIGINT"), ("kind", "VARCHAR"), ("country", "VARCHAR")),
        lambda since: (
            _since(Address.objects.filter(account__isnull=False), "account__updated_at", since)
            .order_by()
            .values_list("id", "account_id", "kind", "country")
        ),
    ),
    Extract(
        "stg_membership",
        (("contact_id", "BIGINT"), ("account_id", "BIGINT"), ("is_primary", "INTEGER")),
        lambda since: (
            (
                AccountMembership.objects.all()
                if since is None
                else AccountMembership.objects.filter(
                    contact_id__in=Interaction.objects.filter(updated_at__gte=since).values("contact_id")
                )
            )
            .order_by()
            .annotate(primary=_flag("is_primary"))
            .values_list("contact_id", "account_id", "primary")
        ),
    ),
    # The small tables come whole every time: their dimensions are rebuilt on every run.
    Extract(
        "stg_user",
        (
            ("id", "BIGINT"),
            ("username", "VARCHAR"),
            ("first_name", "VARCHAR"),
            ("last_name", "VARCHAR"),
            ("team_id", "BIGINT"),
        ),
        lambda since: User.objects.order_by().values_list("id", "username", "first_name", "last_name", "team_id"),
    ),
    Extract(
        "stg_team",
        (("id", "BIGINT"), ("name", "VARCHAR")),
        lambda since: Team.objects.order_by().values_list("id", "name"),
    ),
    Extract(
        "stg_product",
        (
            ("id", "BIGINT"),
            ("sku", "VARCHAR"),
            ("name", "VARCHAR"),
            ("kind", "VARCHAR"),
            ("cost_price", "DECIMAL(19,4)"),
        ),
        lambda since: Product.objects.order_by().values_list("id", "sku", "name", "kind", "cost_price"),
    ),
    Extract(
        "stg_rate",
        (("currency", "VARCHAR"), ("date", "DATE"), ("rate", "DECIMAL(24,10)")),
        lambda since: ExchangeRate.objects.order_by().values_list("currency", "date", "rate"),
    ),
    Extract(
        "stg_order",
        (
            ("id", "BIGINT"),
            ("account_id", "BIGINT"),
            ("currency", "VARCHAR"),
            ("order_date", "DATE"),
            ("tax_country", "VARCHAR"),
            ("status", "VARCHAR"),
            ("owner_id", "BIGINT"),
        ),
        lambda since: (
            _since(Order.objects.all(), "updated_at", since)
            .order_by()
            .values_list("id", "account_id", "currency", "order_date", "tax_country", "status", "owner_id")
        ),
        large=True,
    ),
    Extract(
        "stg_line",
        (
            ("id", "BIGINT"),
            ("order_id", "BIGINT"),
            ("product_id", "BIGINT"),
            ("quantity", "DECIMAL(14,3)"),
            ("net", "DECIMAL(19,4)"),
        ),
        # Lines carry no timestamp of their own: they change only together with their order.
        lambda since: (
            _since(OrderLine.objects.all(), "order__updated_at", since)
            .order_by()
            .values_list("id", "order_id", "product_id", "quantity", "net")
        ),
        large=True,
    ),
    Extract(
        "stg_order_ids",
        (("id", "BIGINT"),),
        None,
        incremental_only=True,
        ids_of=Order,
    ),
    Extract(
        "stg_interaction",
        (
            ("id", "BIGINT"),
            ("contact_id", "BIGINT"),
            ("account_id", "BIGINT"),
            ("channel", "VARCHAR"),
            ("direction", "VARCHAR"),
            ("outcome", "VARCHAR"),
            ("occurred_at", "TIMESTAMP"),
            ("duration_seconds", "BIGINT"),
            ("owner_id", "BIGINT"),
        ),
        lambda since: (
            _since(Interaction.objects.all(), "updated_at", since)
            .order_by()
            .values_list(
                "id",
                "contact_id",
                "account_id",
                "channel",
                "direction",
                "outcome",
                "occurred_at",
                "duration_seconds",
                "owner_id",
            )
        ),
        large=True,
    ),
    # Invoices, payments and subscriptions are never deleted (PROTECT, no delete service), so
    # changed rows are all an incremental refresh needs.
    Extract(
        "stg_invoice",
        (
            ("id", "BIGINT"),
            ("account_id", "BIGINT"),
            ("currency", "VARCHAR"),
            ("issue_date", "DATE"),
            ("due_date", "DATE"),
            ("total", "DECIMAL(19,4)"),
            ("owner_id", "BIGINT"),
        ),
        lambda since: (
            _since(Invoice.objects.all(), "updated_at", since)
            .order_by()
            .values_list("id", "order__account_id", "currency", "issue_date", "due_date", "total", "owner_id")
        ),
    ),
    Extract(
        "stg_payment",
        (("id", "BIGINT"), ("invoice_id", "BIGINT"), ("paid_on", "DATE"), ("amount", "DECIMAL(19,4)")),
        lambda since: (
            _since(Payment.objects.all(), "updated_at", since)
            .order_by()
            .values_list("id", "invoice_id", "paid_on", "amount")
        ),
    ),
    Extract(
        "stg_subscription",
        (
            ("id", "BIGINT"),
            ("account_id", "BIGINT"),
            ("product_id", "BIGINT"),
            ("currency", "VARCHAR"),
            ("amount", "DECIMAL(19,4)"),
            ("billing_period", "VARCHAR"),
            ("start_date", "DATE"),
            ("end_date", "DATE"),
            ("renewal_date", "DATE"),
            ("status", "VARCHAR"),
            ("cancelled_on", "DATE"),
            ("cancellation_reason", "VARCHAR"),
        ),
        lambda since: (
            _since(Subscription.objects.all(), "updated_at", since)
            .order_by()
            .values_list(
                "id", "account_id", "product_id", "currency", "amount", "billing_period", "start_date", "end_date",
                "renewal_date", "status", "cancelled_on", "cancellation_reason",
            )
        ),
    ),
    # Cases are never deleted (see the model): upserted like invoices. Campaign members neither,
    # but for a contact merge's dropped duplicates (found by their id blocks, like interactions).
    Extract(
        "stg_case",
        (
            ("id", "BIGINT"),
            ("account_id", "BIGINT"),
            ("contact_id", "BIGINT"),
            ("channel", "VARCHAR"),
            ("kind", "VARCHAR"),
            ("priority", "VARCHAR"),
            ("status", "VARCHAR"),
            ("opened_at", "TIMESTAMP"),
            ("resolved_at", "TIMESTAMP"),
            ("satisfaction", "INTEGER"),
            ("owner_id", "BIGINT"),
        ),
        lambda since: (
            _since(ServiceCase.objects.all(), "updated_at", since)
            .order_by()
            .values_list(
                "id", "account_id", "contact_id", "channel", "kind", "priority", "status", "opened_at",
                "resolved_at", "satisfaction", "owner_id",
            )
        ),
    ),
    Extract(
        "stg_campaign",
        (
            ("id", "BIGINT"),
            ("name", "VARCHAR"),
            ("channel", "VARCHAR"),
            ("status", "VARCHAR"),
            ("starts_on", "DATE"),
            ("owner_id", "BIGINT"),
        ),
        lambda since: (
            Campaign.objects.order_by().values_list("id", "name", "channel", "status", "starts_on", "owner_id")
        ),
    ),
    Extract(
        "stg_campaign_member",
        (
            ("id", "BIGINT"),
            ("campaign_id", "BIGINT"),
            ("account_id", "BIGINT"),
            ("contact_id", "BIGINT"),
            ("sent_at", "TIMESTAMP"),
            ("opened_at", "TIMESTAMP"),
            ("clicked_at", "TIMESTAMP"),
            ("responded_at", "TIMESTAMP"),
            ("unsubscribed_at", "TIMESTAMP"),
        ),
        lambda since: (
            _since(CampaignMember.objects.all(), "updated_at", since)
            .order_by()
            .values_list(
                "id", "campaign_id", "account_id", "contact_id", "sent_at", "opened_at", "clicked_at",
                "responded_at", "unsubscribed_at",
            )
        ),
        large=True,
    ),
    # The ids of the changed id blocks, to find deletions (see docs/warehouse.md "Incremental refresh").
    *(
        Extract(f"stg_{name}_ids", (("id", "BIGINT"),), None, incremental_only=True, ids_of=model)
        for name, model in (("interaction", Interaction), ("account", Account), ("campaign_member", CampaignMember))
    ),
)


def _csv_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        # Stored in UTC; DuckDB's TIMESTAMP column is naive UTC.
        return (
            value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
            if value.tzinfo
            else value.isoformat(sep=" ")
        )
    return value


def extract_to_csv(ext: Extract, path: Path, *, since: dt.datetime | None) -> int:
    """Write the rows of ``ext`` to ``path``; returns the row count."""
    sql, params = _sql(ext, since)
    if connection.vendor == "postgresql":
        return _copy_postgres(sql, params, path)
    rows = 0
    with connection.cursor() as cursor, path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(CHUNK):
            # Raw cursor rows, not model instances: the ORM's per-row work would dominate.
            writer.writerows([_csv_value(v) for v in row] for row in chunk)
            rows += len(chunk)
    return rows


def _copy_statement(sql: str, params: Any) -> str:
    import psycopg

    connection.ensure_connection()
    # COPY takes no bind parameters, so the watermark is quoted by psycopg's client-side binder.
    statement = psycopg.ClientCursor(connection.connection).mogrify(sql, params)
    return f"COPY ({statement}) TO STDOUT WITH (FORMAT csv)"


def _copy_to_file(cursor: Any, statement: str, path: Path) -> int:
    with path.open("wb") as fh, cursor.copy(statement) as copy:
        for block in copy:
            fh.write(block)
    return -1 if cursor.rowcount is None else cursor.rowcount


def _copy_postgres(sql: str, params: Any, path: Path) -> int:
    statement = _copy_statement(sql, params)
    with connection.cursor() as cursor:
        return _copy_to_file(cursor.cursor, statement, path)


def extract_parallel(
    extracts: tuple[Extract, ...], work: Path, *, since: dt.datetime | None, snapshot: str, workers: int
) -> Iterator[tuple[Extract, Path, int]]:
    """Extract on ``workers`` new PostgreSQL connections in the exported ``snapshot``; yields
    ``(extract, csv path, rows)`` as each file is complete (large extracts started first).

    The caller's transaction must stay open until the iterator is exhausted: a snapshot can be
    imported only while the transaction that exported it lives."""
    import psycopg
    from psycopg import sql as pg_sql

    params = connection.get_connection_params()
    # The statements are made here, on the caller's thread: Django's connection is not shared.
    todo = sorted(
        ((ext, _copy_statement(*_sql(ext, since))) for ext in extracts),
        key=lambda item: not item[0].large,
    )

    def run(ext: Extract, statement: str) -> tuple[Extract, Path, int]:
        path = work / f"{ext.table}.csv"
        with psycopg.connect(**{**params, "autocommit": True}) as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            conn.execute(pg_sql.SQL("SET TRANSACTION SNAPSHOT {}").format(pg_sql.Literal(snapshot)))
            with conn.cursor() as cursor:
                rows = _copy_to_file(cursor, statement, path)
            conn.execute("COMMIT")
        return ext, path, rows

    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="warehouse-extract") as pool:
        pending: set[Future[tuple[Extract, Path, int]]] = {pool.submit(run, ext, stmt) for ext, stmt in todo}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()
