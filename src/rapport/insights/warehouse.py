"""Build the analytical warehouse: a DuckDB file with a star schema (docs/warehouse.md).

``warehouse_build(incremental=...)`` extracts the operational tables (``extract.py``) into staging
tables, then transforms them with DuckDB SQL into dimensions and facts.

Invariants:
- Readers never see a half-built file: every run writes a new file next to the live one and
  ``os.replace``-s it over (atomic on one filesystem). Readers with the old file open keep reading
  the old inode until they close it.
- One run at a time (an exclusive ``flock`` on ``<path>.lock``).
- Incremental refresh upserts the rows changed since the previous run's watermark, which is the
  time that run *started* (so a row written during a run is picked up again next time: upserts are
  idempotent), and removes facts whose source rows are gone by an id anti-join.
- Fact keys (``line_id``, ``interaction_id``) are unique without an index: every staged row comes
  from a source primary key, and a run deletes the keys it stages before inserting them. (A
  PRIMARY KEY index would make loading 10M facts about five times slower.)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from rapport.analytics.olap import DEFAULT_REGISTRY, rollups
from rapport.core.errors import DomainError
from rapport.insights.extract import (
    EXTRACTS,
    ID_BLOCK,
    Extract,
    changed_ranges,
    extract_parallel,
    extract_to_csv,
)
from rapport.insights.regions import region_rows

# 2: the fact tables have no PRIMARY KEY index (their keys are unique by construction, see _load).
# 3: fact_order_line.first_line, the facts in date order, the OLAP rollups; invoices, payments and
#    subscriptions.
# 4: rollups by customer and region; source_id_blocks for finding deletions.
# 5: service cases (fact_case), campaign responses (fact_campaign_response, dim_campaign); the
#    cancellation date and reason of subscriptions; id blocks of accounts and campaign members.
SCHEMA_VERSION = 5

DDL = """
CREATE TABLE IF NOT EXISTS warehouse_meta (key VARCHAR PRIMARY KEY, value VARCHAR);
-- Per source table (extract._id_blocks_sql): the count and sum of its ids per block, as last extracted.
CREATE TABLE IF NOT EXISTS source_id_blocks (source VARCHAR, block BIGINT, n BIGINT, total HUGEINT);
CREATE TABLE IF NOT EXISTS dim_customer (
  customer_key BIGINT PRIMARY KEY, name VARCHAR, tier VARCHAR, industry VARCHAR, size VARCHAR,
  segment VARCHAR, country VARCHAR, region VARCHAR, owner_key BIGINT, owner VARCHAR, team VARCHAR);
CREATE TABLE IF NOT EXISTS fact_order_line (
  line_id BIGINT, order_id BIGINT, date_key INTEGER, customer_key BIGINT,
  product_key BIGINT, region_key VARCHAR, owner_key BIGINT, currency VARCHAR,
  quantity DECIMAL(14,3), net_amount_doc DECIMAL(19,4), exchange_rate DECIMAL(24,10),
  net_amount DECIMAL(19,4), cost_amount DECIMAL(19,4), first_line BOOLEAN);
CREATE TABLE IF NOT EXISTS fact_interaction (
  interaction_id BIGINT, date_key INTEGER, occurred_at TIMESTAMP, customer_key BIGINT,
  contact_id BIGINT, region_key VARCHAR, owner_key BIGINT, channel_key VARCHAR, direction VARCHAR,
  outcome VARCHAR, duration_seconds BIGINT);
CREATE TABLE IF NOT EXISTS fact_invoice (
  invoice_id BIGINT, customer_key BIGINT, issue_date DATE, due_date DATE, currency VARCHAR,
  total_doc DECIMAL(19,4), owner_key BIGINT);
CREATE TABLE IF NOT EXISTS fact_payment (
  payment_id BIGINT, invoice_id BIGINT, paid_on DATE, amount_doc DECIMAL(19,4));
