"""Sales metrics benchmark: the whole dashboard (every figure, the previous period, the per-rep
table, the stage funnel and the 12-period trend) at 1,000,000 opportunities and 5,000,000 orders.

    nice -n 10 .venv/bin/python bench/bench_sales_metrics.py                     # PostgreSQL, full size
    nice -n 10 .venv/bin/python bench/bench_sales_metrics.py --opportunities 20000 --orders 100000
    nice -n 10 .venv/bin/python bench/bench_sales_metrics.py --sqlite --opportunities 5000 --orders 20000
    nice -n 10 .venv/bin/python bench/bench_sales_metrics.py --reuse   # keep the data; later runs measure at once

PostgreSQL: a dedicated database (``DATABASE_URL``'s server, database ``rapport_bench_metrics``)
is created, filled server-side with ``INSERT … SELECT generate_series`` (SQLite: a recursive
CTE), analysed, measured and dropped at the end (``--keep`` keeps it). Generated: 40 reps in 3
teams, accounts (one per 25 orders), opportunities over five years in three currencies (30 %
still open, the rest won or lost; a third with a stage history), orders with one line each,
an invoice for 4 of 5 orders, phone calls, subscriptions and monthly exchange rates.

Measured, as an administrator (company-wide) and as the manager of one team: the dashboard of the
last complete month, p50/p95 seconds over ``--runs``. Target: p95 ≤ 2 s. Baseline in the same
run: the naive per-rep way — the same figures computed once per rep (a scoped query set per rep)
plus the total, instead of one GROUP BY per figure; its ratio is printed. Asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import common

SPAN_DAYS = 5 * 365
REPS = 40
BENCH_DB = "rapport_bench_metrics"


class Sql:
    """The few expressions that differ between PostgreSQL and SQLite."""

    def __init__(self, vendor: str, base: dt.date) -> None:
        self.pg = vendor == "postgresql"
        self.base = base.isoformat()

    def series(self, n: int, body: str) -> str:
        """``body`` (an ``INSERT INTO … SELECT … FROM s``) over ``s.i`` = 1…n."""
        if self.pg:
            return body.replace("FROM s", f"FROM generate_series(1, {int(n)}::bigint) AS s(i)", 1)
        return f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {int(n)}) {body}"

    def ts(self, days: str) -> str:
        if self.pg:
            return f"(TIMESTAMPTZ '{self.base} 00:00:00+00' + ({days}) * INTERVAL '1 day')"
        return f"datetime('{self.base}', '+' || ({days}) || ' days')"

    def day(self, days: str) -> str:
        if self.pg:
            return f"(DATE '{self.base}' + ({days})::int)"
        return f"date('{self.base}', '+' || ({days}) || ' days')"


def _columns(model, given: dict[str, str]) -> tuple[list[str], list[str], list[object]]:  # type: ignore[no-untyped-def]
    """Every concrete column of ``model``: the SQL expression in ``given``, else NULL or the field's
    default as a parameter — so the generator names only the columns it cares about."""
    from django.db import connection

    cols, exprs, params = [], [], []
    for field in model._meta.concrete_fields:
        name = field.column
        if field.primary_key and name not in given:
            continue  # the sequence numbers it
        cols.append(f'"{name}"')
        if name in given:
            exprs.append(given[name])
        elif field.null:
            exprs.append("NULL")
        else:
            exprs.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    return cols, exprs, params


def insert_series(sql: Sql, model, n: int, given: dict[str, str], joins: str = "", where: str = "") -> None:  # type: ignore[no-untyped-def]
    from django.db import connection

    cols, exprs, params = _columns(model, given)
    body = (f'INSERT INTO "{model._meta.db_table}" ({", ".join(cols)}) SELECT {", ".join(exprs)} FROM s {joins}'
            + (f" WHERE {where}" if where else ""))
    with connection.cursor() as cursor:  # " % " is modulo; with parameters it must be written "%%"
        cursor.execute(sql.series(n, body).replace(" % ", " %% "), params)


def insert_select(model, given: dict[str, str], source: str) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection

    cols, exprs, params = _columns(model, given)
    with connection.cursor() as cursor:
        cursor.execute(f'INSERT INTO "{model._meta.db_table}" ({", ".join(cols)}) SELECT {", ".join(exprs)} {source}'
                       .replace(" % ", " %% "), params)


def _hash(i: str) -> str:
    """A well-spread pseudo-random integer of ``i`` (Knuth's multiplicative hash, 32 bits)."""
    return f"((({i}) * 2654435761) % 4294967296)"


def _currency(i: str) -> str:
    return f"CASE {i} % 4 WHEN 0 THEN 'EUR' WHEN 1 THEN 'GBP' ELSE 'USD' END"


def generate(*, opportunities: int, orders: int, calls: int) -> dict[str, int]:
    from django.db import connection

    from rapport.activities.models import Interaction
    from rapport.commerce.models import (
        AccountPurchaseStats,
        ExchangeRate,
        Invoice,
        Order,
        OrderLine,
        Product,
        Subscription,
    )
    from rapport.commerce.purchase_stats import purchase_stats_rebuild
    from rapport.core.choices import Role
    from rapport.core.models import Team
    from rapport.core.services import user_create
    from rapport.demo.users import demo_users_ensure
    from rapport.demo.writers import analyze, sequences_reset
    from rapport.parties.models import Account
    from rapport.sales.models import Opportunity, Pipeline, StageChange

    started = time.perf_counter()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Generated rows are consistent by construction: skip the per-row foreign-key triggers
            # while loading (a superuser setting; only this session, reset below).
            cursor.execute("SET session_replication_role = replica")
    today = dt.datetime.now(tz=dt.UTC).date()
    base = today - dt.timedelta(days=SPAN_DAYS)
    sql = Sql(connection.vendor, base)
    demo_users_ensure()
    teams = list(Team.objects.filter(name__in=["East", "West", "Enterprise"]).order_by("name"))
    reps = [user_create(username=f"bench_rep{k}", password=None, roles=[Role.SALES_REP],  # type: ignore[arg-type]
                        team=teams[k % len(teams)], first_name="Rep", last_name=str(k)) for k in range(REPS)]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_reps (k integer PRIMARY KEY, user_id bigint, team_id bigint)")
        cursor.executemany("INSERT INTO bench_reps VALUES (%s, %s, %s)",
                           [(k, r.pk, r.team_id) for k, r in enumerate(reps)])
    pipeline = Pipeline.objects.get(is_default=True)
    stages = {s.position: s for s in pipeline.stages.all()}
    won_stage = next(s for s in stages.values() if s.kind == "won")
    lost_stage = next(s for s in stages.values() if s.kind == "lost")
    open_ids = [s.pk for p, s in sorted(stages.items()) if s.kind == "open"]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_stages (pos integer PRIMARY KEY, stage_id bigint)")
        cursor.executemany("INSERT INTO bench_stages VALUES (%s, %s)",
                           [(p, s.pk) for p, s in stages.items() if s.kind != "lost"])
    product = Product.objects.create(sku="BENCH-1", name="Bench widget", tax_category="")
    plan = Product.objects.create(sku="BENCH-P", name="Bench plan", kind="subscription")
    for currency, rate in (("EUR", "1.08"), ("GBP", "1.27")):
        ExchangeRate.objects.bulk_create([ExchangeRate(currency=currency, date=base + dt.timedelta(days=30 * m),
                                                       rate=rate) for m in range(SPAN_DAYS // 30 + 2)])
    n_accounts = max(orders // 25, 100)
    # Orders pick among the accounts "acquired" so far (their count grows with time), so customers
    # keep arriving, buy again at irregular intervals, and some stop; deals also reach 10 % more
    # accounts that never order (prospects).
    prospects = n_accounts // 10
    insert_series(sql, Account, n_accounts + prospects, {"id": "s.i", "name": "'Account ' || s.i", "currency": "'USD'",
                                             "owner_id": "r.user_id", "team_id": "r.team_id",
                                             "created_at": sql.ts("0"), "updated_at": sql.ts("0")},
                  joins=f"JOIN bench_reps r ON r.k = s.i % {REPS}")
    created = f"(s.i * {SPAN_DAYS} / {opportunities})"
    is_open = f"({created} > {SPAN_DAYS - 90} OR s.i % 10 < 2)"
    open_case = " ".join(f"WHEN {k} THEN {pk}" for k, pk in enumerate(open_ids))
    insert_series(sql, Opportunity, opportunities, {
        "id": "s.i", "name": "'Deal ' || s.i",
        "account_id": f"1 + {_hash('s.i')} % {n_accounts + prospects}",
        "pipeline_id": str(pipeline.pk),
        "stage_id": f"CASE WHEN {is_open} THEN CASE s.i % {len(open_ids)} {open_case} END "
                    f"WHEN s.i % 10 < 5 THEN {won_stage.pk} ELSE {lost_stage.pk} END",
        "status": f"CASE WHEN {is_open} THEN 'open' WHEN s.i % 10 < 5 THEN 'won' ELSE 'lost' END",
        "amount": "1000 + (s.i * 37) % 50000", "currency": _currency("s.i"), "probability": "50",
        "expected_close_date": sql.day(f"{created} + 60"),
        "closed_at": f"CASE WHEN {is_open} THEN NULL ELSE {sql.ts(f'{created} + 10 + (s.i * 31) % 80')} END",
        "created_at": sql.ts(created), "updated_at": sql.ts(created), "stage_entered_at": sql.ts(created),
        "owner_id": "r.user_id", "team_id": "r.team_id",
    }, joins=f"JOIN bench_reps r ON r.k = s.i % {REPS}")
    # A third of the deals have a history: positions 0 … (id % 7), one row each.
    insert_select(StageChange, {
        "opportunity_id": "o.id", "from_stage_id": "NULL", "to_stage_id": "p.stage_id",
        "changed_at": "o.created_at", "amount": "o.amount", "probability": "50"},
        f'FROM "{Opportunity._meta.db_table}" o JOIN bench_stages p ON p.pos <= o.id % 7 WHERE o.id % 3 = 0')
    order_day = f"(s.i * {SPAN_DAYS} / {orders})"
    net = "(100 + s.i % 900)"
    insert_series(sql, Order, orders, {
        "id": "s.i", "number": "'SO-' || s.i",
        "account_id": f"1 + {_hash('s.i + 7')} % (1 + s.i * {n_accounts} / {orders})",
        "currency": _currency("s.i"), "order_date": sql.day(order_day),
        "status": "CASE WHEN s.i % 50 = 0 THEN 'cancelled' ELSE 'completed' END",
        "subtotal": net, "tax_total": f"{net} * 0.21", "total": f"{net} * 1.21",
        "invoiced_total": f"CASE WHEN s.i % 5 = 0 THEN 0 ELSE {net} * 1.21 END",
        "owner_id": "r.user_id", "team_id": "r.team_id",
        "created_at": sql.ts(order_day), "updated_at": sql.ts(order_day),
    }, joins=f"JOIN bench_reps r ON r.k = s.i % {REPS}")
    insert_series(sql, OrderLine, orders, {
        "id": "s.i", "order_id": "s.i", "product_id": str(product.pk), "quantity": "1", "unit_price": net,
        "net": net, "tax": f"{net} * 0.21", "total": f"{net} * 1.21", "tax_rate": "21"})
    insert_series(sql, Invoice, orders, {
        "id": "s.i", "order_id": "s.i", "number": "'INV-' || s.i", "year": "2000", "sequence": "s.i",
        "currency": _currency("s.i"), "issue_date": sql.day(f"{order_day} + 3"),
        "due_date": sql.day(f"{order_day} + 33"), "subtotal": net, "tax_total": f"{net} * 0.21",
        "total": f"{net} * 1.21", "created_at": sql.ts(order_day), "updated_at": sql.ts(order_day),
        "owner_id": "r.user_id", "team_id": "r.team_id",  # the order's, as invoice_create copies them
    }, where="s.i % 5 <> 0", joins=f"JOIN bench_reps r ON r.k = s.i % {REPS}")
    insert_series(sql, Interaction, calls, {
        "id": "s.i", "account_id": f"1 + (s.i * 31) % {n_accounts}", "channel": "CASE WHEN s.i % 4 = 0 THEN "
        "'email' ELSE 'phone' END", "occurred_at": sql.ts(f"s.i * {SPAN_DAYS} / {calls}"), "owner_id": "r.user_id",
        "created_at": sql.ts(f"s.i * {SPAN_DAYS} / {calls}"), "updated_at": sql.ts(f"s.i * {SPAN_DAYS} / {calls}"),
    }, joins=f"JOIN bench_reps r ON r.k = s.i % {REPS}")
    insert_series(sql, Subscription, max(n_accounts // 10, 10), {
        "id": "s.i", "account_id": "s.i", "product_id": str(plan.pk), "amount": "49 + s.i % 200",
        "currency": _currency("s.i"), "billing_period": "CASE WHEN s.i % 3 = 0 THEN 'yearly' ELSE 'monthly' END",
        "start_date": sql.day(f"s.i % {SPAN_DAYS}"), "status": "'active'", "owner_id": "r.user_id",
        "team_id": "r.team_id", "created_at": sql.ts("0"), "updated_at": sql.ts("0"),
    }, joins=f"JOIN bench_reps r ON r.k = s.i % {REPS}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")
    purchase_stats_rebuild()  # orders were written in SQL, not by the services that keep it
    models = [Account, Opportunity, StageChange, Order, OrderLine, Invoice, Interaction, Subscription, ExchangeRate,
              AccountPurchaseStats]
    sequences_reset(models)
    analyze(models)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # the visibility map, so counts use index-only scans
            for model in models:
                cursor.execute(f'VACUUM "{model._meta.db_table}"')
    print(f"Generated in {time.perf_counter() - started:.0f} s on {connection.vendor}: "
          f"{Opportunity.objects.count():,} opportunities, {StageChange.objects.count():,} stage changes, "
          f"{Order.objects.count():,} orders (+ lines), {Invoice.objects.count():,} invoices, "
          f"{Interaction.objects.count():,} interactions, {n_accounts:,} accounts, {REPS} reps", flush=True)
    return {"accounts": n_accounts}


def naive_per_rep(actor, period, scope) -> None:  # type: ignore[no-untyped-def]
    """The baseline: the total, then every figure again for each rep in its own scoped queries."""
    from rapport.sales.metrics import figures_for
    from rapport.sales.metrics_scope import Scope, reps_in

    figures_for(actor=actor, scope=scope, period=period)
    figures_for(actor=actor, scope=scope, period=period.previous())
    for rep in reps_in(actor, scope):
        figures_for(actor=actor, scope=Scope(owner_id=rep.pk), period=period)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=5_000_000)
    parser.add_argument("--calls", type=int, default=None, help="phone/email interactions (default: = opportunities)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file instead of PostgreSQL")
    parser.add_argument("--keep", action="store_true", help="keep the generated database")
    parser.add_argument("--reuse", action="store_true",
                        help="PostgreSQL: measure the database a --keep run left (migrated first), if its size "
                             "matches; generate and keep it otherwise")
    parser.add_argument("--no-baseline", action="store_true", help="skip the naive per-rep baseline")
    args = parser.parse_args()
    tmp = None
    if args.sqlite:
        tmp = Path(tempfile.mkdtemp()) / "bench_metrics.sqlite3"
        url = f"sqlite:///{tmp}"
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.config.settings")
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
    else:
        parsed = urlparse(os.environ.get("DATABASE_URL") or common.DEFAULT_URL)
        url = parsed._replace(path=f"/{BENCH_DB}").geturl()
        if not (args.reuse and _generated(url, args.opportunities, args.orders)):
            _drop(url)  # a leftover of an interrupted run, or of another size
        common.django_setup(url)
    try:
        if not (args.reuse and _generated(url, args.opportunities, args.orders)):
            generate(opportunities=args.opportunities, orders=args.orders, calls=args.calls or args.opportunities)
        else:
            print(f"Reusing {BENCH_DB} ({args.opportunities:,} opportunities, {args.orders:,} orders)", flush=True)
        measure_all(args.runs, baseline=not args.no_baseline)
    finally:
        from django.db import connections

        connections.close_all()
        if not (args.keep or args.reuse):
            if tmp is not None:
                tmp.unlink(missing_ok=True)
            else:
                _drop(url)


def _generated(url: str, opportunities: int, orders: int) -> bool:
    """Whether ``url`` holds a finished generation of this size (its tables' row counts match)."""
    import psycopg

    parsed = urlparse(url)
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone():
            return False
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            opps = conn.execute("SELECT count(*) FROM sales_opportunity").fetchone()
            ords = conn.execute("SELECT count(*) FROM commerce_order").fetchone()
        except psycopg.Error:
            return False
    return bool(opps and ords and opps[0] == opportunities and ords[0] == orders)


def measure_all(runs: int, baseline: bool = True) -> None:
    from rapport.core.models import Team, User
    from rapport.sales.metrics import metrics_dashboard
    from rapport.sales.metrics_scope import Scope, period_resolve

    admin = User.objects.get(username="admin")
    manager = User.objects.get(username="manager")
    team = Team.objects.get(name="East")
    last_month = period_resolve("month", day=dt.datetime.now(tz=dt.UTC).date().replace(day=1) - dt.timedelta(days=1))
    cases = [("company-wide (admin)", admin, Scope()), ("one team (its manager)", manager, Scope(team_id=team.pk))]
    rows = []
    for name, actor, scope in cases:
        board = metrics_dashboard(actor=actor, period=last_month, scope=scope)
        ours = common.measure(lambda a=actor, s=scope: metrics_dashboard(actor=a, period=last_month, scope=s),
                              runs=runs, warmup=1)
        if baseline:
            base = common.measure(lambda a=actor, s=scope: naive_per_rep(a, last_month, s),
                                  runs=max(2, runs // 3), warmup=0)
            rows.append([name, len(board.reps), ours.p50 / 1000, ours.p95 / 1000, base.p50 / 1000,
                         base.p95 / 1000, base.p95 / ours.p95])
        else:
            rows.append([name, len(board.reps), ours.p50 / 1000, ours.p95 / 1000, "-", "-", "-"])
        t = board.total
        print(f"{name}, {last_month.label}: new revenue {t['new_revenue']:,}, won {t['won']:,} "
              f"({t['won_amount']:,}), win rate {t['win_rate']:.3f}, new customers {t['new_customers']:,}, "
              f"retained {t['retained_customers']:,}, calls {t['sales_calls']:,}, MRR {t['mrr']:,}", flush=True)
    print("Full dashboard (all figures, previous period, per-rep table, funnel, 12-period trend), seconds;")
    print("baseline: the naive per-rep loop (every figure again per rep, no GROUP BY; no trend or funnel)")
    common.print_table(["case", "reps", "p50 s", "p95 s", "naive p50", "naive p95", "naive/ours p95"], rows)
    worst = max(r[3] for r in rows)
    print(f"target p95 <= 2 s: {'met' if worst <= 2 else 'NOT met'} (worst p95 {worst:.2f} s)")


def _drop(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.path.lstrip("/")}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
