"""Quotes benchmark: the staff quote list at 100k quotes (first page, a filtered page) and the
customer's public page, against the equivalent raw SQL.

    .venv/bin/python bench/bench_quotes.py                 # 100,000 quotes
    .venv/bin/python bench/bench_quotes.py --quotes 20000  # a quick try

Needs PostgreSQL: ``DATABASE_URL``'s database (default rapport_bench) with ``_quotes`` appended.
Quotes (three lines each for the public page's one) are bulk-inserted once; later runs reuse them
while the count matches. Pages are driven in-process with ``django.test.Client`` as the demo rep;
baselines run through a plain psycopg connection in the same run. Prints p50/p95 in ms and the
ratio; asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from decimal import Decimal

import common

STATUSES = ["draft"] * 3 + ["sent"] * 4 + ["accepted", "declined", "superseded"]


def _load(count: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from rapport.commerce import services_catalogue as catalogue
    from rapport.commerce.models import Product
    from rapport.core.models import User
    from rapport.demo.users import demo_users_ensure
    from rapport.parties.services import account_create
    from rapport.sales.models import Opportunity, Pipeline
    from rapport.sales.models_quotes import Quote, QuoteLine

    demo_users_ensure()
    if Quote.objects.filter(number__startswith="B-").count() == count:
        return
    Quote.objects.filter(number__startswith="B-").delete()
    users = list(User.objects.filter(username__in=["rep", "rep2", "rep3", "manager"]))
    admin = User.objects.filter(is_superuser=True).first() or users[-1]
    product = Product.objects.filter(sku="BENCH-Q").first() or catalogue.product_create(
        actor=admin, sku="BENCH-Q", name="Bench widget")
    account = account_create(actor=users[0], data={"name": "Bench quote customer", "currency": "EUR"})
    pipeline = Pipeline.objects.get(is_default=True)
    stage = pipeline.stages.order_by("position").first()
    today = timezone.localdate()
    opp = Opportunity.objects.create(name="bench quotes", account=account, pipeline=pipeline, stage=stage,
                                     currency="EUR", probability=stage.probability, expected_close_date=today,
                                     owner=users[0], team_id=users[0].team_id)
    rng = random.Random(42)
    batch = []
    for i in range(count):
        owner = rng.choice(users)
        day = today - dt.timedelta(days=rng.randint(0, 700))
        batch.append(Quote(opportunity=opp, account=account, number=f"B-{i:07d}", revision=1,
                           status=rng.choice(STATUSES), currency="EUR", quote_date=day,
                           valid_until=day + dt.timedelta(days=30), subtotal=Decimal(300), total=Decimal(363),
                           tax_total=Decimal(63), owner=owner, team_id=owner.team_id,
                           sent_at=timezone.now() if i % 2 else None))
        if len(batch) == 5000:
            Quote.objects.bulk_create(batch)
            batch = []
    Quote.objects.bulk_create(batch)
    first = Quote.objects.get(number="B-0000000")
    QuoteLine.objects.bulk_create([
        QuoteLine(quote=first, position=n, product=product, description=f"Line {n}", quantity=1,
                  unit_price=Decimal(100), net=Decimal(100), tax=Decimal(21), total=Decimal(121)) for n in (1, 2, 3)])
    Quote.objects.filter(pk=first.pk).update(status="sent")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sales_quote")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quotes", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    url = common.database_url("_quotes")
    common.django_setup(url)
    _load(args.quotes)
    import psycopg
    from django.test import Client

    from rapport.core.models import User
    from rapport.sales.models_quotes import Quote
    from rapport.sales.services_quotes import acceptance_token

    rep = User.objects.get(username="rep")
    client = Client()
    client.force_login(rep)
    public = Client()
    token = acceptance_token(Quote.objects.get(number="B-0000000"))
    raw = psycopg.connect(url, autocommit=True)
    cols = ("q.id, q.number, q.revision, q.status, q.opportunity_id, q.account_id, q.currency, q.total, "
            "q.valid_until, q.sent_at, q.accepted_at, q.declined_at, q.owner_id, q.created_at, o.name, a.name")

    def sql(where: str, params: list) -> None:
        raw.execute(
            f"SELECT {cols} FROM sales_quote q JOIN sales_opportunity o ON o.id = q.opportunity_id "
            "JOIN parties_account a ON a.id = q.account_id WHERE (q.owner_id = %s OR q.team_id = %s) "
            f"{where} ORDER BY q.created_at DESC, q.id DESC LIMIT 51", [rep.pk, rep.team_id, *params]).fetchall()

    def public_sql() -> None:
        raw.execute("SELECT * FROM sales_quote q JOIN parties_account a ON a.id = q.account_id WHERE q.number = %s",
                    ["B-0000000"]).fetchall()
        raw.execute("SELECT * FROM sales_quoteline WHERE quote_id = (SELECT id FROM sales_quote WHERE number = %s) "
                    "ORDER BY position", ["B-0000000"]).fetchall()

    from django.core.cache import cache

    cases = [
        ("list page", lambda: client.get("/quotes/"), lambda: sql("", [])),
        ("list status=sent", lambda: client.get("/quotes/?status=sent"), lambda: sql("AND q.status = %s", ["sent"])),
        # the rate limit would answer 429 after 60 views: clear it so the page itself is measured
        ("public page /q/<token>/", lambda: (cache.clear(), public.get(f"/q/{token}/")), public_sql),
    ]
    rows = []
    for name, ours, baseline in cases:
        mine, base = common.measure(ours, runs=args.runs), common.measure(baseline, runs=args.runs)
        rows.append([name, mine.p50, mine.p95, base.p50, base.p95, mine.p95 / base.p95])
    print(f"{Quote.objects.count():,} quotes, as the rep (team {rep.team_id})")
    common.print_table(["case", "p50 ms", "p95 ms", "raw p50", "raw p95", "ratio p95"], rows)


if __name__ == "__main__":
    main()
