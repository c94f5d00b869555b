"""vCard 3.0 / 4.0 files as rows with fixed column names, so mapping treats them like CSV.

Cards are split by ``BEGIN:VCARD``/``END:VCARD`` lines here (with their line numbers, and a
bound on size) and each is parsed alone with ``vobject``: a broken card is rejected with its
first line number and the others still import. ``PHOTO``/``LOGO``/``SOUND`` lines (base64
blobs) are dropped before parsing; Rapport does not store them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, BinaryIO

import vobject

from rapport.parties.imports.errors import ImportFileError, RowError
from rapport.parties.imports.records import MAX_RECORD_CHARS, RAW_EXCERPT, Record, TextLines

VCARD_HEADERS = [
    "First Name",
    "Last Name",
    "Full Name",
    "Email",
    "Email 2",
    "Email 3",
    "Phone",
    "Phone 2",
    "Phone 3",
    "Company",
    "Job Title",
    "Birthday",
    "UID",
    "Note",
]
_BLOBS = ("PHOTO", "LOGO", "SOUND", "KEY")


class VCardReader:
    def __init__(self, stream: BinaryIO, *, encoding: str, max_record_chars: int = MAX_RECORD_CHARS) -> None:
        self._lines = TextLines(stream, encoding=encoding, limit=max_record_chars)
        self._max = max_record_chars
        self.header = list(VCARD_HEADERS)
        self.delimiter = ""

    @property
    def bytes_read(self) -> int:
        return self._lines.bytes_read

    def __iter__(self) -> Iterator[Record]:
        card: list[str] | None = None
        start = 0
        size = 0
        skipping_blob = False
        seen_any = False
        while True:
            line = self._lines.next()
            if line is None:
                break
            text = line.text.rstrip("\r\n")
            upper = text.upper()
            if card is None:
                if upper.strip() == "BEGIN:VCARD":
                    card, start, size, skipping_blob = [text], line.number, len(text), False
                    seen_any = True
                elif text.strip():
                    yield _error(line.number, "Text outside a BEGIN:VCARD … END:VCARD block was skipped.", text)
                continue
            if text[:1] in (" ", "\t"):
                if not skipping_blob:
                    card.append(text)
                    size += len(text)
            else:
                skipping_blob = upper.split(";", 1)[0].split(":", 1)[0] in _BLOBS
                if not skipping_blob:
                    card.append(text)
                    size += len(text)
            if line.oversize or size > self._max:
                card = None
                yield _error(start, f"The card is larger than {self._max // 1024} KiB; it was skipped.", "")
                continue
            if upper.strip() == "END:VCARD":
                yield _parse_card(start, "\r\n".join(card) + "\r\n")
                card = None
        if card is not None:
            yield _error(start, "The card has no END:VCARD line.", "\n".join(card))
        if not seen_any:
            raise ImportFileError("The file contains no vCard (no BEGIN:VCARD line).")


def _error(line: int, reason: str, raw: str) -> Record:
    return Record(line, None, raw[:RAW_EXCERPT], RowError(line, "", reason, raw[:RAW_EXCERPT]))


def _values(card: Any, name: str) -> list[Any]:
    return list(card.contents.get(name, []))


def _is_preferred(item: Any) -> bool:
    types = [str(t).lower() for t in item.params.get("TYPE", [])]
    return "pref" in types or bool(item.params.get("PREF"))


def _ordered(items: list[Any]) -> list[str]:
    ranked = sorted(items, key=lambda i: not _is_preferred(i))
    out = []
    for item in ranked:
        value = str(item.value or "").strip()
        if value.lower().startswith("tel:"):
            value = value[4:]
        if value.lower().startswith("mailto:"):
            value = value[7:]
        if value:
            out.append(value)
    return out


def _birthday(card: Any) -> str:
    items = _values(card, "bday")
    if not items:
        return ""
    value = items[0].value
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if len(text) == 8 and text.isdigit():  # vCard 4.0 basic format 19800115
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return text[:10] if len(text) >= 10 and text[4] == "-" else text


def _parse_card(line: int, text: str) -> Record:
    try:
        card = vobject.readOne(text, ignoreUnreadable=True)
    except Exception as exc:  # vobject raises many types (ParseError, ValueError, …) on bad input
        return _error(line, f"The card cannot be read: {exc}", text)
    first = last = ""
    names = _values(card, "n")
    if names:
        n = names[0].value
        first = " ".join(filter(None, [str(getattr(n, "given", "") or "")])).strip()
        last = str(getattr(n, "family", "") or "").strip()
        if isinstance(n, str):
            parts = n.split(";")
            last, first = (parts + ["", ""])[:2]
    full = str(_values(card, "fn")[0].value).strip() if _values(card, "fn") else ""
    emails = _ordered(_values(card, "email"))
    phones = _ordered(_values(card, "tel"))
    org = ""
    if _values(card, "org"):
        value = _values(card, "org")[0].value
        org = (value[0] if isinstance(value, list) and value else str(value or "")).strip()
    title = str(_values(card, "title")[0].value).strip() if _values(card, "title") else ""
    uid = str(_values(card, "uid")[0].value).strip() if _values(card, "uid") else ""
    note = str(_values(card, "note")[0].value).strip() if _values(card, "note") else ""
    cells = [
        first,
        last,
        full,
        *(emails + ["", "", ""])[:3],
        *(phones + ["", "", ""])[:3],
        org,
        title,
        _birthday(card),
        uid,
        note,
    ]
    return Record(line, cells, text[:RAW_EXCERPT])
