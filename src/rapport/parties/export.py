"""Export of contact and account lists to CSV, vCard 3.0 and Parquet, streamed in batches.

The rows are exactly those of the list pages (``selectors.contact_list``/``account_list``
with the same filters), so an export never holds a row the actor may not read. Rows are read
by keyset on the primary key (``id > last`` … ``LIMIT n``), ``EXPORT_BATCH`` at a time, and
each batch is encoded and handed on before the next is read: memory is constant at any size.

CSV cells that a spreadsheet would run as a formula (leading ``= + - @``, tab or CR) get a
leading single quote (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from rapport.core.custom_fields import custom_field_definitions
from rapport.core.errors import ValidationFailed
from rapport.core.models import User
from rapport.parties.models import Account, Contact
from rapport.parties.selectors import account_filters_from, account_list, contact_filters_from, contact_list

EXPORT_BATCH = 2000
FORMATS = ("csv", "vcard", "parquet")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: Any) -> str:
    """The cell as text, with a leading ``'`` when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


@dataclass(frozen=True)
class ExportFile:
    chunks: Iterator[bytes]
    content_type: str
    filename: str


def _batches(queryset: QuerySet[Any], prefetch: tuple[str, ...]) -> Iterator[list[Any]]:
    last = 0
    while True:
        rows = list(queryset.filter(pk__gt=last).order_by("pk").prefetch_related(*prefetch)[:EXPORT_BATCH])
        if not rows:
            return
        yield rows
        last = rows[-1].pk
        if len(rows) < EXPORT_BATCH:
            return


def _contact_record(c: Contact, custom_keys: list[str]) -> dict[str, Any]:
    return {
        "id": c.pk,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "email": c.email,
        "other_emails": "; ".join(e.email for e in c.emails.all() if e.email != c.email),
        "phone": c.phone,
        "other_phones": "; ".join(p.number for p in c.phones.all() if p.number != c.phone),
        "title": c.title,
        "company": c.account.name if c.account_id else "",
        "birthday": c.birthday.isoformat() if c.birthday else "",
        "lifecycle_stage": c.lifecycle_stage,
        "source": c.source,
        "external_id": c.external_id,
        "tags": "; ".join(sorted(t.name for t in c.tags.all())),
        "owner": c.owner.username if c.owner_id else "",
        "created_at": c.created_at.isoformat(),
        "updated_at": c.updated_at.isoformat(),
        **{f"custom.{k}": c.custom.get(k, "") for k in custom_keys},
    }


def _account_record(a: Account, custom_keys: list[str]) -> dict[str, Any]:
    return {
        "id": a.pk,
        "name": a.name,
        "domain": a.domain,
        "website": a.website,
        "industry": a.industry,
        "size": a.size,
        "annual_revenue": str(a.annual_revenue) if a.annual_revenue is not None else "",
        "currency": a.currency,
        "phone": a.phone,
        "tier": a.tier,
        "external_id": a.external_id,
        "tags": "; ".join(sorted(t.name for t in a.tags.all())),
        "owner": a.owner.username if a.owner_id else "",
        "created_at": a.created_at.isoformat(),
        "updated_at": a.updated_at.isoformat(),
        **{f"custom.{k}": a.custom.get(k, "") for k in custom_keys},
    }


def _csv_chunks(batches: Iterator[list[dict[str, Any]]], columns: list[str]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8
    for batch in batches:
        buffer.seek(0)
        buffer.truncate()
        for record in batch:
            writer.writerow([escape_cell(record[c]) for c in columns])
        yield buffer.getvalue().encode("utf-8")


def _vcard_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\n", "\\n")


def _vcard_contact(r: dict[str, Any]) -> str:
    e = _vcard_escape
    full = " ".join(p for p in (r["first_name"], r["last_name"]) if p) or r["email"] or f"#{r['id']}"
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"N:{e(r['last_name'])};{e(r['first_name'])};;;", f"FN:{e(full)}"]
    emails = [r["email"], *[x for x in r["other_emails"].split("; ") if x]]
    lines += [f"EMAIL;TYPE=INTERNET{',PREF' if i == 0 else ''}:{x}" for i, x in enumerate(emails) if x]
    phones = [r["phone"], *[x for x in r["other_phones"].split("; ") if x]]
    lines += [f"TEL{';TYPE=PREF' if i == 0 else ''}:{x}" for i, x in enumerate(phones) if x]
    if r["company"]:
        lines.append(f"ORG:{e(r['company'])}")
    if r["title"]:
        lines.append(f"TITLE:{e(r['title'])}")
    if r["birthday"]:
        lines.append(f"BDAY:{r['birthday']}")
    lines += [f"UID:rapport-contact-{r['id']}", "END:VCARD"]
    return "\r\n".join(lines) + "\r\n"


