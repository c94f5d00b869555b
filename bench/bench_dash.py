"""Dashboard figures: seconds to compute each page's figures from a warehouse of N customers.

    nice -n 10 python bench/bench_dash.py [--customers 2000]

Builds a warehouse-shaped DuckDB file (dim_customer, fact_order_line, fact_interaction) with
seeded repeat buying (each customer starts on a random day, buys at their own rate until a random
lifetime ends), then times ``insights.figures`` for every page once (a page computes them once
per warehouse build; later requests are cache hits). The baseline, measured in the same run, is
reading the order transactions out of DuckDB (``figures.transactions``): the ratio says how much
of a page's cost is the models rather than the SQL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np

import common  # noqa: F401 - puts src/ on the path
from rapport.insights import figures

EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC).replace(tzinfo=None)  # DuckDB TIMESTAMP is naive UTC


def build(path: Path, n: int, seed: int = 1) -> int:
    rng = np.random.default_rng(seed)
    con = duckdb.connect(str(path))
    con.execute("""CREATE TABLE dim_customer (customer_key BIGINT, name VARCHAR, tier VARCHAR, industry VARCHAR,
      size VARCHAR, segment VARCHAR, country VARCHAR, region VARCHAR, owner_key BIGINT, owner VARCHAR, team VARCHAR);
      CREATE TABLE fact_order_line (line_id BIGINT, order_id BIGINT, date_key INTEGER, customer_key BIGINT,
      net_amount DECIMAL(19,4));
      CREATE TABLE fact_interaction (interaction_id BIGINT, occurred_at TIMESTAMP, customer_key BIGINT,
      channel_key VARCHAR)""")
    start = dt.date(2024, 1, 1)
    lines, customers, interactions = [], [], []
    for c in range(1, n + 1):
        customers.append((c, f"C{c}", str(rng.choice(["gold", "iron", "none"])), "", "", "", "DE",
                          str(rng.choice(["Europe", "North America"])), 0, "", ""))
        day, end = int(rng.integers(0, 600)), 0
        end = min(day + int(rng.exponential(300)), 730)
        gap, spend = 1 / max(rng.gamma(1.0, 1 / 30), 1e-3), rng.gamma(3, 30)
        while day < end:
            d = start + dt.timedelta(days=day)
            lines.append((len(lines) + 1, len(lines) + 1, int(d.strftime("%Y%m%d")), c,
                          round(float(spend * rng.gamma(5, 0.2)), 2)))
            day += max(1, int(rng.exponential(gap)))
        for _ in range(int(rng.integers(0, 4))):
            when = EPOCH + dt.timedelta(days=int(rng.integers(0, 730)))
            interactions.append((len(interactions) + 1, when, c, str(rng.choice(["email", "phone"]))))
    con.executemany("INSERT INTO dim_customer VALUES (?,?,?,?,?,?,?,?,?,?,?)", customers)
    con.executemany("INSERT INTO fact_order_line VALUES (?,?,?,?,?)", lines)
    con.executemany("INSERT INTO fact_interaction VALUES (?,?,?,?)", interactions)
    con.close()
    return len(lines)


def seconds(fn) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "warehouse.duckdb"
        orders = build(path, args.customers)
        con = duckdb.connect(str(path), read_only=True)
        figures.transactions(con)  # warm-up: imports, DuckDB's first query
        base = min(seconds(lambda: figures.transactions(con)) for _ in range(3))
        print(f"{args.customers:,} customers, {orders:,} orders; baseline (read transactions): {base:.3f} s")
        for name, fn in (
            ("rfm (segments, pyramid, clusters)", lambda: figures.rfm_figures(con)),
            ("clv bgnbd (+ calibration fit)", lambda: figures.clv_figures(con, model="bgnbd")),
            ("clv pnbd", lambda: figures.clv_figures(con, model="pnbd")),
            ("clv mbgnbd", lambda: figures.clv_figures(con, model="mbgnbd")),
            ("defection by region", lambda: figures.defection_figures(con, dimension="region")),
        ):
            s = seconds(fn)
            print(f"{name:<36} {s:8.2f} s   {s / base:8.1f}× baseline")
        con.close()


if __name__ == "__main__":
    main()
