"""Operational data for the warehouse benchmark, made in PostgreSQL by set-based SQL (not the ORM).

Every value is a pure function of the row number ``g``: ``_u(g, k)`` is a uniform draw in [0, 1)
from ``hashint8extended(g, k)``, one independent stream per ``k``. So the data are the same on every
run, and any subset of rows can be made again exactly (``restore`` puts back what ``one_more_day``
changed, so a ``--keep`` database is reused as it was generated).

Distributions, chosen to look like a B2B seller's books rather than a uniform grid:
- accounts: tiers and sizes weighted (few platinum, many small), countries skewed (the first
  in ``COUNTRIES`` are the biggest markets);
- orders: customers Pareto-like (``u**2.2``: the top 10 % of customers place about half the
  orders), dates rising over five years (``sqrt(u)``: more business every year), 20 % in EUR,
  2 % cancelled; one line each, quantities geometric, prices skewed, 100 products (a quarter of
  them services without a cost price);
- interactions: the same kind of customer skew (another stream), channels weighted towards
  e-mail, timestamps rising like the orders, spread over the day;
- service cases: customers skewed again, kinds weighted towards questions (one in five a
  complaint), nine in ten resolved within a few days, half of those rated 1-5;
- campaign sends: ten campaigns, each reaching a share of the customers; three in ten opened,
  fewer clicked and responded, a few unsubscribed.

Loading 10M rows through a table's indexes and deferred foreign-key triggers takes PostgreSQL far
longer than building the indexes afterwards, so ``generate`` drops the secondary indexes of the
tables it fills, inserts with ``session_replication_role = replica`` (no FK triggers: every key is
valid by construction) and recreates the indexes. Primary keys and unique constraints stay.
"""

from __future__ import annotations

import time
from collections.abc import Callable

COUNTRIES = ["US", "DE", "GB", "FR", "NL", "CA", "JP", "AU", "ES", "IT", "SE", "BR", "IN", "MX", "ZA"]
CHANNELS = ["email", "email", "email", "phone", "phone", "meeting", "chat", "web", "sms"]
DAYS = 1800  # orders and interactions span 2021-01-01 + 0..1799 days
START = "2021-01-01"
BIG_TABLES = (
    "parties_account", "parties_address", "commerce_order", "commerce_orderline", "activities_interaction",
    "service_case", "marketing_campaignmember",
)  # fmt: skip
CASE_KINDS = ["question", "question", "question", "problem", "problem", "complaint", "request"]
CAMPAIGNS = 10


def _u(k: int, g: str = "g") -> str:
    """A uniform [0, 1) draw for row ``g`` from stream ``k`` (52 bits of the row's hash)."""
    return f"((hashint8extended({g}, {k}) & 4503599627370495)::float8 / 4503599627370496.0)"


def _arr(values: list[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]"


def _skewed_account(customers: int, k: int) -> str:
    # Rank by u**2.2 (a heavy head), then scatter the ranks over the ids with a prime stride.
    return f"1 + (floor({customers} * power({_u(k)}, 2.2))::bigint * 7919) % {customers}"


def _filler(conn, table: str, given: dict[str, str]) -> tuple[str, str]:
    """Columns and expressions for an INSERT ... SELECT: ``given`` plus a neutral value for every
    other NOT NULL column without a default (Django keeps defaults in Python, not the schema)."""
    rows = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s "
        "AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO'",
        [table],
    ).fetchall()
    neutral = {
        "integer": "1",
        "bigint": "1",
        "smallint": "1",
        "numeric": "0",
        "boolean": "false",
        "jsonb": "'{}'::jsonb",
        "timestamp with time zone": "now()",
        "date": "current_date",
    }
    cols = dict(given)
    for name, dtype in rows:
        cols.setdefault(name, neutral.get(dtype, "''"))
    return ", ".join(cols), ", ".join(cols.values())


