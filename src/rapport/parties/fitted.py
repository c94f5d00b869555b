"""The identity matcher each kind of party is scored with: the last scan's fit, else the built-in prior.

The duplicate scan (``identity_batch.dedupe_run``) stores what it fitted with ``matcher_store``;
the create-time check and imports read it with ``current_matcher``. One row per kind
(``FittedMatcher``), replaced by each scan.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.db import connection
from django.utils import timezone

from rapport.analytics.resolve import Matcher, default_matcher
from rapport.parties.models import FittedMatcher

CONTACT = "contact"
TABLES = {CONTACT: "parties_contact"}
SIZE_TTL = 300.0  # seconds a table-size estimate is reused: λ moves with the size, slowly
_cache_lock = threading.Lock()
_cache: dict[str, tuple[Any, Matcher]] = {}
_sizes: dict[str, tuple[float, int]] = {}


def table_size(kind: str = CONTACT) -> int:
    """About how many rows the table of ``kind`` has (PostgreSQL's planner estimate; SQLite counts).

    Remembered for ``SIZE_TTL`` seconds per process: it only rescales ``λ``, where ten per cent
    is a seventh of a bit.
    """
    now = time.monotonic()
    known = _sizes.get(kind)
    if known is not None and now - known[0] < SIZE_TTL:
        return known[1]
    table = TABLES[kind]
    with connection.cursor() as cursor:
        size = -1
        if connection.vendor == "postgresql":
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table])
            row = cursor.fetchone()
            size = int(row[0]) if row else -1
        if size < 0:  # SQLite, or a PostgreSQL table never analysed
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            size = int(cursor.fetchone()[0])
    _sizes[kind] = (now, size)
    return size


def current_matcher(kind: str = CONTACT) -> tuple[Matcher, str]:
    """The stored fitted matcher of ``kind`` (re-read only when a scan replaced it), else the prior;
    either rescaled to the table's present size (``Matcher.for_table``).

    One indexed read of the row's timestamp per call keeps every process in step with the last
    scan; the JSON (hundreds of kilobytes) is parsed once per fit and process.
    """
    size = table_size(kind)
    stamp = FittedMatcher.objects.filter(kind=kind).values_list("pk", "fitted_at").first()
    if stamp is None:
        return _sized(kind, None, default_matcher(), size), "default"
    cached = _cache.get(kind)
    if cached is not None and cached[0] == stamp:
        return _sized(kind, stamp, cached[1], size), "fitted"
    data = FittedMatcher.objects.filter(pk=stamp[0]).values_list("data", flat=True).first()
    try:
        matcher = Matcher.from_dict(data or {})
    except (ValueError, KeyError, TypeError):  # a matcher of another format: the prior until the next scan
        return _sized(kind, None, default_matcher(), size), "default"
    with _cache_lock:
        _cache[kind] = (stamp, matcher)
    return _sized(kind, stamp, matcher, size), "fitted"


_rescaled: dict[tuple[str, Any, int], Matcher] = {}


def _sized(kind: str, stamp: Any, matcher: Matcher, size: int) -> Matcher:
    key = (kind, stamp, size)
    found = _rescaled.get(key)
    if found is None:
        found = matcher.for_table(size)
        with _cache_lock:
            if len(_rescaled) > 16:
                _rescaled.clear()
            _rescaled[key] = found
    return found


def matcher_store(*, matcher: Any, records: int, learnt: bool = True, kind: str = CONTACT) -> FittedMatcher:
    """Replace the stored matcher of ``kind`` (called by the duplicate scan after it fitted one).

    ``matcher``: anything with ``to_dict()`` — a ``Matcher`` (contacts) or an ``OrgMatcher`` (accounts).
    """
    row, _created = FittedMatcher.objects.update_or_create(
        kind=kind,
        defaults={"data": matcher.to_dict(), "records": records, "learnt": learnt, "fitted_at": timezone.now()},
    )
    return row