CREATE TABLE IF NOT EXISTS fact_subscription (
  subscription_id BIGINT, customer_key BIGINT, product_key BIGINT, currency VARCHAR, amount_doc DECIMAL(19,4),
  billing_period VARCHAR, start_date DATE, end_date DATE, renewal_date DATE, status VARCHAR,
  cancelled_on DATE, cancellation_reason VARCHAR);
CREATE TABLE IF NOT EXISTS fact_case (
  case_id BIGINT, date_key INTEGER, opened_at TIMESTAMP, resolved_at TIMESTAMP, customer_key BIGINT,
  contact_id BIGINT, region_key VARCHAR, owner_key BIGINT, channel_key VARCHAR, kind VARCHAR, priority VARCHAR,
  status VARCHAR, satisfaction INTEGER, resolution_hours DOUBLE);
CREATE TABLE IF NOT EXISTS fact_campaign_response (
  member_id BIGINT, campaign_key BIGINT, date_key INTEGER, sent_at TIMESTAMP, customer_key BIGINT,
  contact_id BIGINT, region_key VARCHAR, owner_key BIGINT, channel_key VARCHAR, opened_at TIMESTAMP,
  clicked_at TIMESTAMP, responded_at TIMESTAMP, unsubscribed_at TIMESTAMP);
"""

# Company size → the customer segment used by the customer hierarchy (tier → segment → customer).
SEGMENT_SQL = """CASE a.size WHEN '1-10' THEN 'small business' WHEN '11-50' THEN 'small business'
  WHEN '51-250' THEN 'mid-market' WHEN '251-1000' THEN 'mid-market' WHEN '1001+' THEN 'enterprise'
  ELSE 'unknown' END"""

# The rollup cells (analytics.olap.rollups) of the facts an incremental refresh replaces, recorded
# before they are deleted and again once their new rows are in.
_TOUCH_OLD_LINES = rollups.touch_statement(
    DEFAULT_REGISTRY, "fact_order_line", "f.order_id IN (SELECT order_id FROM replaced_orders)"
)
_TOUCH_NEW_LINES = rollups.touch_statement(
    DEFAULT_REGISTRY, "fact_order_line", "f.order_id IN (SELECT id FROM stg_order)"
)
_TOUCH_OLD_INTERACTIONS = rollups.touch_statement(
    DEFAULT_REGISTRY, "fact_interaction", "f.interaction_id IN (SELECT interaction_id FROM replaced_interactions)"
)
_TOUCH_NEW_INTERACTIONS = rollups.touch_statement(
    DEFAULT_REGISTRY, "fact_interaction", "f.interaction_id IN (SELECT id FROM stg_interaction)"
)

# Deleted ids: the facts in an id block that changed since the last run (extract.changed_ranges;
# its ids were extracted) whose id is no longer there. Blocks that did not change lost no row, so the
# facts elsewhere are not looked at: the block test is a hash probe per fact, no sort.
def _gone_facts(name: str, fact: str, key: str) -> str:
    block = ID_BLOCK
    return (
        f"SELECT f.{key} FROM {fact} AS f SEMI JOIN (SELECT DISTINCT unnest(range(lo // {block}, hi // {block} + 1)) "
        f"AS block FROM stg_{name}_id_ranges) AS r ON f.{key} // {block} = r.block "
        f"ANTI JOIN stg_{name}_ids AS i ON i.id = f.{key}"
    )


TRANSFORM = f"""
-- Dimensions rebuilt whole on every run (they are small).
CREATE OR REPLACE TABLE dim_owner AS
  SELECT u.id AS owner_key, u.username AS owner, trim(u.first_name || ' ' || u.last_name) AS owner_name,
         coalesce(t.name, '(no team)') AS team
  FROM stg_user u LEFT JOIN stg_team t ON t.id = u.team_id
  UNION ALL SELECT 0, '(nobody)', '(nobody)', '(no team)';