def _insert(conn, table: str, given: dict[str, str], series: str, where: str = "true") -> None:
    cols, exprs = _filler(conn, table, given)
    conn.execute(f"INSERT INTO {table} ({cols}) SELECT {exprs} FROM {series} WHERE {where}")


def generate(
    conn, *, customers: int, orders: int, interactions: int, owner_ids: list[int], say: Callable[[str], None],
    cases: int = 0, sends: int = 0,
) -> None:
    """Replace the operational tables' rows by ``customers`` accounts (one billing address each),
    ``orders`` orders of one line each, ``interactions`` interactions, ``cases`` service cases and
    ``sends`` campaign messages (members of ``CAMPAIGNS`` campaigns)."""
    owners = "ARRAY[" + ", ".join(map(str, owner_ids)) + "]"
    started = time.perf_counter()

    def step(msg: str) -> None:
        say(f"{time.perf_counter() - started:7.1f} s  {msg}")

    conn.execute(
        "TRUNCATE activities_interaction, commerce_orderline, commerce_order, parties_address, "
        "commerce_exchangerate, commerce_product, service_case, marketing_campaignmember, marketing_campaign, "
        "parties_account RESTART IDENTITY CASCADE"
    )
    indexes = conn.execute(
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
        [list(BIG_TABLES)],
    ).fetchall()
    for _table, name, _definition in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    conn.execute("SET session_replication_role = replica")
    try:
        _insert(
            conn,
            "parties_account",
            {
                "id": "g",
                "name": "'Account ' || g",
                "search_text": "'account ' || g",
                "tier": f"CASE WHEN {_u(1)} < 0.03 THEN 'platinum' WHEN {_u(1)} < 0.15 THEN 'gold' "
                f"WHEN {_u(1)} < 0.45 THEN 'iron' WHEN {_u(1)} < 0.8 THEN 'lead' ELSE '' END",
                "size": f"(ARRAY['1-10', '1-10', '1-10', '11-50', '11-50', '51-250', '251-1000', '1001+'])"
                f"[1 + floor(8 * {_u(2)})::int]",
                "industry": "''",
                "currency": "'USD'",
                "owner_id": f"({owners})[1 + g % {len(owner_ids)}]",
                "updated_at": "now() - interval '30 days'",
                "created_at": "now() - interval '30 days'",
            },
            f"generate_series(1, {customers}) g",
        )
        _insert(
            conn,
            "parties_address",
            {
                "id": "g",
                "account_id": "g",
                "kind": "'billing'",
                "country": f"({_arr(COUNTRIES)})[1 + floor({len(COUNTRIES)} * power({_u(3)}, 1.8))::int]",
            },
            f"generate_series(1, {customers}) g",
        )
        step(f"{customers:,} accounts and addresses")
        _insert(
            conn,
            "commerce_product",
            {
                "id": "g",
                "sku": "'P-' || g",
                "name": "'Product ' || g",
                "kind": "CASE WHEN g % 4 = 0 THEN 'service' ELSE 'goods' END",
                "unit": "'pcs'",
                "active": "true",
                "cost_price": "CASE WHEN g % 4 = 0 THEN NULL ELSE (5 + g % 40)::numeric END",
            },
            "generate_series(1, 100) g",
        )
        _insert(
            conn,
            "commerce_exchangerate",
            {"currency": "'EUR'", "date": "d::date", "rate": "1.05 + 0.1 * sin(extract(doy FROM d) / 58.0)"},
            "generate_series(date '2020-01-01', date '2026-12-31', interval '1 day') d",
        )
        _orders(conn, 1, orders, customers=customers, owners=owners, n_owners=len(owner_ids))
        step(f"{orders:,} orders and lines")
        _interactions(conn, 1, interactions, customers=customers, owners=owners, n_owners=len(owner_ids))
        step(f"{interactions:,} interactions")
        _insert(conn, "service_case", _case_columns(customers, owners, len(owner_ids)),
                f"generate_series(1, {cases}::bigint) g")
        step(f"{cases:,} service cases")
        _insert(
            conn,
            "marketing_campaign",
            {"id": "g", "name": "'Campaign ' || g", "channel": "'email'", "status": "'completed'",
             "starts_on": f"date '{START}' + g * {DAYS // (CAMPAIGNS + 1)}", "owner_id": f"({owners})[1]",
             "description": "''", "created_at": "now() - interval '30 days'",
             "updated_at": "now() - interval '30 days'"},
            f"generate_series(1, {CAMPAIGNS}) g",
        )  # fmt: skip
        _insert(conn, "marketing_campaignmember", _member_columns(customers), f"generate_series(1, {sends}::bigint) g")
        step(f"{sends:,} campaign sends")
    finally:
        conn.execute("SET session_replication_role = DEFAULT")
    conn.execute("SET maintenance_work_mem = '512MB'")
    for _table, _name, definition in indexes:
        conn.execute(definition)
    step(f"{len(indexes)} secondary indexes rebuilt")
    for table in (*BIG_TABLES, "commerce_product", "marketing_campaign"):
        # coalesce: an empty table (no cases asked for) restarts at 1
        top = f"coalesce((SELECT max(id) FROM {table}), 1)"
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {top})")
        conn.execute(f"VACUUM ANALYZE {table}")
    step("vacuum analyze")


