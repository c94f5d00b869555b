"""Detect a file's encoding, CSV delimiter and format (plain CSV, Google, Outlook, vCard).

Only the head of the file is read (``SNIFF_BYTES``), so detection costs the same for any size.
Decisions, in order:

* empty (or whitespace only) → ``ImportFileError``;
* a byte-order mark decides the encoding (UTF-8, UTF-16 LE/BE);
* NUL bytes or many control characters without a UTF-16 BOM → binary → ``ImportFileError``;
* strict UTF-8 decoding of the head succeeds → ``utf-8``; else ``cp1252`` (a superset of
  Latin-1 for printable text; the five bytes cp1252 leaves undefined are reported per line);
* ``BEGIN:VCARD`` first → vCard; else the delimiter among ``, ; TAB |`` that splits the first
  lines into the most, equally many, cells (quotes respected).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

from rapport.parties.imports.errors import ImportFileError

SNIFF_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class Sniffed:
    encoding: str
    delimiter: str
    file_format: str  # "csv" or "vcard"; mapping refines csv into "google"/"outlook"


def sniff_file(path: str | Path, *, encoding: str = "", delimiter: str = "") -> Sniffed:
    """Detect how to read ``path``; explicit ``encoding``/``delimiter`` win over detection."""
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    return sniff_bytes(head, encoding=encoding, delimiter=delimiter)


def sniff_bytes(head: bytes, *, encoding: str = "", delimiter: str = "") -> Sniffed:
    if not head.strip():
        raise ImportFileError("The file is empty.")
    detected = _encoding(head)
    encoding = encoding or detected
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ImportFileError(f"Unknown encoding {encoding!r}.") from None
    text = head.decode(encoding, errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    if text.lstrip()[:11].upper() == "BEGIN:VCARD":
        return Sniffed(encoding=encoding, delimiter="", file_format="vcard")
    return Sniffed(encoding=encoding, delimiter=delimiter or _delimiter(text), file_format="csv")


def _encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    # Text files never contain NUL; executables, images and archives nearly always do.
    if b"\x00" in head or len(_CONTROL.findall(head)) > max(8, len(head) // 100):
        raise ImportFileError(
            "This is not a text file (it contains binary data). Export CSV or vCard and upload that instead."
        )
    # The head may end inside a multi-byte character: ignore the last three bytes' errors.
    text = head[:-3].decode("utf-8", errors="replace") + head[-3:].decode("utf-8", errors="ignore")
    invalid = text.count("\ufffd")
    if not invalid:
        return "utf-8"
    # Mostly valid multi-byte UTF-8 with a few stray bytes is UTF-8 (the stray rows are reported);
    # otherwise it is a legacy 8-bit file, in practice cp1252/Latin-1.
    multibyte = sum(1 for c in text if ord(c) > 127 and c != "\ufffd")
    return "utf-8" if multibyte > invalid else "cp1252"


def _delimiter(text: str) -> str:
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if not lines:
        return ","
    best, best_score = ",", -1.0
    for candidate in DELIMITERS:
        counts = [_count_outside_quotes(line, candidate) for line in lines]
        header = counts[0]
        if header == 0:
            continue
        consistent = sum(1 for c in counts if c == header) / len(counts)
        score = consistent * 1000 + header
        if score > best_score:
            best, best_score = candidate, score
    return best


def _count_outside_quotes(line: str, char: str) -> int:
    if '"' not in line:
        return line.count(char)
    count, quoted = 0, False
    for c in line:
        if c == '"':
            quoted = not quoted
        elif c == char and not quoted:
            count += 1
    return count
