"""The streaming record reader: CSV bytes in, one ``Record`` per data row out, never stuck.

Why not ``csv.reader`` over the file: one unbalanced quote makes it swallow the rest of the
file into one field, and a file with no newline is read into memory whole. Here:

* physical lines come from ``readline(limit)``, so no line costs more than ``limit``
  characters of memory; the rest of an over-long line is read in chunks and dropped, and its
  record is rejected ("too large") with its line number;
* a record is one physical line, or several while the count of ``"`` so far is odd (a quoted
  field with line breaks). If the quote is still open after ``max_record_lines`` lines or
  ``max_record_chars`` characters (or at the end of the file), the record's first line is
  rejected as "unbalanced quote" and reading resumes at the line after it (the lines read
  ahead are pushed back), so one stray quote costs one row;
* bytes the encoding cannot decode are marked (``\\udcXX``) by an error handler instead of
  raising; a record holding such a mark is rejected naming the column and the bytes;
* a record with more or fewer cells than the header is rejected ("ragged"), the rest go on.

Memory is bounded by ``max_record_lines``/``max_record_chars`` whatever the file.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from rapport.parties.imports.errors import ImportFileError, RowError

MAX_RECORD_CHARS = 1024 * 1024
MAX_RECORD_LINES = 200
RAW_EXCERPT = 500

_MARK_HANDLER = "rapport-import-mark"
_BAD = re.compile("[\udc00-\udcff]")


def _mark_undecodable(exc: UnicodeError) -> tuple[str, int]:
    """Replace each undecodable byte by U+DC00+byte (like surrogateescape, for every byte value)."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return "".join(chr(0xDC00 + b) for b in bad), exc.end


codecs.register_error(_MARK_HANDLER, _mark_undecodable)
# A field may legitimately be long (notes); the record limit above is the real bound.
csv.field_size_limit(max(csv.field_size_limit(), MAX_RECORD_CHARS + 1))


def show_bad_bytes(text: str) -> str:
    """Render marked bytes as ``\\xNN`` for error reports."""
    return _BAD.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", text)


@dataclass(slots=True)
class Record:
    """One data row: ``cells`` (as many as the header) or ``error``; ``line`` is where it starts."""

    line: int
    cells: list[str] | None
    raw: str
    error: RowError | None = None


@dataclass(slots=True)
class _Line:
    number: int
    text: str
    quotes: int
    oversize: bool


class TextLines:
    """Physical lines of a binary stream, decoded, each at most ``limit`` characters kept."""

    def __init__(self, stream: BinaryIO, *, encoding: str, limit: int = MAX_RECORD_CHARS) -> None:
        import io

        self._raw = stream
        # newline="" keeps "\r\n" inside quoted fields as written; readline splits on any ending.
        self._text = io.TextIOWrapper(stream, encoding=encoding, errors=_MARK_HANDLER, newline="")  # type: ignore[arg-type]
        self._limit = limit
        self.number = 0

    @property
    def bytes_read(self) -> int:
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return 0

    def next(self) -> _Line | None:
        text = self._text.readline(self._limit)
        if not text:
            return None
        self.number += 1
        if self.number == 1 and text.startswith("\ufeff"):
            text = text[1:]
        quotes = text.count('"')
        oversize = False
        if len(text) >= self._limit and not text.endswith(("\n", "\r")):
            # Drop the rest of this physical line chunk by chunk, still counting its quotes.
            oversize = True
            while True:
                more = self._text.readline(self._limit)
                if not more:
                    break
                quotes += more.count('"')
                if more.endswith(("\n", "\r")):
                    break
            text = text[:RAW_EXCERPT]
        return _Line(self.number, text, quotes, oversize)

    def detach(self) -> None:
        """Leave the underlying stream open (the caller owns it)."""
        self._text.detach()