def _order_day(g: str = "g") -> str:
    return f"date '{START}' + floor({DAYS} * sqrt({_u(5, g)}))::int"


def _orders(
    conn,
    lo: int,
    hi: int,
    *,
    customers: int,
    owners: str,
    n_owners: int,
    day: str | None = None,
    where: str = "true",
    stamp: str = "now() - interval '30 days'",
) -> None:
    series = f"generate_series({lo}::bigint, {hi}::bigint) g"
    _insert(
        conn,
        "commerce_order",
        {
            "id": "g",
            "number": "'B' || g",
            "account_id": _skewed_account(customers, 4),
            "currency": f"CASE WHEN {_u(6)} < 0.2 THEN 'EUR' ELSE 'USD' END",
            "order_date": day or _order_day(),
            "tax_country": "''",
            "status": _order_status(),
            "fulfilment_status": "'not_required'",
            "owner_id": f"({owners})[1 + g % {n_owners}]",
            "created_at": stamp,
            "updated_at": stamp,
        },
        series,
        where,
    )
    quantity = f"least(50, 1 + floor(-1.5 * ln(1 - {_u(8)})))"
    price = f"round((5 + 995 * power({_u(9)}, 3))::numeric, 2)"
    _insert(
        conn,
        "commerce_orderline",
        {
            "id": "g",
            "order_id": "g",
            "position": "1",
            "product_id": f"1 + floor(100 * power({_u(10)}, 1.5))::int",
            "quantity": quantity,
            "unit_price": price,
            "net": f"{quantity} * {price}",
            "tax": "0",
            "total": f"{quantity} * {price}",
            "tax_rate": "0",
        },
        series,
        where,
    )


def _order_status(g: str = "g") -> str:
    return f"CASE WHEN {_u(7, g)} < 0.02 THEN 'cancelled' ELSE 'completed' END"


def _interactions(
    conn,
    lo: int,
    hi: int,
    *,
    customers: int,
    owners: str,
    n_owners: int,
    at: str | None = None,
    where: str = "true",
    stamp: str = "now() - interval '30 days'",
) -> None:
    _insert(
        conn,
        "activities_interaction",
        {
            "id": "g",
            "account_id": _skewed_account(customers, 11),
            "channel": f"({_arr(CHANNELS)})[1 + floor({len(CHANNELS)} * {_u(12)})::int]",
            "direction": f"CASE WHEN {_u(13)} < 0.7 THEN 'outbound' ELSE 'inbound' END",
            "occurred_at": at
            or f"timestamp '{START}' + floor({DAYS} * sqrt({_u(14)})) * interval '1 day' "
            f"+ floor(86400 * {_u(15)}) * interval '1 second'",
            "owner_id": f"({owners})[1 + g % {n_owners}]",
            "created_at": stamp,
            "updated_at": stamp,
        },
        f"generate_series({lo}::bigint, {hi}::bigint) g",
        where,
    )


