"""Typo-tolerant search over ``search_text``, on either database.

* PostgreSQL: a GIN ``pg_trgm`` index answers ``query <% search_text`` (word similarity, so
  "jonh smiht" finds "john smith") and substring ``ILIKE``; a GIN full-text index over
  ``to_tsvector('simple', search_text)`` answers whole-word prefix queries. Candidates are
  ranked by word similarity.
* SQLite: an FTS5 table with the ``trigram`` tokenizer (kept in step by triggers, see the
  migration) returns rows sharing trigrams with the query, best first by BM25; they are then
  re-ranked here by the same word-similarity measure PostgreSQL uses, so results agree.

Exact matches on indexed columns (an email, a phone in any format) always rank first. The
caller's queryset carries the permission filter, so search never shows a row the actor may not
read.
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import Model, Q, QuerySet
from django.db.models.expressions import RawSQL

_WORD = re.compile(r"[\w@.+'-]+", re.UNICODE)
TRIGRAM_THRESHOLD = 0.35
SQLITE_CANDIDATES = 2000


def _words(text: str) -> list[str]:
    return [w.strip(".-'") for w in _WORD.findall(text.lower()) if w.strip(".-'")]


def _trigrams(word: str) -> set[str]:
    padded = f"  {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def word_similarity(query: str, text: str) -> float:
    """pg_trgm's idea in Python: mean over query words of the best trigram overlap in ``text``."""
    q_words = _words(query)
    t_words = _words(text)
    if not q_words or not t_words:
        return 0.0
    t_grams = [_trigrams(w) for w in t_words]
    total = 0.0
    for word in q_words:
        grams = _trigrams(word)
        best = max(len(grams & other) / len(grams | other) for other in t_grams)
        if any(w.startswith(word) for w in t_words):
            best = max(best, 0.9)
        total += best
    return total / len(q_words)


def search_ids(queryset: QuerySet[Model], *, query: str, limit: int, exact: Q | None) -> list[int]:
    text = " ".join(_words(query))[:200]
    if not text and exact is None:
        return []
    ids: list[int] = []
    if exact is not None:
        ids = list(dict.fromkeys(queryset.filter(exact).values_list("pk", flat=True)[:limit]))
    if text and len(ids) < limit:
        finder = _postgres_ids if connection.vendor == "postgresql" else _sqlite_ids
        for pk in finder(queryset, text, limit):
            if pk not in ids:
                ids.append(pk)
            if len(ids) >= limit:
                break
    return ids


def _postgres_ids(queryset: QuerySet[Model], text: str, limit: int) -> list[int]:
    table = queryset.model._meta.db_table
    lexemes = [re.sub(r"[^\w]", "", w) for w in _words(text)]
    tsquery = " & ".join(f"{lexeme}:*" for lexeme in lexemes if lexeme)
    with connection.cursor() as cursor:
        # Session-level and idempotent: lowers the bar for "similar" from pg_trgm's 0.6 so a
        # single typo in a short name still matches.
        cursor.execute("SELECT set_config('pg_trgm.word_similarity_threshold', %s, false)", [str(TRIGRAM_THRESHOLD)])
    condition = RawSQL(
        f'(%s <%% "{table}"."search_text" OR "{table}"."search_text" ILIKE %s'
        + (
            f" OR to_tsvector('simple'::regconfig, \"{table}\".\"search_text\") @@ to_tsquery('simple', %s))"
            if tsquery
            else ")"
        ),
        [text, f"%{_like_escape(text)}%", *([tsquery] if tsquery else [])],
    )
    score = RawSQL(f'word_similarity(%s, "{table}"."search_text")', [text])
    rows = (
        queryset.annotate(_match=condition, _score=score)
        .filter(_match=True)
        .order_by("-_score", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return list(rows)


def _like_escape(text: str) -> str:
    """Make ``%`` and ``_`` in user input literal in a LIKE pattern (backslash is the escape)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _fts_query(text: str) -> str:
    grams: list[str] = []
    for word in _words(text):
        if len(word) < 3:
            continue
        for i in range(len(word) - 2):
            gram = word[i : i + 3].replace('"', '""')
            grams.append(f'"{gram}"')
    return " OR ".join(dict.fromkeys(grams))


def _sqlite_ids(queryset: QuerySet[Model], text: str, limit: int) -> list[int]:
    model = queryset.model
    table = model._meta.db_table
    match = _fts_query(text)
    if match:
        candidates = RawSQL(
            f"SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH %s ORDER BY rank LIMIT {SQLITE_CANDIDATES}",
            [match],
        )
        rows = queryset.filter(pk__in=candidates).values_list("pk", "search_text")
    else:  # only words shorter than a trigram: a prefix scan is all that can be done
        rows = queryset.filter(search_text__startswith=text).values_list("pk", "search_text")[:SQLITE_CANDIDATES]
    scored = [(word_similarity(text, search_text), pk) for pk, search_text in rows]
    scored = [item for item in scored if item[0] >= TRIGRAM_THRESHOLD]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [pk for _score, pk in scored[:limit]]
