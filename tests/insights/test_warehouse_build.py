"""The warehouse built from data made through the services (SQLite or PostgreSQL: whichever
DATABASE_URL selects), then refreshed incrementally."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import duckdb
import pytest
from django.core.management import call_command

from rapport.activities.services import interaction_delete, interaction_record
from rapport.analytics.olap import DEFAULT_REGISTRY, QuerySpec, run_query
from rapport.commerce.services import order_cancel
from rapport.insights.warehouse import (
    SCHEMA_VERSION,
    WarehouseMissing,
    warehouse_build,
    warehouse_connect,
    warehouse_info,
)

D = Decimal
pytestmark = pytest.mark.django_db(transaction=True)


def _rows(path, sql):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_full_build_star_schema(sales, wh_path):
    result = warehouse_build()
    assert not result.incremental
    assert result.facts["fact_order_line"] == 4
    assert result.facts["fact_interaction"] == 2
    o1 = sales["orders"][0]
    lines = _rows(
        wh_path,
        f"SELECT currency, net_amount_doc, exchange_rate, net_amount, cost_amount, region_key, date_key, "
        f"first_line FROM fact_order_line WHERE order_id = {o1.pk} ORDER BY line_id",
    )
    # Converted with the latest rate on or before 2025-03-10 (1.10), cost only where known; the
    # order's first line (lowest id) is marked, so order counts are a sum.
    assert lines == [
        ("EUR", D("100.0000"), D("1.1000000000"), D("110.0000"), D("40.0000"), "DE", 20250310, True),
        ("EUR", D("80.0000"), D("1.1000000000"), D("88.0000"), None, "DE", 20250310, False),
    ]
    assert _rows(wh_path, "SELECT name, tier, segment, country, region FROM dim_customer ORDER BY customer_key") == [
        ("(no account)", "none", "unknown", "", "Unknown"),
        ("Acme GmbH", "gold", "enterprise", "DE", "Europe"),
        ("Bolt Inc", "iron", "small business", "US", "North America"),
    ]
    assert _rows(wh_path, "SELECT min(date), max(date), count(*) FROM dim_date") == [
        (dt.date(2024, 11, 5), dt.date(2025, 7, 2), 240)
    ]
    con = warehouse_connect()
    res = run_query(
        con, QuerySpec.from_dict({"measures": ["revenue", "order_count"], "dimensions": ["date.year", "region.region"]})
    )
    assert res.rows == [(2024, "North America", D(180), 1), (2025, "Europe", D(258), 2)]
    margin = run_query(con, QuerySpec.from_dict({"measures": ["margin"], "dimensions": ["product.product"]}))
    # Widget: 110 + 60 revenue − 40 − 20 cost; Set-up has no cost, so no margin.
    assert margin.rows == [("S-1", None), ("W-1", D(110))]
    inter = run_query(
        con, QuerySpec.from_dict({"measures": ["interactions"], "dimensions": ["channel.channel", "owner.team"]})
    )
    assert [r[0] for r in inter.rows] == ["email", "phone"]
    assert warehouse_info()["mode"] == "full"


def test_incremental_picks_up_changed_order_new_and_deleted_interaction(sales, wh_path, rep, other_rep):
    first = warehouse_build()
    o1, _o2, _o3 = sales["orders"]
    i1, i2 = sales["interactions"]
    o1.refresh_from_db()
    order_cancel(actor=rep, order=o1, expected_version=o1.version)
    interaction_delete(actor=other_rep, interaction=i2)
    i3 = interaction_record(actor=rep, channel="meeting", account=sales["acme"], subject="Visit")
    result = warehouse_build(incremental=True)
    assert result.incremental and result.watermark > first.watermark
    # Only the changed rows were extracted (the cancelled order's two lines, one interaction).
    assert result.extracted["stg_order"] == 1 and result.extracted["stg_line"] == 2
    assert result.extracted["stg_interaction"] == 1
    assert _rows(wh_path, "SELECT DISTINCT order_id FROM fact_order_line ORDER BY 1") == [
        (sales["orders"][1].pk,),
        (sales["orders"][2].pk,),
    ]
    assert _rows(wh_path, "SELECT interaction_id, channel_key FROM fact_interaction ORDER BY 1") == [
        (i1.pk, "email"),
        (i3.pk, "meeting"),
    ]
    assert warehouse_info()["mode"] == "incremental"
    # Nothing changed: a second refresh extracts nothing and changes nothing.
    again = warehouse_build(incremental=True)
    assert again.extracted["stg_order"] == 0 and again.facts == result.facts


def test_incremental_equals_full_build(sales, wh_path, tmp_path, rep, other_rep):
    warehouse_build()
    o1 = sales["orders"][0]
    o1.refresh_from_db()
    order_cancel(actor=rep, order=o1, expected_version=o1.version)  # Acme's March goes empty
    interaction_delete(actor=other_rep, interaction=sales["interactions"][1])
    interaction_record(actor=rep, channel="chat", account=sales["acme"])
    interaction_record(actor=other_rep, channel="phone", account=sales["bolt"])
    result = warehouse_build(incremental=True)
    full = tmp_path / "full.duckdb"
    warehouse_build(path=full)
    tables = ["fact_order_line", "fact_interaction", "dim_customer", "dim_date"]
    tables += [r.table for r in DEFAULT_REGISTRY.rollups]
    for table in tables:
        sql = f"SELECT * FROM {table} ORDER BY ALL"
        assert _rows(wh_path, sql) == _rows(full, sql), table
    # The refresh did change the rollups (a comparison of two unchanged files proves nothing).
    assert result.incremental
    assert _rows(wh_path, "SELECT sum(orders) FROM rollup_order_line_all") == [(2,)]
    assert _rows(wh_path, "SELECT sum(interactions) FROM rollup_interaction_month") == [(3,)]


def test_swapped_file_is_always_consistent(sales, wh_path, rep):
    """Readers opening the file while builds run see either the old or the new complete file."""
    warehouse_build()
    seen: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                con = duckdb.connect(str(wh_path), read_only=True)
                seen.append(
                    con.execute(
                        "SELECT (SELECT count(*) FROM fact_interaction), (SELECT count(*) FROM dim_date)"
                    ).fetchone()
                )
                con.close()
            except duckdb.IOException:
                continue  # the rename raced the open; retry
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(3):
            interaction_record(actor=rep, channel="sms", account=sales["acme"])
            warehouse_build(incremental=True)
    finally:
        stop.set()
        reader.join()
    assert not errors
    assert seen and {n for n, _days in seen} <= {2, 3, 4, 5}
    assert not list(wh_path.parent.glob("*.building*"))


def test_management_command(sales, wh_path, capsys):
    call_command("rapport_warehouse", "build")
    call_command("rapport_warehouse", "build", "--incremental")
    out = capsys.readouterr().out
    assert "full build" in out and "incremental refresh" in out
    call_command("rapport_warehouse", "info")
    assert f"schema_version: {SCHEMA_VERSION}" in capsys.readouterr().out


def test_rapport_cli_routes_warehouse(monkeypatch):
    from rapport import cli

    calls: list[list[str]] = []
    monkeypatch.setattr(cli, "_manage", lambda argv: calls.append(argv))
    cli.main(["warehouse", "build", "--incremental"])
    assert calls == [["rapport_warehouse", "build", "--incremental"]]


def test_periodic_refresh_is_scheduled(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["warehouse-refresh"]
    from rapport.insights.tasks import warehouse_build_task

    assert entry["task"] == warehouse_build_task.name and entry["kwargs"] == {"incremental": True}


def test_task_refreshes(sales, wh_path):
    from rapport.insights.tasks import warehouse_build_task

    # No file yet: the incremental task falls back to a full build.
    assert warehouse_build_task.delay().get()["fact_order_line"] == 4
    assert warehouse_info()["mode"] == "full"
    assert warehouse_build_task.delay().get()["fact_interaction"] == 2
    assert warehouse_info()["mode"] == "incremental"


def test_a_file_of_another_schema_version_is_refused_until_rebuilt(sales, wh_path):
    warehouse_build()
    con = duckdb.connect(str(wh_path))
    con.execute("UPDATE warehouse_meta SET value = '2' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(WarehouseMissing, match="schema version 2.*rapport warehouse build"):
        warehouse_connect()
    # The periodic (incremental) refresh sees the old version and builds afresh.
    assert not warehouse_build(incremental=True).incremental
    warehouse_connect().close()
