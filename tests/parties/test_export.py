"""Exports: CSV escaping, vCard, Parquet, filters, and only readable rows, streamed in batches."""

from __future__ import annotations

import csv
import io

import pyarrow.parquet as pq
import pytest
import vobject

from rapport.core.errors import ValidationFailed
from rapport.parties import export as export_module
from rapport.parties.export import escape_cell, export_stream
from rapport.parties.services import account_create, contact_create


def body(export) -> bytes:
    return b"".join(export.chunks)


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        (None, ""),
    ],
)
def test_escape_cell(raw, escaped):
    assert escape_cell(raw) == escaped


def test_csv_export_escapes_formulas_and_lists_only_readable_rows(rep, other_rep):
    # given a contact of the rep with a formula in the title and one of another team
    contact_create(actor=rep, data={"first_name": '=HYPERLINK("x")', "title": "@evil", "emails": ["a@example.com"]})
    contact_create(actor=other_rep, data={"first_name": "Hidden"})
    # when the rep exports
    rows = list(
        csv.DictReader(
            io.StringIO(body(export_stream(actor=rep, kind="contacts", fmt="csv", params={})).decode("utf-8-sig"))
        )
    )
    # then one row, escaped
    assert [(r["first_name"], r["title"], r["email"]) for r in rows] == [
        ('\'=HYPERLINK("x")', "'@evil", "a@example.com")
    ]


def test_export_filters_like_the_list(rep):
    contact_create(actor=rep, data={"first_name": "Cust", "lifecycle_stage": "customer"})
    contact_create(actor=rep, data={"first_name": "Pros", "lifecycle_stage": "prospect"})
    text = body(export_stream(actor=rep, kind="contacts", fmt="csv", params={"lifecycle_stage": "customer"}))
    assert [r["first_name"] for r in csv.DictReader(io.StringIO(text.decode("utf-8-sig")))] == ["Cust"]


def test_export_is_batched_by_keyset(rep, monkeypatch):
    # given 5 contacts and a batch size of 2
    monkeypatch.setattr(export_module, "EXPORT_BATCH", 2)
    for i in range(5):
        contact_create(actor=rep, data={"first_name": f"P{i}"})
    # when exported
    chunks = list(export_stream(actor=rep, kind="contacts", fmt="csv", params={}).chunks)
    # then header + 3 batches, every contact once, in id order
    text = b"".join(chunks).decode("utf-8-sig")
    assert len(chunks) == 4
    assert [r["first_name"] for r in csv.DictReader(io.StringIO(text))] == ["P0", "P1", "P2", "P3", "P4"]


def test_vcard_export_round_trips_through_vobject(rep):
    acme = account_create(actor=rep, data={"name": "Acme, Inc"})
    contact_create(
        actor=rep,
        data={
            "first_name": "Jane",
            "last_name": "Doe",
            "emails": ["jane@example.com", "j@x.org"],
            "phones": ["+14155550100"],
            "account_id": acme.pk,
            "birthday": "1980-01-15",
        },
    )
    cards = list(
        vobject.readComponents(body(export_stream(actor=rep, kind="contacts", fmt="vcard", params={})).decode())
    )
    card = cards[0]
    assert (card.fn.value, card.n.value.family, card.org.value, card.bday.value) == (
        "Jane Doe",
        "Doe",
        ["Acme, Inc"],
        "1980-01-15",
    )
    assert [e.value for e in card.contents["email"]] == ["jane@example.com", "j@x.org"]
    assert card.tel.value == "+14155550100"


def test_parquet_export(rep):
    account_create(actor=rep, data={"name": "Acme", "domain": "acme.com"})
    account_create(actor=rep, data={"name": "Globex"})
    table = pq.read_table(io.BytesIO(body(export_stream(actor=rep, kind="accounts", fmt="parquet", params={}))))
    assert table.column("name").to_pylist() == ["Acme", "Globex"]
    assert table.column("domain").to_pylist() == ["acme.com", ""]


def test_export_refuses_bad_input_before_streaming(rep, analyst):
    with pytest.raises(ValidationFailed):
        export_stream(actor=rep, kind="contacts", fmt="xlsx", params={})
    with pytest.raises(ValidationFailed):
        export_stream(actor=rep, kind="contacts", fmt="csv", params={"owner_id": "abc"})


def test_export_then_import_round_trip_is_unchanged(rep, tmp_path, settings):
    from rapport.parties.imports.services import import_job_configure, import_job_create, import_run

    settings.RAPPORT_IMPORT_DIR = tmp_path / "imports"
    contact_create(actor=rep, data={"first_name": "Ada", "last_name": "L", "emails": ["ada@example.com"]})
    path = tmp_path / "out.csv"
    path.write_bytes(body(export_stream(actor=rep, kind="contacts", fmt="csv", params={})))
    job = import_job_create(actor=rep, kind="contacts", path=path)
    import_job_configure(
        actor=rep,
        job=job,
        mapping={"first_name": "first_name", "last_name": "last_name", "email": "email"},
        match_key="email",
        mode="upsert",
    )
    job = import_run(job_id=job.pk)
    assert (job.unchanged_count, job.created_count, job.updated_count) == (1, 0, 0)