def _case_columns(customers: int, owners: str, n_owners: int, opened: str | None = None,
                  stamp: str = "now() - interval '30 days'") -> dict[str, str]:
    opened = opened or (f"timestamp '{START}' + floor({DAYS} * sqrt({_u(22)})) * interval '1 day' "
                        f"+ floor(86400 * {_u(23)}) * interval '1 second'")
    done = f"{_u(25)} < 0.9"
    return {
        "id": "g",
        "account_id": _skewed_account(customers, 21),
        "subject": "'Case ' || g",
        "description": "''",
        "channel": f"({_arr(CHANNELS)})[1 + floor({len(CHANNELS)} * {_u(24)})::int]",
        "kind": f"({_arr(CASE_KINDS)})[1 + floor({len(CASE_KINDS)} * {_u(26)})::int]",
        "priority": "'normal'",
        "status": f"CASE WHEN {done} THEN 'resolved' ELSE 'open' END",
        "opened_at": opened,
        "resolved_at": f"CASE WHEN {done} THEN {opened} + floor(1 + 200 * power({_u(27)}, 2)) * interval '1 hour' END",
        "resolution": "''",
        "satisfaction": f"CASE WHEN {done} AND {_u(28)} < 0.5 THEN 1 + floor(5 * power({_u(29)}, 0.6))::int END",
        "owner_id": f"({owners})[1 + g % {n_owners}]",
        "created_at": stamp,
        "updated_at": stamp,
    }


def _member_columns(customers: int) -> dict[str, str]:
    # Member g goes to campaign 1 + g % CAMPAIGNS; its account is spread over the customers.
    day = f"((1 + g % {CAMPAIGNS}) * {DAYS // (CAMPAIGNS + 1)})::int"
    sent = f"(date '{START}' + {day})::timestamp + interval '9 hours'"
    return {
        "id": "g",
        "campaign_id": f"1 + g % {CAMPAIGNS}",
        "account_id": f"1 + ((g / {CAMPAIGNS}) * 7919) % {customers}",
        "sent_at": sent,
        "opened_at": f"CASE WHEN {_u(31)} < 0.3 THEN {sent} + interval '5 hours' END",
        "clicked_at": f"CASE WHEN {_u(31)} < 0.08 THEN {sent} + interval '6 hours' END",
        "responded_at": f"CASE WHEN {_u(31)} < 0.02 THEN {sent} + interval '7 hours' END",
        "unsubscribed_at": f"CASE WHEN {_u(32)} < 0.005 THEN {sent} + interval '8 hours' END",
        "created_at": "now() - interval '30 days'",
        "updated_at": "now() - interval '30 days'",
    }


# One more day of business: new orders, interactions and cases (0.3 % each), some orders cancelled
# (1 in 2,000), some interactions deleted (1 in 5,000), some open cases resolved (1 in 50) and
# some campaign messages opened late (1 in 2,000).
CHANGED_ORDERS = "id % 2000 = 7"
CHANGED_CASES = "id % 50 = 9 AND status = 'open'"
OPENED_LATE = "id % 2000 = 13 AND opened_at IS NULL"


def _deleted_interactions(column: str) -> str:
    return f"{column} % 5000 = 3"