CREATE OR REPLACE TABLE dim_product AS
  SELECT id AS product_key, sku, name, kind, cost_price FROM stg_product;
CREATE OR REPLACE TABLE dim_channel AS SELECT channel_key, channel_key AS channel, label FROM channel_values;
CREATE OR REPLACE TABLE dim_region AS SELECT * FROM region_values;
CREATE OR REPLACE TABLE dim_campaign AS
  SELECT id AS campaign_key, name, channel, status, starts_on, coalesce(owner_id, 0) AS owner_key FROM stg_campaign
  UNION ALL SELECT 0, '(no campaign)', '', '', NULL, 0;

-- Customers: upsert the changed accounts (all of them on a full build); drop those gone (merged
-- into another: their facts were re-pointed, so they are staged again below under the survivor).
-- incremental only
DELETE FROM dim_customer WHERE customer_key IN (SELECT id FROM stg_account);
-- incremental only
DELETE FROM dim_customer WHERE customer_key IN ({_gone_facts("account", "dim_customer", "customer_key")});
INSERT INTO dim_customer
  SELECT a.id, a.name, coalesce(nullif(a.tier, ''), 'none'), coalesce(nullif(a.industry, ''), 'unknown'),
         coalesce(nullif(a.size, ''), 'unknown'), {SEGMENT_SQL}, coalesce(ad.country, ''),
         coalesce(r.region, 'Other'), coalesce(a.owner_id, 0), coalesce(o.owner, '(nobody)'),
         coalesce(tm.name, '(no team)')
  FROM stg_account a
  LEFT JOIN (
    -- One address per account: billing first, then the lowest id.
    SELECT account_id, arg_min(upper(country), (kind <> 'billing', id)) AS country
    FROM stg_address WHERE country <> '' GROUP BY account_id
  ) ad ON ad.account_id = a.id
  LEFT JOIN region_values r ON r.region_key = coalesce(ad.country, '')
  LEFT JOIN dim_owner o ON o.owner_key = a.owner_id
  LEFT JOIN stg_team tm ON tm.id = a.team_id;
INSERT INTO dim_customer SELECT 0, '(no account)', 'none', 'unknown', 'unknown', 'unknown', '', 'Unknown',
  0, '(nobody)', '(no team)' WHERE NOT EXISTS (SELECT 1 FROM dim_customer WHERE customer_key = 0);

-- Order lines: replace the lines of changed orders; drop those of orders that are gone.
-- incremental only
CREATE OR REPLACE TEMP TABLE replaced_orders AS
  SELECT id AS order_id FROM stg_order
  UNION ALL  -- a key on both sides is harmless: only IN reads it
  {_gone_facts("order", "fact_order_line", "order_id")};
