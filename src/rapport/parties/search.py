"""Typo-tolerant search over ``search_text``, on either database.

A row matches a query when

* its **names** match the query: for a **contact**, every query word of three or more letters
  is within one edit (a letter inserted, dropped, changed, or two neighbours swapped) of a
  word of its first or last name, in any order, and every shorter query word begins one
  ("jonh smiht" and "smith john" find "John Smith"; "Megan Johsnton" finds "Megan Johnston"
  but not "Megan Middleton" nor "Meghan Johnstone", two edits away); for an **account**, its
  ``search_text`` (name, domain, phone digits) is similar to the query by pg_trgm *word
  similarity*, with a bar that rises with the query's length (``similarity_threshold``);
* or the query is a **substring** of ``search_text`` (emails, phone digits, the company of a
  contact, a fragment of a name);
* or every query word is the **prefix** of a word of ``search_text``.

Matches are ranked by the word similarity of the query to the whole ``search_text``, best first.

* PostgreSQL: contacts' name words are answered by a GIN index over the words of each name,
  asked for the exact words within one edit of each query word; those come from the small
  dictionary ``parties_nameword`` of every name word under each of its one-letter deletions
  (migration 0004; a query word's own deletions find every word within one edit of it).
  Reading a few exact posting lists replaces a trigram scan that merged the longest posting
  lists of a million names. Accounts use a GIN ``pg_trgm`` index on ``search_text``;
  substrings its trigram index and word prefixes its full-text index.
* SQLite: an FTS5 table with the ``trigram`` tokenizer (kept in step by triggers, see migration
  0002) returns rows sharing trigrams with the query, best first by BM25, and, for contacts, an
  FTS5 table of name words (0004) those holding a word within one edit of each query word (it
  is asked for every such string over the query's letters and a-z, 0-9; accents are folded);
  they are then filtered and ranked here by the rules above (with a port of pg_trgm's
  ``word_similarity``), so both databases agree.

On PostgreSQL ``<%`` compares with the session setting ``pg_trgm.word_similarity_threshold``,
which search sets (``_set_threshold``); nothing else may change it on the app's connections.

Exact matches on indexed columns (an email, a phone in any format) always rank first. The
caller's queryset carries the permission filter, so search never shows a row the actor may not
read.
"""

from __future__ import annotations

import re
import struct
import unicodedata
from typing import Any

from django.db import connection
from django.db.backends.signals import connection_created
from django.db.models import BooleanField, Model, Q, QuerySet
from django.db.models.expressions import RawSQL

_WORD = re.compile(r"[\w@.+'-]+", re.UNICODE)
_ALNUM = re.compile(r"[^\W_]+")
TRIGRAM_THRESHOLD = 0.35  # the lowest bar: a short query, where one typo spoils many of its trigrams
SQLITE_CANDIDATES = 2000
# Queries whose words are all shorter than a trigram can only be matched by word prefix; such a
# prefix ("ma") matches a large share of all rows, so only this many are ranked (SQLite).
PREFIX_CANDIDATES = 2000
# PostgreSQL: the most rows of each kind of match (names, substring, word prefixes) that are
# ranked. A query matching more ("gmail.com") is too broad for its order to mean much.
RANK_CANDIDATES = 1000
# Tables searched by the words of their names (the rest by trigram similarity of
# ``search_text``), and those name columns. Must match ``parties_name_words`` of migration 0004.
NAME_COLUMNS = {"parties_contact": ("first_name", "last_name")}
# Name words shorter than this are matched by prefix only: one edit of a two-letter word is
# almost any two-letter word.
MIN_FUZZY_WORD = 3
CONTACT_TABLE = "parties_contact"
NAMES_FTS = "parties_contact_names"  # SQLite: the FTS5 table of contacts' name words (0004)
_EDIT_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def _words(text: str) -> list[str]:
    return [w.strip(".-'") for w in _WORD.findall(text.lower()) if w.strip(".-'")]


def _f32(value: float) -> float:
    """``value`` rounded to a 4-byte float, as pg_trgm computes similarities."""
    return struct.unpack("f", struct.pack("f", value))[0]


