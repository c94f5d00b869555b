"""The identity matcher each kind of party is scored with: the last scan's fit, else the built-in prior.

The duplicate scan (``identity_batch.dedupe_run``) stores what it fitted with ``matcher_store``;
the create-time check and imports read it with ``current_matcher``. One row per kind
(``FittedMatcher``), replaced by each scan.
"""

from __future__ import annotations

import threading
from typing import Any

from django.utils import timezone

from rapport.analytics.resolve import Matcher, default_matcher
from rapport.parties.models import FittedMatcher

CONTACT = "contact"
_cache_lock = threading.Lock()
_cache: dict[str, tuple[Any, Matcher]] = {}


def current_matcher(kind: str = CONTACT) -> tuple[Matcher, str]:
    """The stored fitted matcher of ``kind`` (re-read only when a scan replaced it), else the prior.

    One indexed read of the row's timestamp per call keeps every process in step with the last
    scan; the JSON (hundreds of kilobytes) is parsed once per fit and process.
    """
    stamp = FittedMatcher.objects.filter(kind=kind).values_list("pk", "fitted_at").first()
    if stamp is None:
        return default_matcher(), "default"
    cached = _cache.get(kind)
    if cached is not None and cached[0] == stamp:
        return cached[1], "fitted"
    data = FittedMatcher.objects.filter(pk=stamp[0]).values_list("data", flat=True).first()
    try:
        matcher = Matcher.from_dict(data or {})
    except (ValueError, KeyError, TypeError):
        return default_matcher(), "default"  # a matcher of another format: the prior until the next scan
    with _cache_lock:
        _cache[kind] = (stamp, matcher)
    return matcher, "fitted"


def matcher_store(*, matcher: Matcher, records: int, kind: str = CONTACT) -> FittedMatcher:
    """Replace the stored matcher of ``kind`` (called by the duplicate scan after it fitted one)."""
    row, _created = FittedMatcher.objects.update_or_create(
        kind=kind, defaults={"data": matcher.to_dict(), "records": records, "fitted_at": timezone.now()}
    )
    return row
