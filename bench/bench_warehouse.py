"""Warehouse build, incremental refresh and OLAP queries at scale, on PostgreSQL.

Generates (set-based SQL in its own database ``rapport_bench_warehouse``; not the ORM) N accounts
with an address each, M orders with one line each, K interactions; then measures

- the full build (target ≤ 5 min at 1M / 10M / 10M), against a baseline of streaming the same
  four big tables out of PostgreSQL with plain ``COPY ... TO STDOUT`` (the floor any extract pays);
- an incremental refresh after one more day of orders and interactions (~0.3 %), some changed
  orders and deleted interactions (target ≤ 30 s), against the full build;
- OLAP queries over the facts (p95 target ≤ 1 s), each against the nearest aggregate run
  directly in PostgreSQL over the operational tables.

    PYTHONPATH=src python bench/bench_warehouse.py --customers 100000 --orders 1000000 --interactions 1000000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

COUNTRIES = ["US", "DE", "FR", "GB", "CA", "BR", "JP", "IN", "AU", "NL", "ES", "IT", "MX", "ZA", "SE"]
TIERS = ["platinum", "gold", "iron", "lead", ""]
SIZES = ["1-10", "11-50", "51-250", "251-1000", "1001+"]
CHANNELS = ["email", "phone", "chat", "meeting", "web", "sms"]


def _arr(values: list[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]"


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


def _insert(conn, table: str, given: dict[str, str], series: str) -> None:
    cols, exprs = _filler(conn, table, given)
    conn.execute(f"INSERT INTO {table} ({cols}) SELECT {exprs} FROM {series}")


def generate(conn, *, customers: int, orders: int, interactions: int, owner_ids: list[int]) -> None:
    owners = "ARRAY[" + ", ".join(map(str, owner_ids)) + "]"
    conn.execute(
        "TRUNCATE activities_interaction, commerce_orderline, commerce_order, parties_address, "
        "commerce_exchangerate, commerce_product, parties_account RESTART IDENTITY CASCADE"
    )
    _insert(
        conn,
        "parties_account",
        {
            "id": "g",
            "name": "'Account ' || g",
            "tier": f"({_arr(TIERS)})[1 + g % 5]",
            "size": f"({_arr(SIZES)})[1 + (g / 7) % 5]",
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
            "country": f"({_arr(COUNTRIES)})[1 + (g * 31) % 15]",
        },
        f"generate_series(1, {customers}) g",
    )
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
        {
            "currency": "'EUR'",
            "date": "d::date",
            "rate": "1.05 + 0.1 * sin(extract(doy FROM d) / 58.0)",
        },
        "generate_series(date '2020-01-01', date '2026-12-31', interval '1 day') d",
    )
    _orders(conn, 1, orders, customers, owners, len(owner_ids), "date '2021-01-01' + (g % 1800)::int")
    spread = "timestamp '2021-01-01' + (g % 1800) * interval '1 day' + (g % 86400) * interval '1 second'"
    _interactions(conn, 1, interactions, customers, owners, len(owner_ids), spread)
    for table in (
        "parties_account",
        "parties_address",
        "commerce_product",
        "commerce_order",
        "commerce_orderline",
        "activities_interaction",
    ):
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.execute(f"ANALYZE {table}")


def _orders(conn, lo: int, hi: int, customers: int, owners: str, n_owners: int, date_expr: str) -> None:
    _insert(
        conn,
        "commerce_order",
        {
            "id": "g",
            "number": "'B' || g",
            "account_id": f"1 + (g * 7919) % {customers}",
            "currency": "CASE WHEN g % 5 = 0 THEN 'EUR' ELSE 'USD' END",
            "order_date": date_expr,
            "tax_country": "''",
            "status": "CASE WHEN g % 50 = 0 THEN 'cancelled' ELSE 'completed' END",
            "fulfilment_status": "'not_required'",
            "owner_id": f"({owners})[1 + g % {n_owners}]",
            "created_at": "now() - interval '30 days'",
            "updated_at": "now() - interval '30 days'",
        },
        f"generate_series({lo}::bigint, {hi}::bigint) g",
    )
    _insert(
        conn,
        "commerce_orderline",
        {
            "id": "g",
            "order_id": "g",
            "position": "1",
            "product_id": "1 + g % 100",
            "quantity": "1 + g % 5",
            "unit_price": "10 + g % 90",
            "net": "(1 + g % 5) * (10 + g % 90)",
            "tax": "0",
            "total": "(1 + g % 5) * (10 + g % 90)",
            "tax_rate": "0",
        },
        f"generate_series({lo}::bigint, {hi}::bigint) g",
    )


def _interactions(conn, lo: int, hi: int, customers: int, owners: str, n_owners: int, at_expr: str) -> None:
    _insert(
        conn,
        "activities_interaction",
        {
            "id": "g",
            "account_id": f"1 + (g * 104729) % {customers}",
            "channel": f"({_arr(CHANNELS)})[1 + g % 6]",
            "direction": "'outbound'",
            "occurred_at": at_expr,
            "owner_id": f"({owners})[1 + g % {n_owners}]",
            "created_at": "now() - interval '30 days'",
            "updated_at": "now() - interval '30 days'",
        },
        f"generate_series({lo}::bigint, {hi}::bigint) g",
    )


def one_more_day(conn, *, customers: int, orders: int, interactions: int, owner_ids: list[int]) -> dict[str, int]:
    owners = "ARRAY[" + ", ".join(map(str, owner_ids)) + "]"
    new_orders = max(1, orders * 3 // 1000)
    new_inter = max(1, interactions * 3 // 1000)
    _orders(conn, orders + 1, orders + new_orders, customers, owners, len(owner_ids), "date '2025-12-01'")
    _interactions(
        conn,
        interactions + 1,
        interactions + new_inter,
        customers,
        owners,
        len(owner_ids),
        "timestamp '2025-12-01 10:00'",
    )
    changed = conn.execute(
        "UPDATE commerce_order SET status = 'cancelled', updated_at = now() WHERE id %% 2000 = 7 AND id <= %s", [orders]
    ).rowcount
    deleted = conn.execute(
        "DELETE FROM activities_interaction WHERE id %% 5000 = 3 AND id <= %s", [interactions]
    ).rowcount
    return {
        "new orders": new_orders,
        "new interactions": new_inter,
        "changed orders": changed,
        "deleted interactions": deleted,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--interactions", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="reuse the generated data if the counts match")
    args = parser.parse_args()
    # Its own database, whatever DATABASE_URL names: generation truncates the tables it fills.
    url = common.database_url().rsplit("/", 1)[0] + "/rapport_bench_warehouse"
    common.django_setup(url)
    import duckdb
    import psycopg
    from django.conf import settings

    from rapport.analytics.olap import QuerySpec, run_query
    from rapport.core.choices import Role
    from rapport.core.models import User
    from rapport.core.services import user_create
    from rapport.insights.warehouse import warehouse_build

    settings.RAPPORT_COMPANY_CURRENCY = "USD"
    owner_ids = []
    for i in range(20):
        user = User.objects.filter(username=f"bench{i}").first() or user_create(
            username=f"bench{i}",
            password="x-bench-pass-1",  # noqa: S106 - a throw-away bench user
            roles=[Role.SALES_REP],
            team=None,
            email=f"b{i}@example.test",
        )
        owner_ids.append(user.pk)
    conn = psycopg.connect(url, autocommit=True)
    have = conn.execute(
        "SELECT (SELECT count(*) FROM parties_account), (SELECT count(*) FROM commerce_order), "
        "(SELECT count(*) FROM activities_interaction)"
    ).fetchone()
    if not (args.keep and have == (args.customers, args.orders, args.interactions)):
        t0 = time.perf_counter()
        generate(
            conn, customers=args.customers, orders=args.orders, interactions=args.interactions, owner_ids=owner_ids
        )
        print(
            f"generated {args.customers:,} accounts, {args.orders:,} orders/lines, "
            f"{args.interactions:,} interactions in {time.perf_counter() - t0:.1f} s"
        )

    # Baseline: stream the four big tables out with plain COPY (what every extract must pay).
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as sink:
        for table in ("parties_account", "commerce_order", "commerce_orderline", "activities_interaction"):
            with conn.cursor().copy(f"COPY {table} TO STDOUT WITH (FORMAT csv)") as copy:
                for block in copy:
                    sink.write(block)
    copy_s = time.perf_counter() - t0

    work = Path(tempfile.mkdtemp(prefix="bench-warehouse-"))
    path = work / "warehouse.duckdb"
    full = warehouse_build(path=path)
    print("\nFull build")
    common.print_table(
        ["figure", "seconds", "ratio"],
        [
            ["full build", full.seconds, 1.0],
            ["baseline: raw COPY of the 4 big tables", copy_s, copy_s / full.seconds],
        ],
    )
    print("facts:", {k: f"{v:,}" for k, v in full.facts.items()}, f"file {path.stat().st_size / 1e6:,.0f} MB")

    delta = one_more_day(
        conn, customers=args.customers, orders=args.orders, interactions=args.interactions, owner_ids=owner_ids
    )
    inc = warehouse_build(path=path, incremental=True)
    print("\nIncremental refresh after", delta)
    common.print_table(
        ["figure", "seconds", "ratio to full build"], [["incremental refresh", inc.seconds, inc.seconds / full.seconds]]
    )

    con = duckdb.connect(str(path), read_only=True)
    queries = {
        "revenue by year × region": (
            {"measures": ["revenue"], "dimensions": ["date.year", "region.region"]},
            "SELECT extract(year FROM o.order_date), sum(l.net) FROM commerce_orderline l "
            "JOIN commerce_order o ON o.id = l.order_id GROUP BY 1",
        ),
        "revenue by month, one country": (
            {
                "measures": ["revenue"],
                "dimensions": ["date.month"],
                "filters": [{"dimension": "region", "level": "country", "op": "eq", "value": "DE"}],
            },
            "SELECT date_trunc('month', o.order_date), sum(l.net) FROM commerce_orderline l "
            "JOIN commerce_order o ON o.id = l.order_id JOIN parties_address a ON a.account_id = o.account_id "
            "WHERE a.country = 'DE' GROUP BY 1",
        ),
        "distinct customers by tier": (
            {"measures": ["distinct_customers"], "dimensions": ["customer.tier"]},
            "SELECT a.tier, count(DISTINCT o.account_id) FROM commerce_order o "
            "JOIN parties_account a ON a.id = o.account_id GROUP BY 1",
        ),
        "drill: 2024 → quarters × product kind": (
            {
                "measures": ["revenue", "margin", "order_count"],
                "dimensions": ["date.quarter", "product.kind"],
                "filters": [{"dimension": "date", "level": "year", "op": "eq", "value": 2024}],
            },
            "SELECT extract(quarter FROM o.order_date), sum(l.net), count(DISTINCT o.id) FROM commerce_orderline l "
            "JOIN commerce_order o ON o.id = l.order_id WHERE o.order_date BETWEEN '2024-01-01' AND '2024-12-31' "
            "GROUP BY 1",
        ),
        "interactions by channel × year": (
            {"measures": ["interactions"], "dimensions": ["channel.channel", "date.year"]},
            "SELECT channel, extract(year FROM occurred_at), count(*) FROM activities_interaction GROUP BY 1, 2",
        ),
    }
    rows = []
    for name, (spec, baseline_sql) in queries.items():
        qs = QuerySpec.from_dict(spec)
        olap = common.measure(lambda qs=qs: run_query(con, qs), runs=args.runs, warmup=2)
        base = common.measure(
            lambda sql=baseline_sql: conn.execute(sql).fetchall(), runs=max(3, args.runs // 5), warmup=1
        )
        rows.append([name, olap.p50, olap.p95, base.p95, base.p95 / olap.p95])
    print("\nOLAP queries (ms)")
    common.print_table(["query", "p50", "p95", "PostgreSQL p95", "speed-up"], rows)


if __name__ == "__main__":
    main()
