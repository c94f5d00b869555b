"""A hand-made star schema small enough to compute every answer by hand, with the registry's
rollups built from it as the warehouse builds them (so the answers check the rollups too)."""

import duckdb

from rapport.analytics.olap import DEFAULT_REGISTRY, rollups

SCHEMA = """
CREATE TABLE dim_date (date_key INTEGER, date DATE, year INTEGER, quarter VARCHAR, month VARCHAR);
INSERT INTO dim_date VALUES
  (20240115, '2024-01-15', 2024, '2024-Q1', '2024-01'),
  (20240520, '2024-05-20', 2024, '2024-Q2', '2024-05'),
  (20250110, '2025-01-10', 2025, '2025-Q1', '2025-01'),
  (20250211, '2025-02-11', 2025, '2025-Q1', '2025-02');
CREATE TABLE dim_region (region_key INTEGER, region VARCHAR, country VARCHAR);
INSERT INTO dim_region VALUES (1, 'Europe', 'DE'), (2, 'Europe', 'FR'), (3, 'Americas', 'US');
CREATE TABLE dim_product (product_key INTEGER, sku VARCHAR, name VARCHAR, kind VARCHAR);
INSERT INTO dim_product VALUES (1, 'A', 'Apple', 'goods'), (2, 'S', 'Support', 'service');
CREATE TABLE dim_customer (customer_key INTEGER, name VARCHAR, tier VARCHAR, segment VARCHAR,
  industry VARCHAR, size VARCHAR);
INSERT INTO dim_customer VALUES (1, 'Acme', 'gold', 'enterprise', 'tech', 'large'),
  (2, 'Bolt', 'silver', 'smb', 'retail', 'small'), (3, 'Cog', 'gold', 'smb', 'tech', 'small');
CREATE TABLE dim_owner (owner_key INTEGER, owner VARCHAR, team VARCHAR);
INSERT INTO dim_owner VALUES (1, 'ann', 'north'), (2, 'bob', 'south');
CREATE TABLE dim_channel (channel_key INTEGER, channel VARCHAR);
INSERT INTO dim_channel VALUES (1, 'email'), (2, 'phone');
CREATE TABLE fact_order_line (order_id INTEGER, line_id INTEGER, date_key INTEGER, customer_key INTEGER,
  product_key INTEGER, region_key INTEGER, owner_key INTEGER, quantity DECIMAL(14,3),
  net_amount DECIMAL(19,4), cost_amount DECIMAL(19,4), first_line BOOLEAN);
INSERT INTO fact_order_line VALUES
  (1, 1, 20240115, 1, 1, 1, 1, 2, 100, 60, true),
  (1, 2, 20240115, 1, 2, 1, 1, 1, 50, 10, false),
  (2, 3, 20240520, 2, 1, 3, 2, 5, 250, 150, true),
  (3, 4, 20250110, 3, 1, 2, 1, 1, 40, 24, true),
  (4, 5, 20250211, 1, 2, 1, 1, 3, 150, 30, true),
  (5, 6, 20250211, 2, 1, 3, 2, 4, 200, 120, true);
CREATE TABLE fact_interaction (interaction_id INTEGER, date_key INTEGER, customer_key INTEGER,
  region_key INTEGER, owner_key INTEGER, channel_key INTEGER);
INSERT INTO fact_interaction VALUES (1, 20240115, 1, 1, 1, 1), (2, 20250110, 1, 1, 1, 2),
  (3, 20250110, 2, 3, 2, 2);
"""


def star() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(SCHEMA)
    for _label, sql in rollups.build_statements(DEFAULT_REGISTRY):
        con.execute(sql)
    return con
