"""Kanban board benchmark: the board's first screen at 100,000 open deals in one pipeline.

    PYTHONPATH=src nice -n 10 .venv/bin/python bench/bench_kanban.py              # SQLite (var/bench_kanban.sqlite3)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rapport_bench \\
        PYTHONPATH=src nice -n 10 .venv/bin/python bench/bench_kanban.py          # PostgreSQL (<db>_kanban)
    ... bench_kanban.py --deals 20000                                              # a quick try

Deals are bulk-inserted once into the default pipeline's six open stages, owned by the demo reps
and the manager, in EUR, USD and GBP (the column figures convert them to the company's USD at
stored rates); later runs reuse them while the count matches. ``/board/`` is rendered in-process
through ``django.test.Client``, logged in as the demo manager (who sees three teams) and as a rep
(one team): one grouped aggregate for the column figures plus one 20-card keyset page per column.

Baseline, measured in the same run: the naive board, i.e. the same deals the manager may see
fully materialised (``Opportunity.objects.filter(pipeline=...)`` with account and owner, every row
turned into a model) and bucketed by stage in Python, with no template rendered at all. Target:
board p95 ≤ 150 ms. Prints p50/p95 wall ms, the median CPU ms of this process (the page's own
cost, steady when other work shares the machine), and the ratio; asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

ACCOUNTS = 300


def _setup() -> str:
    """Point Django at PostgreSQL (``DATABASE_URL`` + ``_kanban``) or a SQLite file, and migrate."""
    if os.environ.get("DATABASE_URL"):
        url = common.database_url("_kanban")
        common.django_setup(url)
        return "PostgreSQL"
    path = common.ROOT / "var" / "bench_kanban.sqlite3"
    path.parent.mkdir(exist_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.config.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return "SQLite"


def _load(count: int) -> None:
    from django.utils import timezone

    from rapport.commerce.models import ExchangeRate
    from rapport.core.models import User
    from rapport.demo.users import demo_users_ensure
    from rapport.parties.models import Account
    from rapport.parties.services import account_create
    from rapport.sales.models import Opportunity, Pipeline, StageChange

    demo_users_ensure()
    # Column figures are converted to the company currency (USD): deals in three currencies, a
    # rate for each foreign one.
    for code, rate in (("EUR", "1.08"), ("GBP", "1.27")):
        ExchangeRate.objects.get_or_create(currency=code, date=dt.date(2020, 1, 1), defaults={"rate": Decimal(rate)})
    pipeline = Pipeline.objects.get(is_default=True)
    if (Opportunity.objects.filter(pipeline=pipeline, status="open").count() == count
            and Opportunity.objects.filter(currency="GBP").exists()):
        return
    print(f"Loading {count:,} open deals …", flush=True)
    StageChange.objects.all().delete()
    Opportunity.objects.all().delete()
    users = list(User.objects.filter(username__in=["rep", "rep2", "rep3", "manager"]).order_by("username"))
    accounts = list(Account.objects.order_by("pk")[:ACCOUNTS])
    for i in range(len(accounts), ACCOUNTS):
        owner = users[i % len(users)]
        accounts.append(account_create(actor=owner, data={"name": f"Kanban customer {i}", "currency": "EUR"}))
    stages = list(pipeline.stages.filter(kind="open").order_by("position"))
    rng = random.Random(42)
    today = timezone.localdate()
    now = timezone.now()
    batch = []
    for i in range(count):
        owner = rng.choice(users)
        stage = rng.choice(stages)
        batch.append(Opportunity(
            name=f"Deal {i}", account=rng.choice(accounts), pipeline=pipeline, stage=stage, status="open",
            amount=Decimal(rng.randrange(500, 200_000)), currency=CURRENCIES[i % len(CURRENCIES)],
            probability=stage.probability,
            forecast_category=stage.forecast_category, next_step="Call back" if i % 3 else "",
            expected_close_date=today + dt.timedelta(days=rng.randint(-30, 180)), owner=owner,
            team_id=owner.team_id, created_by=owner, stage_entered_at=now - dt.timedelta(minutes=i),
        ))
        if len(batch) == 5000:
            Opportunity.objects.bulk_create(batch)
            batch = []
    Opportunity.objects.bulk_create(batch)


CURRENCIES = ("EUR", "USD", "GBP")


def _analyze() -> None:
    """Fresh planner statistics (an index added by a later migration has none until then)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE sales_opportunity")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    database = _setup()
    _load(args.deals)
    _analyze()
    from django.test import Client

    from rapport.core import permissions
    from rapport.core.models import User
    from rapport.sales.models import Opportunity, Pipeline

    pipeline = Pipeline.objects.get(is_default=True)
    clients = {}
    for name in ("manager", "rep"):
        clients[name] = Client()
        clients[name].force_login(User.objects.get(username=name))
    manager = User.objects.get(username="manager")

    def board(name: str):
        def get() -> None:
            response = clients[name].get("/board/")
            assert response.status_code == 200, response.status_code
        return get

    def naive() -> None:
        columns: dict[int, list[Opportunity]] = {}
        rows = permissions.readable(manager, Opportunity.objects.filter(pipeline=pipeline)).select_related(
            "account", "owner")
        for opp in rows:
            columns.setdefault(opp.stage_id, []).append(opp)

    def cpu_p50(fn, runs: int) -> float:
        """This process's CPU ms per call (median): what the page costs here, whatever else the
        machine runs; on PostgreSQL the server's own CPU is not in it."""
        samples = []
        for _ in range(runs):
            start = time.process_time()
            fn()
            samples.append((time.process_time() - start) * 1000.0)
        return statistics.median(samples)

    rows = []
    naive_timing = common.measure(naive, runs=max(3, args.runs // 8), warmup=1)
    for name in ("manager", "rep"):
        mine = common.measure(board(name), runs=args.runs)
        rows.append([f"/board/ as {name}", mine.p50, mine.p95, cpu_p50(board(name), args.runs // 2),
                     naive_timing.p50, naive_timing.p95, mine.p95 / naive_timing.p95])
    seen = {name: permissions.readable(User.objects.get(username=name), Opportunity.objects.filter(
        pipeline=pipeline)).count() for name in ("manager", "rep")}
    print(f"{database}: {Opportunity.objects.filter(pipeline=pipeline).count():,} deals in {pipeline.name!r}; "
          f"the manager sees {seen['manager']:,}, the rep {seen['rep']:,}. Target: board p95 ≤ 150 ms.")
    print("Baseline: the manager's deals fully materialised with account and owner, bucketed by stage (no render).")
    print(f"Load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs.")
    common.print_table(["case", "p50 ms", "p95 ms", "CPU p50 ms", "naive p50", "naive p95", "ratio p95"], rows)


if __name__ == "__main__":
    main()