def _vcard_account(r: dict[str, Any]) -> str:
    e = _vcard_escape
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"N:{e(r['name'])};;;;", f"FN:{e(r['name'])}", f"ORG:{e(r['name'])}"]
    if r["phone"]:
        lines.append(f"TEL;TYPE=WORK:{r['phone']}")
    if r["website"]:
        lines.append(f"URL:{r['website']}")
    lines += ["X-ABShowAs:COMPANY", f"UID:rapport-account-{r['id']}", "END:VCARD"]
    return "\r\n".join(lines) + "\r\n"


def _vcard_chunks(batches: Iterator[list[dict[str, Any]]], card: Callable[[dict[str, Any]], str]) -> Iterator[bytes]:
    for batch in batches:
        yield "".join(card(r) for r in batch).encode("utf-8")


class _Sink(io.RawIOBase):
    """A write-only file that hands its bytes on instead of keeping them (Parquet streaming)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.parts.append(chunk)
        self.position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.position

    def take(self) -> bytes:
        out, self.parts = b"".join(self.parts), []
        return out


def _parquet_chunks(batches: Iterator[list[dict[str, Any]]], columns: list[str]) -> Iterator[bytes]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(c, pa.int64() if c == "id" else pa.string()) for c in columns])
    sink = _Sink()
    writer = pq.ParquetWriter(sink, schema, compression="zstd")
    for batch in batches:
        arrays = [
            pa.array([r[c] for r in batch], type=pa.int64())
            if c == "id"
            else pa.array(["" if r[c] is None else str(r[c]) for r in batch], type=pa.string())
            for c in columns
        ]
        writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
        yield sink.take()
    writer.close()
    yield sink.take()


def export_stream(*, actor: User, kind: str, fmt: str, params: Mapping[str, Any]) -> ExportFile:
    """The export of ``kind`` (contacts|accounts) in ``fmt``, filtered like the list page.

    Filters are checked (and the actor's read permission) before the first byte is produced,
    so a bad request fails cleanly rather than half-way through a download.
    """
    if fmt not in FORMATS:
        raise ValidationFailed("Unknown export format.", field_errors={"format": [f"Use one of {', '.join(FORMATS)}."]})
    if kind == "contacts":
        qs: QuerySet[Any] = contact_list(actor=actor, filters=contact_filters_from(params, strict=True))
        model: type[Contact] | type[Account] = Contact
        prefetch: tuple[str, ...] = ("emails", "phones", "tags")
        to_record: Callable[[Any, list[str]], dict[str, Any]] = _contact_record
        card = _vcard_contact
    elif kind == "accounts":
        qs = account_list(actor=actor, filters=account_filters_from(params, strict=True))
        model, prefetch, to_record, card = Account, ("tags",), _account_record, _vcard_account
    else:
        raise ValidationFailed("Unknown export kind.", field_errors={"kind": ["Use contacts or accounts."]})
    custom_keys = [d.key for d in custom_field_definitions(model)]
    sample = Contact(pk=0) if model is Contact else Account(pk=0)
    columns = list(to_record(sample, custom_keys))

    def records() -> Iterator[list[dict[str, Any]]]:
        for rows in _batches(qs, prefetch):
            yield [to_record(row, custom_keys) for row in rows]

    if fmt == "csv":
        return ExportFile(_csv_chunks(records(), columns), "text/csv; charset=utf-8", f"{kind}.csv")
    if fmt == "vcard":
        return ExportFile(_vcard_chunks(records(), card), "text/vcard; charset=utf-8", f"{kind}.vcf")
    return ExportFile(_parquet_chunks(records(), columns), "application/vnd.apache.parquet", f"{kind}.parquet")
