"""Parallel extraction on PostgreSQL: several connections in one exported snapshot build exactly
what one connection does, and a row committed while they run is left for the next refresh (it is
not half in). A full build does not read the id lists an incremental refresh needs."""

from __future__ import annotations

import datetime as dt
import threading

import duckdb
import pytest
from django.db import connection
from django.utils import timezone

from rapport.activities.services import interaction_record
from rapport.insights.warehouse import warehouse_build

pytestmark = pytest.mark.django_db(transaction=True)
TABLES = ("fact_order_line", "fact_interaction", "dim_customer", "dim_date", "dim_owner", "dim_product")


def _dump(path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES}
    finally:
        con.close()


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("parallel extraction needs PostgreSQL (SQLite builds extract serially)")


def test_full_build_skips_the_id_lists_and_incremental_reads_them(sales, wh_path, rep):
    full = warehouse_build()
    assert full.extracted["stg_order_ids"] == 0 and full.extracted["stg_interaction_ids"] == 0
    assert full.extracted["stg_order"] == 3 and full.extracted["stg_interaction"] == 2
    refresh = warehouse_build(incremental=True)
    # Nothing was deleted or added: no id block changed, so no id is read.
    assert refresh.extracted["stg_order_ids"] == 0 and refresh.extracted["stg_interaction_ids"] == 0
    interaction_record(actor=rep, channel="chat", account=sales["acme"])
    refresh = warehouse_build(incremental=True)
    # The new id's block changed: its ids (at most a block) are read and compared with the facts.
    assert refresh.extracted["stg_order_ids"] == 0 and 1 <= refresh.extracted["stg_interaction_ids"] <= 3


def test_parallel_and_serial_extracts_build_the_same_warehouse(postgres_only, sales, wh_path, tmp_path, settings,
                                                                rep):
    settings.RAPPORT_WAREHOUSE_EXTRACT_WORKERS = 3
    parallel = warehouse_build(path=tmp_path / "parallel.duckdb")
    settings.RAPPORT_WAREHOUSE_EXTRACT_WORKERS = 1
    serial = warehouse_build(path=tmp_path / "serial.duckdb")
    assert parallel.extracted == serial.extracted
    assert _dump(parallel.path) == _dump(serial.path)
    interaction_record(actor=rep, channel="chat", account=sales["acme"])
    settings.RAPPORT_WAREHOUSE_EXTRACT_WORKERS = 3
    warehouse_build(path=parallel.path, incremental=True)
    settings.RAPPORT_WAREHOUSE_EXTRACT_WORKERS = 1
    warehouse_build(path=serial.path, incremental=True)
    assert _dump(parallel.path) == _dump(serial.path)
    assert len(_dump(parallel.path)["fact_interaction"]) == 3


def test_row_committed_during_a_parallel_build_waits_for_the_next_refresh(postgres_only, sales, wh_path, settings,
                                                                          rep):
    settings.RAPPORT_WAREHOUSE_EXTRACT_WORKERS = 3
    made: list[int] = []

    def commit_one_meanwhile(message: str) -> None:
        # Right after the snapshot is exported, before any extract connection has imported it.
        if made or not message.startswith("extracting on 3 connections"):
            return

        def record() -> None:  # its own thread: its own connection, committed at once
            try:
                made.append(interaction_record(actor=rep, channel="meeting", account=sales["acme"]).pk)
            finally:
                connection.close()

        writer = threading.Thread(target=record)
        writer.start()
        writer.join()

    first = warehouse_build(progress=commit_one_meanwhile)
    assert made and first.facts["fact_interaction"] == 2  # the snapshot predates it, on every connection
    ids = {row[0] for row in _dump(wh_path)["fact_interaction"]}
    assert made[0] not in ids
    second = warehouse_build(incremental=True)
    assert second.facts["fact_interaction"] == 3
    assert made[0] in {row[0] for row in _dump(wh_path)["fact_interaction"]}


def test_fact_keys_stay_unique_over_refreshes_of_the_same_rows(sales, wh_path):
    # The fact tables carry no PRIMARY KEY index: uniqueness comes from delete-then-insert. Rows
    # stamped in the future (clock skew) are staged again by every refresh.
    from rapport.activities.models import Interaction
    from rapport.commerce.models import Order

    later = timezone.now() + dt.timedelta(hours=1)
    Order.objects.filter(pk=sales["orders"][0].pk).update(updated_at=later)
    Interaction.objects.filter(pk=sales["interactions"][0].pk).update(updated_at=later)
    full = warehouse_build()
    for _ in range(3):
        refresh = warehouse_build(incremental=True)
        assert refresh.extracted["stg_line"] == 2 and refresh.extracted["stg_interaction"] == 1
        assert refresh.facts == full.facts
    con = duckdb.connect(str(wh_path), read_only=True)
    try:
        for table, key in (("fact_order_line", "line_id"), ("fact_interaction", "interaction_id")):
            total, distinct = con.execute(f"SELECT count(*), count(DISTINCT {key}) FROM {table}").fetchone()
            assert total == distinct and total > 0, table
    finally:
        con.close()


def test_deletions_anywhere_in_the_id_runs_leave_the_facts(sales, wh_path, tmp_path, rep, other_rep):
    from rapport.activities.services import interaction_delete

    more = [interaction_record(actor=rep, channel="email", account=sales["acme"]) for _ in range(5)]
    warehouse_build()
    # The first id of all, two inside and the last: i1 i2 m0 m1 m2 m3 m4 leave i2 m0 | m2.
    for gone in (sales["interactions"][0], more[1], more[3], more[4]):
        interaction_delete(actor=rep if gone.owner_id == rep.pk else other_rep, interaction=gone)
    refresh = warehouse_build(incremental=True)
    # The blocks holding the deleted ids changed: the ids left there (i2, m0, m2) are read.
    assert refresh.extracted["stg_interaction_ids"] == 3
    full = warehouse_build(path=tmp_path / "full.duckdb")
    assert _dump(wh_path) == _dump(full.path)
    assert sorted(row[0] for row in _dump(wh_path)["fact_interaction"]) == sorted(
        [sales["interactions"][1].pk, more[0].pk, more[2].pk]
    )