def _pg_trigrams(text: str) -> list[str]:
    """pg_trgm's trigrams of ``text`` in order: per run of letters and digits, padded ``"  word "``."""
    grams: list[str] = []
    for word in _ALNUM.findall(text.lower()):
        padded = f"  {word} "
        grams.extend(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def name_tokens(text: str) -> list[str]:
    """The words of a name as migration 0004 splits them: lower-cased runs of letters and digits."""
    return _ALNUM.findall(text.lower())


def deletions(word: str) -> set[str]:
    """``word`` and every string made by deleting one of its characters."""
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def within_one_edit(a: str, b: str) -> bool:
    """Optimal-string-alignment distance at most one: equal, or one insert, delete, change or swap."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diffs) == 1:
            return True
        i = diffs[0]
        return len(diffs) == 2 and diffs[1] == i + 1 and a[i] == b[i + 1] and a[i + 1] == b[i]
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1 :]


def names_match(text: str, names: str) -> bool:
    """The contact name rule of the module docstring (``text`` has a word of three letters or more)."""
    tokens = name_tokens(names)
    words = name_tokens(text)
    for word in words:
        if len(word) >= MIN_FUZZY_WORD:
            # Name words shorter than MIN_FUZZY_WORD are not in PostgreSQL's dictionary either.
            if not any(len(token) >= MIN_FUZZY_WORD and within_one_edit(word, token) for token in tokens):
                return False
        elif not any(token.startswith(word) for token in tokens):
            return False
    return any(len(word) >= MIN_FUZZY_WORD for word in words)


def word_similarity(query: str, text: str) -> float:
    """pg_trgm's ``word_similarity(query, text)``, ported from ``calc_word_similarity``.

    The greatest similarity between the query's trigram set and a contiguous run of the text's
    trigrams: shared / (query's + run's - shared), over runs that start and end on a trigram the
    query has. SQLite ranks and filters with it, so both databases agree on what matches.
    """
    wanted = set(_pg_trigrams(query))
    grams = _pg_trigrams(text)
    ulen1 = len(wanted)
    if not ulen1 or not grams:
        return 0.0

    def sml(count: int, ulen2: int) -> float:
        return _f32(count / (ulen1 + ulen2 - count))

    last: dict[str, int] = {}
    lower, ulen2, count, best = -1, 0, 0, 0.0
    for i, gram in enumerate(grams):
        found = gram in wanted
        if lower >= 0 or found:
            if last.get(gram, -1) < 0:
                ulen2 += 1
                count += found
            last[gram] = i
        if not found:
            continue
        if lower == -1:
            lower, ulen2 = i, 1
        current = sml(count, ulen2)
        # Also try moving the start of the run right, for a greater similarity.
        tmp_count, tmp_ulen2, prev_lower = count, ulen2, lower
        for tmp_lower in range(lower, i + 1):
            tmp = sml(tmp_count, tmp_ulen2)
            if tmp > current:
                current, ulen2, lower, count = tmp, tmp_ulen2, tmp_lower, tmp_count
            dropped = grams[tmp_lower]
            if last.get(dropped, -1) == tmp_lower:
                tmp_ulen2 -= 1
                tmp_count -= dropped in wanted
        best = max(best, current)
        for tmp_lower in range(prev_lower, lower):
            dropped = grams[tmp_lower]
            if last.get(dropped, -1) == tmp_lower:
                last[dropped] = -1
    return best


def similarity_threshold(text: str) -> float:
    """The word similarity a row's names need to match ``text``: higher for longer queries.

    One typo (a letter dropped, added, changed or two swapped) costs a name query about four of
    its trigrams whatever its length, so a long query keeps a high similarity to the name it
    misspells, while the same bar would let a short one match nothing. Calibrated with pg_trgm
    on every single-typo variant of 300 demo names (the least similarity seen, by the query's
    trigram count n = letters + words): two words, n 13-15: 0.50, n >= 16: 0.57; one word,
    n 11-12: 0.47, n >= 13: 0.53. The bars below leave room for a second typo ("katherin jonson"
    0.62 for "Katherine Johnson"); short queries keep the lowest bar ("jonh smiht" 0.36 for
    "John Smith"). A lower bar only lets in weaker look-alikes ("Megan Middleton" for "Megan
    Johsnton"), and costs time on a large table: the GIN scan must union the posting lists of
    more of the query's trigrams and re-check more rows.
    """
    words = _words(text)
    grams = sum(len(word) + 1 for word in words)
    if len(words) >= 2:
        return 0.5 if grams >= 16 else 0.45 if grams >= 13 else TRIGRAM_THRESHOLD
    return 0.45 if grams >= 13 else 0.4 if grams >= 11 else TRIGRAM_THRESHOLD


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


NameQuery = tuple[str, int, "tuple[str, list[Any]] | None"]


def contact_name_ids(text: str, *, limit: int, also: tuple[str, list[Any]] | None = None) -> list[int]:
    """Ids of at most ``limit`` contacts whose names match ``text`` by the contact name rule, unranked.

    The candidate step of the create-time duplicate check: no permission filter (the caller
    decides what to show) and no ranking (the identity matcher scores them). ``also``: an extra
    SQL condition and its parameters, ``{c}`` standing for the contact table (e.g. the same
    birthday), applied to the name matches before the limit.
    """
    return contact_name_ids_many([(text, limit, also)])[0]


def contact_name_ids_many(queries: list[NameQuery]) -> list[list[int]]:
    """:func:`contact_name_ids` of each ``(text, limit, also)``, in two round trips on PostgreSQL.

    PostgreSQL: one lookup in the name-word dictionary for every word of every query, then one
    statement of limited branches (``UNION ALL``), each a few GIN posting lists, whatever the size
    of the table. SQLite: one FTS5 query per query (in process, no round trip to save).
    """
    table = CONTACT_TABLE
    if connection.vendor != "postgresql":
        return [_sqlite_name_ids(text, limit, also) for text, limit, also in queries]
    words = [w for text, _limit, _also in queries for w in name_tokens(text) if len(w) >= MIN_FUZZY_WORD]
    near = _near_words(list(dict.fromkeys(words)))
    parts: list[str] = []
    params: list[Any] = []
    quoted = f'"{table}"'
    for index, (text, limit, also) in enumerate(queries):
        branch = _name_branch(table, text, near)
        if branch is None:
            continue
        sql, branch_params = branch
        if also is not None:
            sql = f"{sql} AND ({also[0].format(c=quoted)})"
            branch_params = [*branch_params, *also[1]]
        # Each branch materialised for the reason _first_ids gives, and read only until its limit.
        parts.append(f'SELECT * FROM (WITH found AS MATERIALIZED (SELECT {quoted}."id" FROM {quoted} WHERE {sql}) '
                     f"SELECT {index} AS q, id FROM found LIMIT {int(limit)}) AS q{index}")
        params.extend(branch_params)
    out: list[list[int]] = [[] for _query in queries]
    if not parts:
        return out
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for index, pk in cursor.fetchall():
            out[index].append(pk)
    return out


def _sqlite_name_ids(text: str, limit: int, also: tuple[str, list[Any]] | None) -> list[int]:
    query = _names_fts_query(text)
    if query is None:
        return []
    table = CONTACT_TABLE
    first, last = NAME_COLUMNS[table]
    where = f" AND ({also[0].format(c='c')})" if also is not None else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT c."id", c."{first}", c."{last}" FROM {NAMES_FTS} n JOIN "{table}" c ON c."id" = n.rowid '
            f"WHERE {NAMES_FTS} MATCH %s{where} LIMIT {SQLITE_CANDIDATES}",
            [query, *(also[1] if also is not None else [])],
        )
        rows = cursor.fetchall()
    found = [pk for pk, given, family in rows if names_match(text, f"{given or ''} {family or ''}")]
    return found[:limit]


def _has_trigram(text: str) -> bool:
    return any(len(word) >= 3 for word in _words(text))


# --- PostgreSQL ----------------------------------------------------------------------------


def _name_words_sql(table: str) -> str:
    """The indexed expression of migration 0004 over ``table``'s name columns."""
    first, last = NAME_COLUMNS[table]
    return f'parties_name_words("{table}"."{first}", "{table}"."{last}")'


def _known_words_within_one_edit(words: list[str]) -> dict[str, list[str]] | None:
    """For each query word, the name words in the dictionary within one edit of it.

    ``None`` when some word has none: then no name can match every word.
    """
    near = _near_words(words)
    return None if any(not near[word] for word in words) else near


def _near_words(words: list[str]) -> dict[str, list[str]]:
    """Each word -> the dictionary's name words within one edit of it (maybe none): one query for all."""
    wanted = sorted(set().union(*(deletions(word) for word in words))) if words else []
    rows: list[tuple[str, str]] = []
    if wanted:
        with connection.cursor() as cursor:
            cursor.execute("SELECT variant, word FROM parties_nameword WHERE variant = ANY(%s)", [wanted])
            rows = cursor.fetchall()
    found: dict[str, list[str]] = {}
    for word in words:
        own = deletions(word)
        found[word] = sorted({known for variant, known in rows if variant in own and within_one_edit(word, known)})
    return found


def _name_branch(table: str, text: str, near: dict[str, list[str]] | None = None) -> tuple[str, list[Any]] | None:
    """SQL (and parameters) for "every query word matches a word of the contact's name".

    ``near``: the dictionary's answer for (at least) the query's words, when the caller already
    asked it (``_near_words``); otherwise it is asked here.
    """
    words = name_tokens(text)
    fuzzy = list(dict.fromkeys(word for word in words if len(word) >= MIN_FUZZY_WORD))
    if not fuzzy:
        return None
    known = _known_words_within_one_edit(fuzzy) if near is None else {w: near.get(w, []) for w in fuzzy}
    if known is None or any(not known[w] for w in fuzzy):
        return None
    expression = _name_words_sql(table)
    conditions = [f"{expression} && %s::text[]" for _word in fuzzy]
    params: list[Any] = [known[w] for w in fuzzy]
    for word in words:
        if len(word) < MIN_FUZZY_WORD:
            conditions.append(f"EXISTS (SELECT 1 FROM unnest({expression}) AS w(word) WHERE w.word LIKE %s)")
            params.append(f"{_like_escape(word)}%")
    return "(" + " AND ".join(conditions) + ")", params


def _forget_threshold(sender: object, connection: object, **kwargs: object) -> None:
    connection._rapport_trgm_threshold = None  # type: ignore[attr-defined]


connection_created.connect(_forget_threshold, dispatch_uid="rapport.parties.search.threshold")


def _set_threshold(value: float) -> None:
    """Set ``pg_trgm.word_similarity_threshold`` for this session, unless it already is.

    Session-level (``set_config(..., false)``), so with persistent connections most searches
    skip the round trip. Inside a transaction the value would revert on rollback, so it is then
    always set and not remembered.
    """
    setting = f"{value:.2f}"
    if not connection.in_atomic_block and getattr(connection, "_rapport_trgm_threshold", None) == setting:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('pg_trgm.word_similarity_threshold', %s, false)", [setting])
    connection._rapport_trgm_threshold = None if connection.in_atomic_block else setting  # type: ignore[attr-defined]


def _postgres_ids(queryset: QuerySet[Model], text: str, limit: int) -> list[int]:
    """Ids of the best matches: each kind of match gathers at most ``RANK_CANDIDATES`` rows, and only
    those are ranked, so a query that matches half the table ("gmail.com") costs what a narrow one does."""
    table = queryset.model._meta.db_table
    column = f'"{table}"."search_text"'
    lexemes = [re.sub(r"[^\w]", "", w) for w in _words(text)]
    tsquery = " & ".join(f"{lexeme}:*" for lexeme in lexemes if lexeme)
    # (SQL, params) per kind of match, the likeliest to be what the user meant first.
    kinds: list[tuple[str, list[Any]]] = []
    if _has_trigram(text):
        # These need a trigram to use an index (without one, GIN reads all of it).
        if table in NAME_COLUMNS:
            names = _name_branch(table, text)
            if names is not None:
                kinds.append(names)
        else:
            _set_threshold(similarity_threshold(text))
            kinds.append((f"%s <%% {column}", [text]))
        kinds.append((f"{column} ILIKE %s", [f"%{_like_escape(text)}%"]))
    if tsquery:
        kinds.append((f"to_tsvector('simple'::regconfig, {column}) @@ to_tsquery('simple', %s)", [tsquery]))
    candidates: dict[int, None] = {}
    for sql, params in kinds:
        # Fetched, not nested: the SQL names the table, which a subquery would alias.
        candidates.update(dict.fromkeys(_first_ids(queryset.filter(RawSQL(sql, params, output_field=BooleanField())))))
    if not candidates:
        return []
    score = RawSQL(f"word_similarity(%s, {column})", [text])
    ranked = queryset.model._default_manager.filter(pk__in=list(candidates)).annotate(_score=score)
    return list(ranked.order_by("-_score", "pk").values_list("pk", flat=True)[:limit])


def _first_ids(queryset: QuerySet[Model]) -> list[int]:
    """At most ``RANK_CANDIDATES`` ids of ``queryset``'s rows, in no particular order.

    The query is a ``MATERIALIZED`` CTE with the ``LIMIT`` outside: planned with the limit, a
    match PostgreSQL cannot estimate (a prepared ``&&`` over name words) looks cheapest as a
    sequential scan that stops early, and a rare name then reads the whole table. The CTE is
    planned for all its rows (the index), and still read only until the limit.
    """
    sql, params = queryset.order_by().values_list("pk", flat=True).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"WITH found AS MATERIALIZED ({sql}) SELECT * FROM found LIMIT {RANK_CANDIDATES}", params)
        return [row[0] for row in cursor.fetchall()]


def _like_escape(text: str) -> str:
    """Make ``%`` and ``_`` in user input literal in a LIKE pattern (backslash is the escape)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- SQLite --------------------------------------------------------------------------------


def _fts_query(text: str) -> str:
    grams: list[str] = []
    for word in _words(text):
        if len(word) < 3:
            continue
        for i in range(len(word) - 2):
            gram = word[i : i + 3].replace('"', '""')
            grams.append(f'"{gram}"')
    return " OR ".join(dict.fromkeys(grams))


def _fold(word: str) -> str:
    """Lower case without accents, as FTS5's ``unicode61 remove_diacritics 2`` tokenizer folds."""
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))


