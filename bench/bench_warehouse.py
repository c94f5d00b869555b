"""Warehouse build, incremental refresh and OLAP queries at scale, on PostgreSQL.

Generates (set-based SQL, ``_warehouse_data.py``; not the ORM) N accounts with an address each,
M orders with one line each, K interactions, C service cases and S campaign sends in a database of
its own, ``rapport_bench_wh`` on ``DATABASE_URL``'s server (dropped at the end unless ``--keep``;
a kept database is restored as generated and reused by the next run of the same size), then
measures

- the full build (target ≤ 5 min at 1M / 10M / 10M; by default also with 1M cases and 5M campaign
  sends), against a baseline of streaming the same six big tables out of PostgreSQL with plain
  ``COPY ... TO STDOUT`` (the floor any extract pays);
- an incremental refresh after one more day of orders, interactions and cases (~0.3 %), some
  changed orders, deleted interactions, resolved cases and late opens (target ≤ 30 s), against the
  full build;
- OLAP queries over the facts (p95 target ≤ 1 s), each against the nearest aggregate run
  directly in PostgreSQL over the operational tables; the table shows whether the facts or a
  rollup answered each.

    PYTHONPATH=src python bench/bench_warehouse.py                 # 1M customers, 10M orders, 10M interactions
    PYTHONPATH=src python bench/bench_warehouse.py --customers 100000 --orders 1000000 --interactions 1000000
    PYTHONPATH=src python bench/bench_warehouse.py --keep --keep-warehouse /tmp/wh.duckdb   # then, quietly:
    PYTHONPATH=src python bench/bench_warehouse.py --queries-only /tmp/wh.duckdb            # the queries again
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from _warehouse_data import generate, one_more_day, restore  # noqa: E402

MARKER = ("CREATE TABLE IF NOT EXISTS bench_wh_state5 (customers bigint, orders bigint, interactions bigint, "
          "cases bigint, sends bigint)")
BIG = ("parties_account", "commerce_order", "commerce_orderline", "activities_interaction", "service_case",
       "marketing_campaignmember")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--interactions", type=int, default=10_000_000)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--campaign-sends", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--keep", action="store_true", help="keep the database (restored as generated) for the next run to reuse"
    )
    parser.add_argument("--keep-warehouse", type=Path, help="keep the built warehouse file here")
    parser.add_argument(
        "--queries-only",
        type=Path,
        metavar="WAREHOUSE",
        help="only time the OLAP queries, on this kept warehouse file and the kept database",
    )
    args = parser.parse_args()
    # Its own database, whatever DATABASE_URL names: generation truncates the tables it fills.
    url = common.database_url().rsplit("/", 1)[0] + "/rapport_bench_wh"
    common.django_setup(url)
    import duckdb
    import psycopg
    from django.conf import settings

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
    if args.queries_only:
        con = duckdb.connect(str(args.queries_only), read_only=True)
        _time_queries(con, conn, args.runs)
        return
    conn.execute(MARKER)
    sizes = (args.customers, args.orders, args.interactions, args.cases, args.campaign_sends)
    if conn.execute("SELECT customers, orders, interactions, cases, sends FROM bench_wh_state5").fetchone() == sizes:
        print(f"reusing the data kept in {url}")
    else:
        t0 = time.perf_counter()
        conn.execute("DELETE FROM bench_wh_state5")
        generate(
            conn,
            customers=args.customers,
            orders=args.orders,
            interactions=args.interactions,
            cases=args.cases,
            sends=args.campaign_sends,
            owner_ids=owner_ids,
            say=lambda msg: print("  generate", msg, flush=True),
        )
        conn.execute("INSERT INTO bench_wh_state5 VALUES (%s, %s, %s, %s, %s)", sizes)
        print(
            f"generated {args.customers:,} accounts, {args.orders:,} orders/lines, "
            f"{args.interactions:,} interactions, {args.cases:,} cases, {args.campaign_sends:,} campaign sends "
            f"in {time.perf_counter() - t0:.1f} s"
        )

    # Baseline: stream the big tables out with plain COPY (what every extract must pay).
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as sink:
        for table in BIG:
            with conn.cursor().copy(f"COPY {table} TO STDOUT WITH (FORMAT csv)") as copy:
                for block in copy:
                    sink.write(block)
    copy_s = time.perf_counter() - t0

    work = Path(tempfile.mkdtemp(prefix="bench-warehouse-"))
    path = work / "warehouse.duckdb"
    t_start = time.perf_counter()
    say = lambda msg: print(f"  [{time.perf_counter() - t_start:7.1f} s] {msg}", flush=True)  # noqa: E731
    full = warehouse_build(path=path, progress=say)
    print("\nFull build")
    common.print_table(
        ["figure", "seconds", "ratio"],
        [
            ["full build", full.seconds, 1.0],
            [f"baseline: raw COPY of the {len(BIG)} big tables", copy_s, copy_s / full.seconds],
        ],
    )
    print("facts:", {k: f"{v:,}" for k, v in full.facts.items()}, f"file {path.stat().st_size / 1e6:,.0f} MB")

    conn.execute("DELETE FROM bench_wh_state5")  # the data are no longer as generated until restored
    delta = one_more_day(
        conn, customers=args.customers, orders=args.orders, interactions=args.interactions, owner_ids=owner_ids,
        cases=args.cases,
    )
    t_start = time.perf_counter()
    inc = warehouse_build(path=path, incremental=True, progress=say)
    print("\nIncremental refresh after", delta)
    common.print_table(
        ["figure", "seconds", "ratio to full build"], [["incremental refresh", inc.seconds, inc.seconds / full.seconds]]
    )

    con = duckdb.connect(str(path), read_only=True)
    _time_queries(con, conn, args.runs)
    con.close()
    if args.keep_warehouse:
        shutil.move(path, args.keep_warehouse)
        print(f"kept the warehouse file at {args.keep_warehouse} (--queries-only times the queries on it)")
    shutil.rmtree(work)
    if args.keep:
        restore(conn, customers=args.customers, orders=args.orders, interactions=args.interactions, owner_ids=owner_ids,
                cases=args.cases, sends=args.campaign_sends)
        conn.execute("INSERT INTO bench_wh_state5 VALUES (%s, %s, %s, %s, %s)", sizes)
        conn.close()
        print(f"kept {url} (restored as generated)")
    else:
        conn.close()
        from django.db import connections

        connections.close_all()
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
            admin.execute("DROP DATABASE rapport_bench_wh WITH (FORCE)")
        print(f"dropped {url} (--keep keeps it for the next run)")


def _time_queries(con, conn, runs: int) -> None:
    """Each OLAP query's p50/p95 on the warehouse ``con``, against the nearest plain aggregate in
    PostgreSQL (``conn``), and which table (facts or a rollup) answered it."""
    from rapport.analytics.olap import QuerySpec, compile_query, run_query

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
        "buying customers and orders by month": (
            {"measures": ["distinct_customers", "order_count"], "dimensions": ["date.month"]},
            "SELECT date_trunc('month', order_date), count(DISTINCT account_id), count(*) FROM commerce_order "
            "WHERE status <> 'cancelled' GROUP BY 1",
        ),
        "customers contacted by tier × year": (
            {"measures": ["interacting_customers"], "dimensions": ["customer.tier", "date.year"]},
            "SELECT a.tier, extract(year FROM i.occurred_at), count(DISTINCT i.account_id) "
            "FROM activities_interaction i JOIN parties_account a ON a.id = i.account_id GROUP BY 1, 2",
        ),
        # The region rollup: an exact distinct count over its rows (a customer may be in two countries).
        "buying customers by region × year": (
            {"measures": ["distinct_customers"], "dimensions": ["region.region", "date.year"]},
            "SELECT ad.country, extract(year FROM o.order_date), count(DISTINCT o.account_id) FROM commerce_order o "
            "JOIN parties_address ad ON ad.account_id = o.account_id GROUP BY 1, 2",
        ),
        "interactions by channel × year": (
            {"measures": ["interactions"], "dimensions": ["channel.channel", "date.year"]},
            "SELECT channel, extract(year FROM occurred_at), count(*) FROM activities_interaction GROUP BY 1, 2",
        ),
        "complaints and satisfaction by region × year": (
            {"measures": ["cases", "complaints", "avg_satisfaction"], "dimensions": ["region.region", "date.year"]},
            "SELECT ad.country, extract(year FROM c.opened_at), count(*), "
            "count(*) FILTER (WHERE c.kind = 'complaint'), avg(c.satisfaction) FROM service_case c "
            "JOIN parties_address ad ON ad.account_id = c.account_id GROUP BY 1, 2",
        ),
        "open and response rate by campaign": (
            {"measures": ["campaign_sends", "campaign_open_rate", "campaign_response_rate"],
             "dimensions": ["campaign.campaign"]},
            "SELECT campaign_id, count(*), avg((opened_at IS NOT NULL)::int), avg((responded_at IS NOT NULL)::int) "
            "FROM marketing_campaignmember GROUP BY 1",
        ),
    }
    rows = []
    for name, (spec, baseline_sql) in queries.items():
        qs = QuerySpec.from_dict(spec)
        source = compile_query(qs).source
        olap = common.measure(lambda qs=qs: run_query(con, qs), runs=runs, warmup=2)
        base = common.measure(lambda sql=baseline_sql: conn.execute(sql).fetchall(), runs=max(3, runs // 5), warmup=1)
        rows.append([name, source, olap.p50, olap.p95, base.p95, base.p95 / olap.p95])
    print("\nOLAP queries (ms; 'reads': the fact table or the rollup the query was answered from)")
    common.print_table(["query", "reads", "p50", "p95", "PostgreSQL p95", "speed-up"], rows)
    print(f"p95 of the slowest query: {max(r[3] for r in rows):.0f} ms (target ≤ 1000)")


if __name__ == "__main__":
    main()