class CsvRecordReader:
    """Iterate ``Record``s of a CSV stream; ``header`` is read on construction.

    Raises ``ImportFileError`` when there is no header (empty file) or it cannot be read.
    """

    def __init__(
        self,
        stream: BinaryIO,
        *,
        encoding: str,
        delimiter: str,
        max_record_chars: int = MAX_RECORD_CHARS,
        max_record_lines: int = MAX_RECORD_LINES,
    ) -> None:
        self.delimiter = delimiter or ","
        self.encoding = encoding
        self._lines = TextLines(stream, encoding=encoding, limit=max_record_chars)
        self._max_chars = max_record_chars
        self._max_lines = max_record_lines
        self._pending: deque[_Line] = deque()
        self.header = self._read_header()

    @property
    def bytes_read(self) -> int:
        return self._lines.bytes_read

    def _take(self) -> _Line | None:
        return self._pending.popleft() if self._pending else self._lines.next()

    def _read_header(self) -> list[str]:
        for record in self._records():
            if record.error is not None:
                raise ImportFileError(f"The header (line {record.line}) cannot be read: {record.error.reason}")
            names: list[str] = []
            for index, cell in enumerate(record.cells or []):
                name = cell.strip() or f"Column {index + 1}"
                unique, n = name, 2
                while unique in names:
                    unique, n = f"{name} ({n})", n + 1
                names.append(unique)
            if not any(c.strip() for c in record.cells or []):
                continue
            return names
        raise ImportFileError("The file is empty: there is no header line.")

    def __iter__(self) -> Iterator[Record]:
        width = len(self.header)
        for record in self._records():
            if record.error is None and len(record.cells) != width:  # type: ignore[arg-type]
                found = len(record.cells)  # type: ignore[arg-type]
                record.error = RowError(
                    record.line,
                    "",
                    f"The row has {found} cells but the header has {width}.",
                    record.raw[:RAW_EXCERPT],
                )
                record.cells = None
            yield record

    def _records(self) -> Iterator[Record]:
        while True:
            first = self._take()
            if first is None:
                return
            if not first.oversize and not first.text.strip():
                continue
            parts = [first]
            quotes, size, oversize = first.quotes, len(first.text), first.oversize
            gave_up = False
            while quotes % 2:
                nxt = None if (len(parts) >= self._max_lines or size > self._max_chars) else self._take()
                if nxt is None:
                    gave_up = True
                    break
                parts.append(nxt)
                quotes += nxt.quotes
                size += len(nxt.text)
                oversize = oversize or nxt.oversize
            if gave_up:
                self._pending.extendleft(reversed(parts[1:]))
                yield Record(
                    first.number,
                    None,
                    first.text,
                    RowError(
                        first.number,
                        "",
                        "Unbalanced quote: a quoted field opened on this line is not closed "
                        f"within {self._max_lines} lines; the line was skipped.",
                        show_bad_bytes(first.text[:RAW_EXCERPT]),
                    ),
                )
                continue
            text = parts[0].text if len(parts) == 1 else "".join(p.text for p in parts)
            if oversize or size > self._max_chars:
                yield Record(
                    first.number,
                    None,
                    text[:RAW_EXCERPT],
                    RowError(
                        first.number,
                        "",
                        f"The row is larger than {self._max_chars // 1024} KiB; it was skipped.",
                        show_bad_bytes(text[:RAW_EXCERPT]),
                    ),
                )
                continue
            yield self._parse(first.number, text)

    def _parse(self, line: int, text: str) -> Record:
        if '"' not in text:
            cells = text.rstrip("\r\n").split(self.delimiter)
        else:
            try:
                cells = next(csv.reader((text,), delimiter=self.delimiter, strict=True))
            except (csv.Error, StopIteration) as exc:
                return Record(line, None, text, RowError(line, "", f"Malformed CSV: {exc}.", text[:RAW_EXCERPT]))
        if "\x00" in text:
            return Record(line, None, text, RowError(line, "", "The row contains NUL bytes.", ""))
        if _BAD.search(text):
            header = getattr(self, "header", None) or []
            index = next(i for i, cell in enumerate(cells) if _BAD.search(cell))
            column = header[index] if index < len(header) else f"Column {index + 1}"
            return Record(
                line,
                None,
                text,
                RowError(
                    line,
                    column,
                    f"Bytes that are not valid {self.encoding}: {show_bad_bytes(cells[index])[:100]}",
                    show_bad_bytes(text[:RAW_EXCERPT]),
                ),
            )
        return Record(line, cells, text)
