"""Rollups and per-order counts give exactly the figures the facts give, for every measure by every
dimension level (alone and in pairs) and under filters, on a random star with multi-line orders of
mixed products, customers buying in many months and amounts without an exchange rate (NULL)."""

import dataclasses
import itertools
import random

import duckdb
import pytest

from rapport.analytics.olap import DEFAULT_REGISTRY, QuerySpec, compile_query, rollups, run_query

FACTS_ONLY = dataclasses.replace(
    DEFAULT_REGISTRY,
    rollups=(),
    measures={
        name: dataclasses.replace(m, per_order=None, rollup=None) for name, m in DEFAULT_REGISTRY.measures.items()
    },
)


@pytest.fixture(scope="module")
def star():
    rng = random.Random(7)
    con = duckdb.connect()
    con.execute("""
    CREATE TABLE dim_date AS SELECT CAST(strftime(d, '%Y%m%d') AS INTEGER) AS date_key, CAST(d AS DATE) AS date,
      year(d) AS year, year(d) || '-Q' || quarter(d) AS quarter, strftime(d, '%Y-%m') AS month
      FROM generate_series(TIMESTAMP '2023-01-01', TIMESTAMP '2025-12-31', INTERVAL 1 DAY) g(d);
    CREATE TABLE dim_region AS SELECT * FROM (VALUES ('DE', 'Europe', 'DE'), ('FR', 'Europe', 'FR'),
      ('US', 'Americas', 'US')) v(region_key, region, country);
    CREATE TABLE dim_product AS SELECT g AS product_key, 'P' || g AS sku, 'P' || g AS name,
      CASE WHEN g % 2 = 0 THEN 'service' ELSE 'goods' END AS kind FROM range(1, 6) t(g);
    CREATE TABLE dim_customer AS SELECT g AS customer_key, 'C' || g AS name,
      (['gold', 'silver', 'iron'])[1 + g % 3] AS tier, (['smb', 'enterprise'])[1 + g % 2] AS segment,
      'ind' || (g % 4) AS industry, 'size' || (g % 2) AS size FROM range(0, 41) t(g);
    CREATE TABLE dim_owner AS SELECT g AS owner_key, 'o' || g AS owner, 'team' || (g % 2) AS team FROM range(4) t(g);
    CREATE TABLE dim_channel AS SELECT * FROM (VALUES ('email', 'email'), ('phone', 'phone')) v(channel_key, channel);
    CREATE TABLE fact_order_line (order_id INTEGER, line_id INTEGER, date_key INTEGER, customer_key INTEGER,
      product_key INTEGER, region_key VARCHAR, owner_key INTEGER, quantity DECIMAL(14,3),
      net_amount DECIMAL(19,4), cost_amount DECIMAL(19,4), first_line BOOLEAN);
    CREATE TABLE fact_interaction (interaction_id INTEGER, date_key INTEGER, customer_key INTEGER,
      region_key VARCHAR, owner_key INTEGER, channel_key VARCHAR);
    """)
    days = [r[0] for r in con.execute("SELECT date_key FROM dim_date ORDER BY 1").fetchall()]
    lines, line_id = [], 0
    for order_id in range(1, 401):
        # The order-level attributes, shared by its lines (the warehouse's invariant).
        day, customer = rng.choice(days), rng.choice(range(1, 41)) ** 2 % 41
        region, owner = rng.choice(["DE", "FR", "US"]), rng.randrange(4)
        for position in range(rng.choice([1, 1, 2, 3])):
            line_id += 1
            net = None if rng.random() < 0.05 else round(rng.uniform(1, 500), 2)
            cost = None if rng.random() < 0.2 else round(rng.uniform(0, 200), 2)
            lines.append(
                (
                    order_id,
                    line_id,
                    day,
                    customer,
                    rng.randrange(1, 6),
                    region,
                    owner,
                    rng.randrange(1, 9),
                    net,
                    cost,
                    position == 0,
                )
            )
    con.executemany("INSERT INTO fact_order_line VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", lines)
    con.executemany(
        "INSERT INTO fact_interaction VALUES (?, ?, ?, ?, ?, ?)",
        [
            (
                i,
                rng.choice(days),
                rng.randrange(0, 41),
                rng.choice(["DE", "US"]),
                rng.randrange(4),
                rng.choice(["email", "phone"]),
            )
            for i in range(1, 601)
        ],
    )
    for _label, sql in rollups.build_statements(DEFAULT_REGISTRY):
        con.execute(sql)
    return con


def _same(con, spec: dict) -> str:
    qs = QuerySpec.from_dict(spec)
    fast, plain = run_query(con, qs), run_query(con, qs, FACTS_ONLY)
    assert fast.rows == plain.rows, (spec, compile_query(qs).sql)
    assert plain.rows  # a comparison of two empty answers would prove nothing
    return compile_query(qs).source


def _levels(fact: str) -> list[str]:
    return [
        f"{d.name}.{lv.name}" for d in DEFAULT_REGISTRY.dimensions.values() if fact in d.fact_keys for lv in d.levels
    ]


