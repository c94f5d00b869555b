"""Forecast benchmark: the forecast table (API and CSV) and the whole page (table + statistical
forecast) at 100k opportunities, against the one grouped SQL aggregate the table needs; and the
cold Holt-Winters fit (no baseline: the figure is what the fit cache saves on every later view).

    .venv/bin/python bench/bench_forecast.py                       # 100,000 opportunities
    .venv/bin/python bench/bench_forecast.py --opportunities 20000  # a quick try

Needs PostgreSQL: ``DATABASE_URL``'s database (default rapport_bench) with ``_forecast`` appended.
Deals are bulk-inserted once (later runs reuse them while the count matches), spread over 36 months,
a fifth of them won. Requests are driven in-process with ``django.test.Client`` as the demo manager;
the baseline is the equivalent grouped SQL through a plain psycopg connection in the same run.
Prints p50/p95 in ms and the ratio; asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from decimal import Decimal

import common


def _load(count: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from rapport.core.models import User
    from rapport.demo.users import demo_users_ensure
    from rapport.parties.services import account_create
    from rapport.sales.models import Opportunity, Pipeline

    demo_users_ensure()
    if Opportunity.objects.filter(name__startswith="bench ").count() == count:
        return
    Opportunity.objects.filter(name__startswith="bench ").delete()
    users = list(User.objects.filter(username__in=["rep", "rep2", "rep3", "manager"]))
    manager = next(u for u in users if u.username == "manager")
    account = account_create(actor=manager, data={"name": "Bench forecast customer", "currency": "USD"})
    pipeline = Pipeline.objects.get(is_default=True)
    stages = list(pipeline.stages.order_by("position"))
    open_stages = [s for s in stages if s.kind == "open"]
    won_stage = next(s for s in stages if s.kind == "won")
    today = timezone.localdate()
    rng = random.Random(42)
    batch = []
    for i in range(count):
        owner = rng.choice(users)
        day = today + dt.timedelta(days=rng.randint(-900, 180))
        won = rng.random() < 0.2 and day <= today
        stage = won_stage if won else rng.choice(open_stages)
        batch.append(Opportunity(
            name=f"bench {i}", account=account, pipeline=pipeline, stage=stage, status="won" if won else "open",
            amount=Decimal(rng.randint(100, 50_000)), currency="USD", probability=stage.probability,
            forecast_category=stage.forecast_category, expected_close_date=day, owner=owner, team_id=owner.team_id,
            closed_at=dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC) if won else None))
        if len(batch) == 5000:
            Opportunity.objects.bulk_create(batch)
            batch = []
    Opportunity.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sales_opportunity")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--opportunities", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    url = common.database_url("_forecast")
    common.django_setup(url)
    from django.conf import settings

    settings.RAPPORT_COMPANY_CURRENCY = "USD"
    _load(args.opportunities)
    import psycopg
    from django.test import Client
    from django.utils import timezone

    from rapport.core import permissions
    from rapport.core.models import User
    from rapport.sales.forecasting import period_bounds

    manager = User.objects.get(username="manager")
    client = Client()
    client.force_login(manager)
    raw = psycopg.connect(url, autocommit=True)
    teams = permissions.managed_team_ids(manager) or [manager.team_id]
    start, end = period_bounds("quarter", timezone.localdate())

    def sql() -> None:
        raw.execute(
            "SELECT owner_id, currency, status, forecast_category, SUM(amount), SUM(amount * probability), COUNT(*) "
            "FROM sales_opportunity WHERE (owner_id = %s OR team_id = ANY(%s)) AND team_id = %s "
            "AND ((status = 'open' AND expected_close_date BETWEEN %s AND %s) "
            "OR (status = 'won' AND closed_at::date BETWEEN %s AND %s)) AND forecast_category <> 'omitted' "
            "GROUP BY 1, 2, 3, 4", [manager.pk, teams, teams[0], start, end, start, end]).fetchall()

    cases = [
        ("API /forecast (quarter, team)", lambda: client.get("/api/v1/forecast?period=quarter"), sql),
        ("CSV /forecast.csv (quarter)", lambda: client.get("/forecast.csv?period=quarter"), sql),
        ("page /forecast/ (table)", lambda: client.get("/forecast/?period=quarter"), sql),
        ("chart /forecast/statistical/ (fit cached)", lambda: client.get("/forecast/statistical/"), sql),
    ]
    from django.core.cache import cache

    from rapport.sales import forecasting, selectors_forecast

    cache.clear()
    first, last = selectors_forecast.history_window(actor=manager)
    cold = common.measure(lambda: (cache.clear(), forecasting.statistical_forecast(
        actor=manager, first=first, last=last)), runs=3, warmup=0)
    rows = [["Holt-Winters fit + back-test, cold cache", cold.p50, cold.p95, 0.0, 0.0, 0.0]]
    for name, ours, baseline in cases:
        mine, base = common.measure(ours, runs=args.runs, warmup=2), common.measure(baseline, runs=args.runs)
        rows.append([name, mine.p50, mine.p95, base.p50, base.p95, mine.p95 / base.p95])
    from rapport.sales.models import Opportunity

    print(f"{Opportunity.objects.count():,} opportunities, as the manager (teams {teams})")
    common.print_table(["case", "p50 ms", "p95 ms", "raw p50", "raw p95", "ratio p95"], rows)


if __name__ == "__main__":
    main()