def _one_edit_strings(word: str) -> set[str]:
    """Every string within one edit of ``word``, inserting or changing only letters it or a-z/0-9 has."""
    alphabet = set(_EDIT_ALPHABET) | set(word)
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    found = {word}
    for head, tail in splits:
        found.update(head + letter + tail for letter in alphabet)
        if tail:
            found.add(head + tail[1:])
            found.update(head + letter + tail[1:] for letter in alphabet)
        if len(tail) > 1:
            found.add(head + tail[1] + tail[0] + tail[2:])
    return found


def _names_fts_query(text: str) -> str | None:
    """An FTS5 query for names with a word within one edit of every query word (prefix if short)."""
    words = [_fold(word) for word in name_tokens(text)]
    if not any(len(word) >= MIN_FUZZY_WORD for word in words):
        return None
    groups = []
    for word in words:
        if len(word) >= MIN_FUZZY_WORD:
            groups.append("(" + " OR ".join(f'"{s}"' for s in sorted(_one_edit_strings(word)) if s) + ")")
        else:
            groups.append(f'"{word}"*')
    return " AND ".join(groups)


def _matches(text: str, names: str | None, search_text: str) -> bool:
    """The rules of the module docstring, as PostgreSQL applies them (``names``: a contact's)."""
    st_words = _words(search_text)
    if all(any(w.startswith(q) for w in st_words) for q in _words(text)):
        return True
    if not _has_trigram(text):
        return False
    if text in search_text:
        return True
    if names is not None:
        return names_match(text, names)
    return word_similarity(text, search_text) >= similarity_threshold(text)