def one_more_day(conn, *, customers: int, orders: int, interactions: int, owner_ids: list[int],
                 cases: int = 0) -> dict[str, int]:
    owners = "ARRAY[" + ", ".join(map(str, owner_ids)) + "]"
    new_orders = max(1, orders * 3 // 1000)
    new_inter = max(1, interactions * 3 // 1000)
    day = f"date '{START}' + {DAYS}"
    # Written today: the refresh must see them (updated_at after the previous build started).
    _orders(
        conn,
        orders + 1,
        orders + new_orders,
        customers=customers,
        owners=owners,
        n_owners=len(owner_ids),
        day=day,
        stamp="now()",
    )
    _interactions(
        conn,
        interactions + 1,
        interactions + new_inter,
        customers=customers,
        owners=owners,
        n_owners=len(owner_ids),
        at=f"({day})::timestamp + interval '10 hours'",
        stamp="now()",
    )
    changed = conn.execute(
        f"UPDATE commerce_order SET status = 'cancelled', updated_at = now() "
        f"WHERE {CHANGED_ORDERS} AND id <= {orders:d}"
    ).rowcount
    deleted = conn.execute(
        f"DELETE FROM activities_interaction WHERE {_deleted_interactions('id')} AND id <= {interactions:d}"
    ).rowcount
    new_cases = cases * 3 // 1000
    if new_cases:
        _insert(conn, "service_case",
                _case_columns(customers, owners, len(owner_ids), opened=f"({day})::timestamp + interval '11 hours'",
                              stamp="now()"),
                f"generate_series({cases + 1}::bigint, {cases + new_cases}::bigint) g")  # fmt: skip
    resolved = conn.execute(
        f"UPDATE service_case SET status = 'resolved', resolved_at = ({day})::timestamp + interval '12 hours', "
        f"satisfaction = 4, updated_at = now() WHERE {CHANGED_CASES} AND id <= {cases:d}"
    ).rowcount
    opened = conn.execute(
        f"UPDATE marketing_campaignmember SET opened_at = ({day})::timestamp, updated_at = now() WHERE {OPENED_LATE}"
    ).rowcount
    return {
        "new orders": new_orders,
        "new interactions": new_inter,
        "changed orders": changed,
        "deleted interactions": deleted,
        "new cases": new_cases,
        "resolved cases": resolved,
        "late opens": opened,
    }


def restore(conn, *, customers: int, orders: int, interactions: int, owner_ids: list[int], cases: int = 0,
            sends: int = 0) -> None:
    """Undo ``one_more_day``: the data are then exactly as ``generate`` made them."""
    owners = "ARRAY[" + ", ".join(map(str, owner_ids)) + "]"
    # The new and changed cases and members (written "today") go; the changed ones are made again
    # from their row numbers.
    conn.execute("DELETE FROM service_case WHERE updated_at > now() - interval '1 day'")
    _insert(conn, "service_case", _case_columns(customers, owners, len(owner_ids)),
            f"generate_series(1, {cases}::bigint) g", "NOT EXISTS (SELECT 1 FROM service_case c WHERE c.id = g)")
    conn.execute("DELETE FROM marketing_campaignmember WHERE updated_at > now() - interval '1 day'")
    _insert(conn, "marketing_campaignmember", _member_columns(customers), f"generate_series(1, {sends}::bigint) g",
            "NOT EXISTS (SELECT 1 FROM marketing_campaignmember m WHERE m.id = g)")
    conn.execute("DELETE FROM commerce_orderline WHERE order_id > %s", [orders])
    conn.execute("DELETE FROM commerce_order WHERE id > %s", [orders])
    conn.execute("DELETE FROM activities_interaction WHERE id > %s", [interactions])
    conn.execute(
        f"UPDATE commerce_order SET status = {_order_status('id')}, updated_at = now() - interval '30 days' "
        f"WHERE {CHANGED_ORDERS}"
    )
    _interactions(
        conn,
        1,
        interactions,
        customers=customers,
        owners=owners,
        n_owners=len(owner_ids),
        where=f"{_deleted_interactions('g')} AND NOT EXISTS (SELECT 1 FROM activities_interaction i WHERE i.id = g)",
    )