@pytest.mark.parametrize("fact", ["fact_order_line", "fact_interaction"])
def test_every_measure_by_every_level_and_pair_matches_the_facts(star, fact):
    measures = [m.name for m in DEFAULT_REGISTRY.measures.values() if m.fact == fact]
    sources = set()
    levels = _levels(fact)
    for dims in [[], *([lv] for lv in levels), *(list(p) for p in itertools.combinations(levels, 2))]:
        if len({d.split(".")[0] for d in dims}) < len(dims):
            continue  # two levels of one dimension
        sources.add(_same(star, {"measures": measures, "dimensions": dims}))
        for m in measures:  # alone too: a rollup answers only when every measure has a rollup form
            _same(star, {"measures": [m], "dimensions": dims})
    # Each rollup grain and the facts were exercised.
    assert sources == {fact, *(r.table for r in DEFAULT_REGISTRY.rollups if r.fact == fact)}


@pytest.mark.parametrize(
    ("spec", "source"),
    [
        # A finer level in a filter than in the grouping: the month rollup, keys counted distinct.
        (
            {
                "dimensions": ["date.year", "customer.tier"],
                "filters": [{"dimension": "date", "level": "month", "op": "range", "value": ["2024-03", "2025-06"]}],
            },
            "rollup_order_line_month",
        ),
        (
            {
                "dimensions": ["date.quarter"],
                "filters": [{"dimension": "date", "level": "year", "op": "eq", "value": 2024}],
            },
            "rollup_order_line_quarter",
        ),
        (
            {
                "dimensions": ["customer.segment"],
                "filters": [{"dimension": "customer", "level": "tier", "op": "in", "value": ["gold", "iron"]}],
            },
            "rollup_order_line_all",
        ),
        (
            {
                "dimensions": ["date.month"],
                "filters": [{"dimension": "region", "level": "country", "op": "eq", "value": "DE"}],
            },
            "rollup_order_line_by_region_month",
        ),
        ({"dimensions": ["date.quarter", "region.region"]}, "rollup_order_line_by_region_quarter"),
        ({"dimensions": ["date.quarter", "owner.team"]}, "fact_order_line"),
        ({"dimensions": ["product.kind"]}, "fact_order_line"),
        ({"dimensions": ["date.day"]}, "fact_order_line"),
    ],
)
def test_filters_pick_a_rollup_that_keeps_their_levels(star, spec, source):
    measures = [m.name for m in DEFAULT_REGISTRY.measures.values() if m.fact == "fact_order_line"]
    assert _same(star, {"measures": measures, **spec}) == source


def test_order_counts_use_first_lines_unless_the_product_splits_orders(star):
    # No rollup keeps the owner: the facts are read.
    by_owner = compile_query(QuerySpec.from_dict({"measures": ["order_count"], "dimensions": ["owner.team"]}))
    assert by_owner.source == "fact_order_line"
    assert "count_if(f.first_line)" in by_owner.sql and "DISTINCT" not in by_owner.sql
    by_kind = compile_query(QuerySpec.from_dict({"measures": ["order_count"], "dimensions": ["product.kind"]}))
    assert "count(DISTINCT f.order_id)" in by_kind.sql
    filtered = compile_query(
        QuerySpec.from_dict(
            {
                "measures": ["order_count"],
                "dimensions": ["owner.team"],
                "filters": [{"dimension": "product", "level": "kind", "op": "eq", "value": "goods"}],
            }
        )
    )
    assert "count(DISTINCT f.order_id)" in filtered.sql  # a filter on the product splits orders too
    # Orders of two kinds count once per kind, so the per-kind counts add up to more than the orders.
    kinds = run_query(star, QuerySpec.from_dict({"measures": ["order_count"], "dimensions": ["product.kind"]}))
    total = run_query(star, QuerySpec.from_dict({"measures": ["order_count"]}))
    assert sum(r[1] for r in kinds.rows) > total.rows[0][0]


def test_distinct_customers_over_the_grain_are_a_plain_count(star):
    q = compile_query(QuerySpec.from_dict({"measures": ["distinct_customers"], "dimensions": ["date.month"]}))
    assert q.source == "rollup_order_line_month" and "count(*)" in q.sql and "DISTINCT" not in q.sql
    q = compile_query(QuerySpec.from_dict({"measures": ["distinct_customers"], "dimensions": ["customer.tier"]}))
    assert q.source == "rollup_order_line_all" and "DISTINCT" not in q.sql


def test_distinct_customers_by_an_order_attribute_count_keys_distinct(star):
    """A customer may have orders in two countries of one region in one year: two rows of the
    region × owner rollup in one group, so the customers are counted distinct, not by rows."""
    spec = {"measures": ["distinct_customers"], "dimensions": ["region.region", "date.year"]}
    q = compile_query(QuerySpec.from_dict(spec))
    assert q.source == "rollup_order_line_by_region_year" and "count(DISTINCT f.customer_key)" in q.sql
    rows = star.execute(
        "SELECT count(*) FROM (SELECT r.region, f.year, f.customer_key FROM rollup_order_line_by_region_year f "
        "JOIN dim_region r USING (region_key) GROUP BY ALL HAVING count(*) > 1)"
    ).fetchone()
    assert rows[0] > 0  # the star has such customers, so a plain row count would differ
    _same(star, spec)
    q = compile_query(QuerySpec.from_dict({"measures": ["interacting_customers"], "dimensions": ["region.country"]}))
    assert q.source == "rollup_interaction_by_region_all" and "DISTINCT" in q.sql