def _sqlite_ids(queryset: QuerySet[Model], text: str, limit: int) -> list[int]:
    model = queryset.model
    table = model._meta.db_table
    name_columns = NAME_COLUMNS.get(table, ())
    match = _fts_query(text)
    if match:
        candidates = RawSQL(
            f"SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH %s ORDER BY rank LIMIT {SQLITE_CANDIDATES}",
            [match],
        )
        found = Q(pk__in=candidates)
        names_match_query = _names_fts_query(text) if name_columns else None
        if names_match_query:
            found |= Q(pk__in=RawSQL(
                f"SELECT rowid FROM {NAMES_FTS} WHERE {NAMES_FTS} MATCH %s LIMIT {SQLITE_CANDIDATES}",
                [names_match_query],
            ))
        rows = queryset.filter(found)
    else:  # only words shorter than a trigram: a prefix scan is all that can be done
        prefix = Q()
        for word in _words(text):
            prefix &= Q(search_text__startswith=word) | Q(search_text__contains=f" {word}")
        rows = queryset.filter(prefix)[:PREFIX_CANDIDATES]
    scored = []
    for pk, search_text, *names in rows.values_list("pk", "search_text", *name_columns):
        name_text = " ".join(n for n in names if n) if name_columns else None
        if _matches(text, name_text, search_text):
            scored.append((word_similarity(text, search_text), pk))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [pk for _score, pk in scored[:limit]]
