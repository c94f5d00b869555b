"""Leads benchmark: the lead list at 100k leads (page, filtered page, API page) against raw SQL,
and creating one lead through the service (normalise, score, assign, log) against a bare INSERT.

    .venv/bin/python bench/bench_leads.py                  # 100,000 leads
    .venv/bin/python bench/bench_leads.py --leads 20000    # a quick try

Needs PostgreSQL: ``DATABASE_URL``'s database (default rapport_bench) with ``_leads`` appended.
Leads are bulk-inserted once (later runs reuse them while the count matches). Pages are driven
in-process with ``django.test.Client`` as the demo rep; each baseline is the equivalent SQL through
a plain psycopg connection in the same run. Prints p50/p95 in ms and the ratio; asserts nothing.
"""

from __future__ import annotations

import argparse
import random

import common

STATUSES = ["new"] * 5 + ["contacted"] * 3 + ["qualified", "disqualified"]
SOURCES = ["web", "import", "email", "trade fair", "referral", "api"]


def _load(count: int) -> None:
    from django.db import connection

    from rapport.core.models import User
    from rapport.demo.users import demo_users_ensure
    from rapport.sales.models import Lead

    demo_users_ensure()
    if Lead.objects.count() == count:
        return
    Lead.objects.all().delete()
    users = list(User.objects.filter(username__in=["rep", "rep2", "rep3", "manager"]))
    rng = random.Random(42)
    batch = []
    for i in range(count):
        owner = rng.choice(users)
        batch.append(
            Lead(
                first_name=f"First{i}",
                last_name=f"Last{i % 977}",
                company=f"Company {i % 5003}",
                email=f"lead{i}@example.org",
                status=rng.choice(STATUSES),
                source=rng.choice(SOURCES),
                owner=owner,
                team_id=owner.team_id,
                score=rng.randint(0, 100),
            )
        )
        if len(batch) == 5000:
            Lead.objects.bulk_create(batch)
            batch = []
    Lead.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sales_lead")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    url = common.database_url("_leads")
    common.django_setup(url)
    _load(args.leads)
    import psycopg
    from django.test import Client

    from rapport.core.models import User
    from rapport.sales.models import Lead
    from rapport.sales.services_leads import lead_create

    rep = User.objects.get(username="rep")
    client = Client()
    client.force_login(rep)
    raw = psycopg.connect(url, autocommit=True)
    team = rep.team_id
    cols = "id, first_name, last_name, company, email, status, source, campaign, score, owner_id, created_at"

    def sql(where: str, params: list) -> None:
        raw.execute(
            f"SELECT {cols} FROM sales_lead WHERE (owner_id = %s OR team_id = %s) {where} "
            "ORDER BY created_at DESC, id DESC LIMIT 51",
            [rep.pk, team, *params],
        ).fetchall()

    cases = [
        ("list page", lambda: client.get("/leads/"), lambda: sql("", [])),
        (
            "list status=new&source=web",
            lambda: client.get("/leads/?status=new&source=web"),
            lambda: sql("AND status = %s AND source = %s", ["new", "web"]),
        ),
        ("API page (50)", lambda: client.get("/api/v1/leads?limit=50"), lambda: sql("", [])),
    ]
    rows = []
    for name, ours, baseline in cases:
        mine, base = common.measure(ours, runs=args.runs), common.measure(baseline, runs=args.runs)
        rows.append([name, mine.p50, mine.p95, base.p50, base.p95, mine.p95 / base.p95])
    counter = iter(range(10**9))

    def create_service() -> None:
        n = next(counter)
        lead_create(
            actor=rep,
            data={
                "first_name": "Bench",
                "last_name": str(n),
                "email": f"b{n}@bench.example",
                "country": "DE",
                "employees": 120,
            },
        )

    def create_bare() -> None:
        n = next(counter)
        Lead.objects.create(first_name="Bench", last_name=str(n), email=f"b{n}@bench.example", owner=rep, team_id=team)

    mine, base = common.measure(create_service, runs=args.runs), common.measure(create_bare, runs=args.runs)
    rows.append(["create (service vs INSERT)", mine.p50, mine.p95, base.p50, base.p95, mine.p95 / base.p95])
    Lead.objects.filter(email__endswith="@bench.example").delete()
    print(f"{Lead.objects.count():,} leads, as the rep (team {team})")
    common.print_table(["case", "p50 ms", "p95 ms", "raw p50", "raw p95", "ratio p95"], rows)


if __name__ == "__main__":
    main()