-- incremental only
{_TOUCH_OLD_LINES};
-- incremental only
DELETE FROM fact_order_line WHERE order_id IN (SELECT order_id FROM replaced_orders);
-- In date order: DuckDB skips the row groups a date filter cannot match (their min/max).
INSERT INTO fact_order_line
  SELECT l.id, l.order_id, CAST(strftime(o.order_date, '%Y%m%d') AS INTEGER) AS date_key, o.account_id,
         l.product_id,
         CASE WHEN o.tax_country <> '' THEN upper(o.tax_country) ELSE coalesce(c.country, '') END,
         coalesce(o.owner_id, 0), o.currency, l.quantity, l.net,
         CASE WHEN o.currency = bp.company_currency THEN 1 ELSE x.rate END,
         CAST(l.net * CASE WHEN o.currency = bp.company_currency THEN 1 ELSE x.rate END AS DECIMAL(19,4)),
         CAST(l.quantity * p.cost_price AS DECIMAL(19,4)),
         -- One line per order is its first (the lowest id): order counts become a plain sum.
         l.id = fl.first_id
  FROM stg_line l
  JOIN stg_order o ON o.id = l.order_id
  JOIN (SELECT order_id, min(id) AS first_id FROM stg_line GROUP BY order_id) fl ON fl.order_id = l.order_id
  CROSS JOIN build_params bp
  LEFT JOIN dim_customer c ON c.customer_key = o.account_id
  LEFT JOIN stg_product p ON p.id = l.product_id
  -- The latest stored rate on or before the order date (commerce's rule); none leaves it NULL.
  ASOF LEFT JOIN stg_rate x ON x.currency = o.currency AND o.order_date >= x.date
  WHERE o.status <> 'cancelled'
  ORDER BY date_key;

-- Interactions: upsert the changed ones; drop those deleted since.
-- incremental only
CREATE OR REPLACE TEMP TABLE replaced_interactions AS
  SELECT id AS interaction_id FROM stg_interaction
  UNION ALL  -- a key on both sides is harmless: only IN reads it
  {_gone_facts("interaction", "fact_interaction", "interaction_id")};
-- incremental only
{_TOUCH_OLD_INTERACTIONS};
-- incremental only
DELETE FROM fact_interaction WHERE interaction_id IN (SELECT interaction_id FROM replaced_interactions);
INSERT INTO fact_interaction
  SELECT i.id, CAST(strftime(i.occurred_at, '%Y%m%d') AS INTEGER) AS date_key, i.occurred_at,
         coalesce(i.account_id, m.account_id, 0), i.contact_id, coalesce(c.country, ''),
         coalesce(i.owner_id, 0), i.channel, coalesce(i.direction, ''), coalesce(i.outcome, ''),
         i.duration_seconds
  FROM stg_interaction i
  LEFT JOIN (
    SELECT contact_id, arg_min(account_id, (is_primary = 0, account_id)) AS account_id
    FROM stg_membership GROUP BY contact_id
  ) m ON m.contact_id = i.contact_id
  LEFT JOIN dim_customer c ON c.customer_key = coalesce(i.account_id, m.account_id)
  ORDER BY date_key;

-- Invoices, payments, subscriptions: upsert the changed ones (none is ever deleted).
-- incremental only
DELETE FROM fact_invoice WHERE invoice_id IN (SELECT id FROM stg_invoice);
INSERT INTO fact_invoice
  SELECT id, coalesce(account_id, 0), issue_date, due_date, currency, total, coalesce(owner_id, 0) FROM stg_invoice;
-- incremental only
DELETE FROM fact_payment WHERE payment_id IN (SELECT id FROM stg_payment);
INSERT INTO fact_payment SELECT id, invoice_id, paid_on, amount FROM stg_payment;
-- incremental only
DELETE FROM fact_subscription WHERE subscription_id IN (SELECT id FROM stg_subscription);
INSERT INTO fact_subscription
  SELECT id, account_id, product_id, currency, amount, billing_period, start_date, end_date, renewal_date, status,
         cancelled_on, coalesce(cancellation_reason, '')
  FROM stg_subscription;

-- Cases and campaign members: upsert the changed ones (cases are never deleted; members only by a
-- contact merge, found like deleted interactions). The customer's country is their region.
-- incremental only
DELETE FROM fact_case WHERE case_id IN (SELECT id FROM stg_case);
INSERT INTO fact_case
  SELECT k.id, CAST(strftime(k.opened_at, '%Y%m%d') AS INTEGER) AS date_key, k.opened_at, k.resolved_at,
         k.account_id, k.contact_id, coalesce(c.country, ''), coalesce(k.owner_id, 0), k.channel, k.kind,
         k.priority, k.status, k.satisfaction,
         CASE WHEN k.resolved_at IS NOT NULL THEN date_diff('second', k.opened_at, k.resolved_at) / 3600.0 END
  FROM stg_case k LEFT JOIN dim_customer c ON c.customer_key = k.account_id
  ORDER BY date_key;
-- incremental only
DELETE FROM fact_campaign_response WHERE member_id IN (
  SELECT id FROM stg_campaign_member
  UNION ALL {_gone_facts("campaign_member", "fact_campaign_response", "member_id")});
INSERT INTO fact_campaign_response
  SELECT m.id, m.campaign_id, CAST(strftime(m.sent_at, '%Y%m%d') AS INTEGER) AS date_key, m.sent_at,
         m.account_id, m.contact_id, coalesce(c.country, ''), coalesce(g.owner_id, 0), coalesce(g.channel, ''),
         m.opened_at, m.clicked_at, m.responded_at, m.unsubscribed_at
  FROM stg_campaign_member m
  LEFT JOIN stg_campaign g ON g.id = m.campaign_id
  LEFT JOIN dim_customer c ON c.customer_key = m.account_id
  ORDER BY date_key;

-- Dates: every day from the first to the last fact.
CREATE OR REPLACE TABLE dim_date AS
  WITH bounds AS (
    SELECT min(d) AS lo, max(d) AS hi FROM (
      SELECT min(date_key) AS d FROM fact_order_line UNION ALL SELECT max(date_key) FROM fact_order_line
      UNION ALL SELECT min(date_key) FROM fact_interaction UNION ALL SELECT max(date_key) FROM fact_interaction
      UNION ALL SELECT min(date_key) FROM fact_case UNION ALL SELECT max(date_key) FROM fact_case
      UNION ALL SELECT min(date_key) FROM fact_campaign_response
      UNION ALL SELECT max(date_key) FROM fact_campaign_response))
  SELECT CAST(strftime(day, '%Y%m%d') AS INTEGER) AS date_key, CAST(day AS DATE) AS date,
         year(day) AS year, year(day) || '-Q' || quarter(day) AS quarter, strftime(day, '%Y-%m') AS month,
         isodow(day) AS weekday
  FROM bounds, generate_series(strptime(CAST(lo AS VARCHAR), '%Y%m%d'),
                               strptime(CAST(hi AS VARCHAR), '%Y%m%d'), INTERVAL 1 DAY) AS g(day)
  WHERE lo IS NOT NULL;

-- The rollup cells of the new and changed facts (dim_date now has their days).
-- incremental only
{_TOUCH_NEW_LINES};
-- incremental only
{_TOUCH_NEW_INTERACTIONS};
"""


class WarehouseMissing(DomainError):
    slug = "warehouse-missing"
    status = 409
    title = "The warehouse has not been built yet"


@dataclass(frozen=True)
class BuildResult:
    path: Path
    incremental: bool
    watermark: dt.datetime
    extracted: dict[str, int] = field(default_factory=dict)
    facts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def warehouse_path() -> Path:
    return Path(getattr(settings, "RAPPORT_WAREHOUSE_PATH", Path(settings.DATA_DIR) / "warehouse.duckdb"))


def _read_meta(path: Path) -> dict[str, str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return dict(con.execute("SELECT key, value FROM warehouse_meta").fetchall())
    finally:
        con.close()


def warehouse_build(
    *, incremental: bool = False, path: Path | None = None, progress: Callable[[str], None] | None = None
) -> BuildResult:
    """Full build, or an incremental refresh of the existing file (a full build when there is none
    or when it was written by another schema version)."""
    path = Path(path or warehouse_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    with open(f"{path}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        since: dt.datetime | None = None
        if incremental and path.exists():
            meta = _read_meta(path)
            if meta.get("schema_version") == str(SCHEMA_VERSION) and meta.get("company_currency") == (
                settings.RAPPORT_COMPANY_CURRENCY
            ):
                since = dt.datetime.fromisoformat(meta["watermark"])
        watermark = timezone.now()
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".building", dir=path.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        tmp.unlink()  # DuckDB wants to create the file itself (or open a copy of a real database)
        try:
            if since is not None:
                shutil.copyfile(path, tmp)
            extracted = _load(tmp, since=since, watermark=watermark, say=say)
            os.replace(tmp, path)
        finally:
            for leftover in (tmp, Path(f"{tmp}.wal")):
                leftover.unlink(missing_ok=True)
        con = duckdb.connect(str(path), read_only=True)
        try:
            facts = {
                t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
                for t in (
                    "fact_order_line", "fact_interaction", "fact_invoice", "fact_payment", "fact_subscription",
                    "fact_case", "fact_campaign_response", "dim_customer", "dim_date",
                )
            }
        finally:
            con.close()
    return BuildResult(path, since is not None, watermark, extracted, facts, time.perf_counter() - started)


def _load(
    tmp: Path, *, since: dt.datetime | None, watermark: dt.datetime, say: Callable[[str], None]
) -> dict[str, int]:
    from rapport.parties.choices import Channel

    counts: dict[str, int] = {}
    con = duckdb.connect(str(tmp))
    try:
        con.execute(DDL)
        # One snapshot for every table on PostgreSQL (REPEATABLE READ), so facts and
        # dimensions agree with each other even while users keep writing.
        # (Inside a caller's transaction the snapshot is the caller's: SET TRANSACTION must come first.)
        own_transaction = not connection.in_atomic_block
        # A full build writes a new file: its facts start empty, so there is nothing to find
        # deletions against and the id lists are not read.
        wanted = tuple(ext for ext in EXTRACTS if since is not None or not ext.incremental_only)
        for ext in EXTRACTS:
            if ext not in wanted:
                _empty_staging(con, ext)
                counts[ext.table] = 0
        with tempfile.TemporaryDirectory(prefix="rapport-extract-") as work, transaction.atomic():
            workers = _extract_workers()
            if connection.vendor == "postgresql" and own_transaction:
                with connection.cursor() as cur:
                    cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    if workers > 1:
                        cur.execute("SELECT pg_export_snapshot()")
                        snapshot = cur.fetchone()[0]
            parallel = connection.vendor == "postgresql" and own_transaction and workers > 1
            if parallel:
                # Inside a caller's transaction its own uncommitted rows would be invisible to other
                # connections, so only a build with its own snapshot goes parallel.
                say(f"extracting on {workers} connections in snapshot {snapshot}")

            def extract(exts: tuple[Extract, ...]) -> None:
                if parallel:
                    files = extract_parallel(exts, Path(work), since=since, snapshot=snapshot, workers=workers)
                else:
                    files = (
                        (ext, path, extract_to_csv(ext, path, since=since))
                        for ext in exts
                        for path in [Path(work) / f"{ext.table}.csv"]
                    )
                for ext, csv_path, rows in files:
                    say(f"extracted {ext.table} ({rows:,} rows)")
                    counts[ext.table] = rows
                    _stage(con, ext, csv_path)

            extract(tuple(ext for ext in wanted if ext.ids_of is None))
            # Then, in the same snapshot, the ids of the blocks whose summary changed since the last
            # run (an incremental run only); every build stores the new summaries.
            ranges = {ext.id_blocks_of: _store_id_blocks(con, ext, since is not None) for ext in EXTRACTS
                      if ext.id_blocks_of is not None}
            extract(tuple(dataclasses.replace(ext, id_ranges=ranges[ext.ids_of]) for ext in wanted if ext.ids_of))
        con.execute("CREATE OR REPLACE TEMP TABLE channel_values (channel_key VARCHAR, label VARCHAR)")
        con.executemany("INSERT INTO channel_values VALUES (?, ?)", [(c.value, str(c.label)) for c in Channel])
        con.execute("CREATE OR REPLACE TEMP TABLE region_values (region_key VARCHAR, region VARCHAR, country VARCHAR)")
        con.executemany("INSERT INTO region_values VALUES (?, ?, ?)", region_rows())
        data_version, small_hash = _data_version(con, counts, ranges, watermark, incremental=since is not None)
        say("transform")
        con.execute(
            "CREATE OR REPLACE TEMP TABLE build_params AS SELECT ?::VARCHAR AS company_currency",
            [settings.RAPPORT_COMPANY_CURRENCY],
        )
        con.execute("BEGIN")
        for label, statement in _transform(incremental=since is not None):
            say(f"transform: {label}")
            con.execute(statement)
        meta = {
            "schema_version": str(SCHEMA_VERSION),
            "watermark": watermark.isoformat(),
            "built_at": timezone.now().isoformat(),
            "mode": "incremental" if since is not None else "full",
            "company_currency": settings.RAPPORT_COMPANY_CURRENCY,
            "data_version": data_version,
            "small_tables_hash": small_hash,
        }
        con.executemany("INSERT OR REPLACE INTO warehouse_meta VALUES (?, ?)", list(meta.items()))
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return counts


def _transform(*, incremental: bool) -> list[tuple[str, str]]:
    """(label, SQL) of a build: TRANSFORM's statements for this kind of build, then the rollups —
    built afresh from the facts, or (incremental) their touched cells recomputed."""
    statements = [
        (label, code) for label, code, only_incremental in _statements(TRANSFORM) if incremental or not only_incremental
    ]
    if not incremental:
        return statements + rollups.build_statements(DEFAULT_REGISTRY)
    return (
        rollups.touched_create_statements(DEFAULT_REGISTRY) + statements + rollups.refresh_statements(DEFAULT_REGISTRY)
    )


_TABLE_PREFIXES = ("dim_", "fact_", "replaced_", "touched_", "source_")


def _statements(script: str) -> list[tuple[str, str, bool]]:
    """The statements of a SQL script (each ends with ``;`` at the end of a line; none has one
    inside), each with a short label for progress (its verb and table) and whether only an
    incremental refresh runs it (a comment line ``-- incremental only`` in it). A full build writes
    a new file, so its tables start empty: it has nothing to delete and no cells to touch."""
    out = []
    for statement in script.split(";\n"):
        lines = statement.splitlines()
        only_incremental = any(line.strip() == "-- incremental only" for line in lines)
        code = "\n".join(line for line in lines if not line.lstrip().startswith("--")).strip()
        if code:
            words = code.replace("(", " ").split()
            target = next((w for w in words[1:6] if w.startswith(_TABLE_PREFIXES)), "")
            out.append((f"{words[0].lower()} {target}".strip(), code, only_incremental))
    return out


def _store_id_blocks(con: duckdb.DuckDBPyConnection, ext: Extract, compare: bool) -> tuple[tuple[int, int], ...]:
    """Replace the stored id block summary of ``ext``'s model with the one just staged and stage
    ``stg_<name>_id_ranges``: the ranges of the blocks that changed between the two (when
    ``compare``; a full build reads no ids and stages none). Returns those ranges."""
    assert ext.id_blocks_of is not None
    source, staged = ext.id_blocks_of._meta.db_table, ext.table
    changed: list[tuple[int, int]] = []
    if compare:
        before, now = (
            {block: (n, int(total)) for block, n, total in con.execute(sql, params).fetchall()}
            for sql, params in (
                ("SELECT block, n, total FROM source_id_blocks WHERE source = ?", [source]),
                (f"SELECT block, n, total FROM {staged}", []),
            )
        )
        changed = changed_ranges(before, now)
    con.execute("DELETE FROM source_id_blocks WHERE source = ?", [source])
    con.execute(f"INSERT INTO source_id_blocks SELECT ?, block, n, total FROM {staged}", [source])
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {staged.removesuffix('_blocks')}_ranges AS "
        "SELECT unnest(?::BIGINT[]) AS lo, unnest(?::BIGINT[]) AS hi",
        [[lo for lo, _ in changed], [hi for _, hi in changed]],
    )
    return tuple(changed)


# Re-extracted whole on every run (with the region and channel lists): compared by content.
_WHOLE_TABLES = (
    "stg_user", "stg_team", "stg_product", "stg_rate", "stg_campaign", "channel_values", "region_values",
)  # fmt: skip


def _data_version(
    con: duckdb.DuckDBPyConnection,
    counts: dict[str, int],
    changed: dict[Any, tuple[tuple[int, int], ...]],
    watermark: dt.datetime,
    *,
    incremental: bool,
) -> tuple[str, str]:
    """``(data_version, small_tables_hash)`` for warehouse_meta. The data version changes with
    every full build and with every incremental run that changes anything: staged rows, a changed
    id block (a deletion or a new row), or other contents of the tables re-read whole. An
    incremental run that changes nothing keeps the previous version, so caches keyed by it (the
    dashboards) stay valid across the periodic refreshes of an idle database."""
    digest = hashlib.sha256()
    for table in _WHOLE_TABLES:
        digest.update(repr(con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()).encode())
    small = digest.hexdigest()
    if incremental:
        old = dict(con.execute("SELECT key, value FROM warehouse_meta").fetchall())
        # A count of -1 (a COPY that did not report one) counts as a change.
        staged = any(
            counts.get(e.table, 0) for e in EXTRACTS if e.queryset is not None and e.table not in _WHOLE_TABLES
        )
        same = old.get("small_tables_hash") == small and not staged and not any(changed.values())
        if same and old.get("data_version"):
            return old["data_version"], small
    return watermark.isoformat(), small


def _extract_workers() -> int:
    """Parallel extract connections (``RAPPORT_WAREHOUSE_EXTRACT_WORKERS``; default: the cores, at
    most 4 — each COPY keeps one PostgreSQL backend busy)."""
    configured = getattr(settings, "RAPPORT_WAREHOUSE_EXTRACT_WORKERS", None)
    return int(configured) if configured else max(1, min(4, os.cpu_count() or 1))


def _empty_staging(con: duckdb.DuckDBPyConnection, ext: Extract) -> None:
    cols = ", ".join(f"{c} {t}" for c, t in ext.columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {ext.table} ({cols})")


def _stage(con: duckdb.DuckDBPyConnection, ext: Extract, csv_path: Path) -> None:
    if csv_path.stat().st_size == 0:
        # Nothing changed: an empty table of the right shape (no file to read).
        _empty_staging(con, ext)
        return
    columns = "{" + ", ".join(f"'{c}': '{t}'" for c, t in ext.columns) + "}"
    # The dialect is fixed, never sniffed: both writers emit RFC 4180 CSV without a
    # header. An empty field reads as NULL; the transform treats NULL and '' alike.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {ext.table} AS SELECT * FROM read_csv(?, header = false, "
        f"auto_detect = false, delim = ',', quote = '\"', escape = '\"', nullstr = '', "
        f"columns = {columns})",
        [str(csv_path)],
    )
    csv_path.unlink()  # the rows are in DuckDB now: free the disk while the rest is extracted


def warehouse_connect(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the live file, for OLAP queries and the models. A file another
    schema version wrote (an upgrade; the next build replaces it) is refused, not half read."""
    path = Path(path or warehouse_path())
    if not path.exists():
        raise WarehouseMissing("the warehouse has not been built yet: run `rapport warehouse build`")
    con = duckdb.connect(str(path), read_only=True)
    # fetchall, not fetchone: a result left unfinished blocks the next statement (an export's COPY).
    rows = con.execute("SELECT value FROM warehouse_meta WHERE key = 'schema_version'").fetchall()
    row = rows[0] if rows else None
    if row is None or row[0] != str(SCHEMA_VERSION):
        con.close()
        raise WarehouseMissing(
            f"the warehouse file has schema version {row[0] if row else 'none'}, this Rapport reads "
            f"{SCHEMA_VERSION}: run `rapport warehouse build` (the periodic refresh does a full build too)"
        )
    return con


def warehouse_info(path: Path | None = None) -> dict[str, str]:
    path = Path(path or warehouse_path())
    return _read_meta(path) if path.exists() else {}
