"""Comparison vectors: for each candidate pair, one discrete *level* per field.

Level ``-1`` means "either side missing" and carries no evidence (weight 0 in the model); ``0``
is "different"; higher levels are stronger agreement. Levels are categories to the model, not a
scale: their order only makes the tables readable.

Hand-made rules that are not plain string similarity, and why:

* **swapped names** — when given name and surname agree much better crossed than straight, the
  pair is compared crossed, so "Smith John" meets "John Smith" on both names;
* **nicknames** — given names compare on their canonical form first (bob = robert);
* **initials** — "J" against "John" is its own level, weaker than a similar name;
* **day/month swap** — 1980-03-07 against 1980-07-03 is its own date level;
* **organisation** — the employer's name (legal forms, case and punctuation dropped) and the
  company domain of the email (free-mail domains name no company). Two equal emails already
  agree on their domain, so the domain counts only between *different* emails: the model assumes
  fields independent given match status, and the same evidence must not be scored twice;
* **location** — street, city and postcode move together when a person moves, so they are one
  field with combined levels; scoring them separately would count one move three times (the
  model assumes fields independent given match status).

The comparisons run in DuckDB (vectorised, both cores), using its ``jaro_winkler_similarity``;
:func:`compare_records` is the same comparison in Python for one pair at a time (the
:mod:`.matcher`'s path), on :func:`jaro_winkler`, the same measure as DuckDB's.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Field:
    """One compared field: its name and the meaning of each level from 0 up."""

    name: str
    levels: tuple[str, ...]


FIELDS: tuple[Field, ...] = (
    Field("given_name", ("different", "initial", "similar (jw >= 0.80)", "very similar (jw >= 0.92)",
                         "same (or nickname)")),
    Field("surname", ("different", "similar (jw >= 0.80)", "very similar (jw >= 0.92)", "same")),
    Field("email", ("different", "one typo", "same")),
    Field("phone", ("different", "one digit off", "same")),
    Field("date_of_birth", ("different", "two of day/month/year", "day and month swapped", "same")),
    Field("location", ("different", "same city or postcode", "same city and postcode", "similar street",
                       "same street")),
    Field("organisation", ("different", "same work email domain", "similar employer", "same employer")),
)
FIELD_NAMES: tuple[str, ...] = tuple(field.name for field in FIELDS)
# Fields whose top level is scored against the frequency of the agreed value (see fellegi_sunter).
TF_FIELDS: dict[str, str] = {"given_name": "tf_given_name", "surname": "tf_surname"}
# Per TF field: the frequency table's suffix and the record column whose value's share it holds.
TF_SOURCES: dict[str, tuple[str, str]] = {"given_name": ("given", "given_canon"), "surname": ("surname", "surname")}

_COMPARE_SQL = """
WITH j AS (
    SELECT p.l, p.r,
           a.given AS ag, a.given_canon AS agc, a.surname AS asn, a.email AS ae,
           a.phone AS aph, a.dob AS ad, a.street AS ast, a.city AS ac, a.postcode AS apc,
           a.org AS ao, a.work_domain AS awd, b.org AS bo, b.work_domain AS bwd,
           b.given AS bg, b.given_canon AS bgc, b.surname AS bsn, b.surname_as_given AS bsg,
           b.given_as_surname AS bgs, b.email AS be, b.phone AS bph, b.dob AS bd,
           b.dob_swapped AS bds, b.street AS bst, b.city AS bc, b.postcode AS bpc
    FROM {pairs} p JOIN {records} a ON a.rid = p.l JOIN {records} b ON b.rid = p.r
), s AS (
    SELECT *,
           CASE WHEN agc = bgc OR asn = bsn THEN false  -- agrees straight on one name: not swapped
                ELSE coalesce(jaro_winkler_similarity(agc, bsg) + jaro_winkler_similarity(asn, bgs)
                              > jaro_winkler_similarity(agc, bgc) + jaro_winkler_similarity(asn, bsn) + 0.2, false)
           END AS swapped
    FROM j
), x AS (
    SELECT *,
           CASE WHEN swapped THEN bsg ELSE bg END AS xg,
           CASE WHEN swapped THEN bsg ELSE bgc END AS xgc,
           CASE WHEN swapped THEN bgs ELSE bsn END AS xsn
    FROM s
), y AS (
    -- Each similarity once per pair (they are the expensive part), skipped when the values are equal.
    SELECT *,
           CASE WHEN agc = xgc THEN 1.0
                ELSE greatest(jaro_winkler_similarity(ag, xg), jaro_winkler_similarity(agc, xgc)) END AS jw_given,
           CASE WHEN asn = xsn THEN 1.0 ELSE jaro_winkler_similarity(asn, xsn) END AS jw_surname
    FROM x
), lv AS (
    SELECT l, r, swapped, agc, asn,
        CASE WHEN agc IS NULL OR xgc IS NULL THEN -1
             WHEN agc = xgc THEN 4
             WHEN jw_given >= 0.92 THEN 3
             WHEN jw_given >= 0.80 THEN 2
             WHEN (length(ag) = 1 OR length(xg) = 1) AND left(ag, 1) = left(xg, 1) THEN 1
             ELSE 0 END::TINYINT AS given_name,
        CASE WHEN asn IS NULL OR xsn IS NULL THEN -1
             WHEN asn = xsn THEN 3
             WHEN jw_surname >= 0.92 THEN 2
             WHEN jw_surname >= 0.80 THEN 1
             ELSE 0 END::TINYINT AS surname,
        CASE WHEN ae IS NULL OR be IS NULL THEN -1
             WHEN ae = be THEN 2
             -- Jaro-Winkler first, in its own branch (CASE skips later branches, AND would not): it is
             -- ten times cheaper than an edit distance, and one edit in an address scores above 0.9.
             WHEN jaro_winkler_similarity(ae, be) < 0.9 THEN 0
             WHEN damerau_levenshtein(ae, be) <= 1 THEN 1
             ELSE 0 END::TINYINT AS email,
        CASE WHEN aph IS NULL OR bph IS NULL THEN -1
             WHEN aph = bph THEN 2
             WHEN jaro_winkler_similarity(aph, bph) < 0.85 THEN 0
             WHEN damerau_levenshtein(aph, bph) <= 1 THEN 1
             ELSE 0 END::TINYINT AS phone,
        CASE WHEN ad IS NULL OR bd IS NULL THEN -1
             WHEN ad = bd THEN 3
             WHEN ad = bds THEN 2
             WHEN (left(ad, 4) = left(bd, 4))::INT + (substr(ad, 6, 2) = substr(bd, 6, 2))::INT
                  + (right(ad, 2) = right(bd, 2))::INT >= 2 THEN 1
             ELSE 0 END::TINYINT AS date_of_birth,
        {location} AS location,
        -- A work domain (non-null) implies an email, so "ae = be" below is never null there.
        CASE WHEN ao IS NOT NULL AND bo IS NOT NULL THEN
                  CASE WHEN ao = bo THEN 3
                       WHEN jaro_winkler_similarity(ao, bo) >= 0.92 THEN 2
                       WHEN coalesce(awd = bwd AND ae <> be, false) THEN 1
                       ELSE 0 END
             WHEN awd IS NOT NULL AND bwd IS NOT NULL AND ae <> be THEN CASE WHEN awd = bwd THEN 1 ELSE 0 END
             ELSE -1 END::TINYINT AS organisation
    FROM y
)
SELECT lv.l, lv.r, lv.swapped, lv.given_name, lv.surname, lv.email, lv.phone, lv.date_of_birth, lv.location,
       lv.organisation,
       CASE WHEN lv.given_name = 4 THEN fg.share END AS tf_given_name,
       CASE WHEN lv.surname = 3 THEN fs.share END AS tf_surname
FROM lv
LEFT JOIN {freq}_given fg ON fg.v = lv.agc
LEFT JOIN {freq}_surname fs ON fs.v = lv.asn
"""


# The location level of two addresses (street ``ast``/``bst``, city ``ac``/``bc``, postcode ``apc``/``bpc``),
# shared with the organisations' comparison; :func:`_location` is its Python twin.
LOCATION_SQL = """CASE WHEN coalesce(ast, ac, apc) IS NULL OR coalesce(bst, bc, bpc) IS NULL THEN -1
             WHEN ast = bst AND (apc = bpc OR ac = bc) THEN 4
             WHEN coalesce(ast = bst OR ((apc = bpc OR ac = bc) AND jaro_winkler_similarity(ast, bst) >= 0.90),
                           false) THEN 3
             WHEN apc = bpc AND ac = bc THEN 2
             WHEN coalesce(apc = bpc, false) OR coalesce(ac = bc, false) THEN 1
             ELSE 0 END::TINYINT"""


def value_frequencies(con: duckdb.DuckDBPyConnection, *, records: str = "recs", prefix: str = "freq") -> None:
    """Tables ``{prefix}_given`` and ``{prefix}_surname``: each value's share among non-missing values."""
    for table, column in TF_SOURCES.values():
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {prefix}_{table} AS
            SELECT {column} AS v, count(*) / sum(count(*)) OVER () AS share
            FROM {records} WHERE {column} IS NOT NULL GROUP BY {column}
        """)


def fetch_frequencies(con: duckdb.DuckDBPyConnection, *, prefix: str = "freq") -> dict[str, pd.Series]:
    """The tables of :func:`value_frequencies` as ``{tf field: share by value}``, most frequent first."""
    out = {}
    for name, (table, _) in TF_SOURCES.items():
        got = con.execute(f"SELECT v, share FROM {prefix}_{table} ORDER BY share DESC, v").fetchnumpy()
        out[name] = pd.Series(np.asarray(got["share"], dtype=float), index=pd.Index(got["v"], dtype=object),
                              name=name)
    return out


def compare_sql(*, pairs: str, records: str = "recs", freq: str = "freq") -> str:
    """The query that yields ``l, r, swapped``, one TINYINT level column per field, and the tf columns."""
    return _COMPARE_SQL.format(pairs=pairs, records=records, freq=freq, location=LOCATION_SQL)


def jaro(a: str, b: str) -> float:
    """Jaro similarity in [0, 1]; 1.0 for two equal strings, 0.0 when either is empty and they differ.

    The textbook greedy matching (each letter of ``a`` takes the first unused equal letter of ``b``
    within the window), found with ``str.find`` from just after the letter's previous match: the
    letters a match skips are used already or behind the window for good. Linear, not quadratic,
    in the length, so a pasted megabyte of text costs milliseconds.
    """
    if a == b:
        return 1.0 if a else 0.0
    if not a or not b:
        return 0.0
    la, lb = len(a), len(b)
    window = max(max(la, lb) // 2 - 1, 0)
    last: dict[str, int] = {}
    matched: list[str] = []
    used: list[int] = []
    find = b.find
    for i, ch in enumerate(a):
        start = last.get(ch, -1) + 1
        lo = i - window
        j = find(ch, start if start > lo else lo, i + window + 1)
        if j >= 0:
            matched.append(ch)
            used.append(j)
            last[ch] = j
    m = len(matched)
    if not m:
        return 0.0
    used.sort()
    # Half the out-of-order matches, rounded down (as DuckDB and jellyfish count them).
    transpositions = 0
    for x, j in zip(matched, used, strict=True):
        if x != b[j]:
            transpositions += 1
    transpositions //= 2
    return (m / la + m / lb + (m - transpositions) / m) / 3


def jaro_winkler(a: str, b: str, *, prefix_scale: float = 0.1) -> float:
    """Jaro-Winkler: Jaro boosted by the common prefix (up to 4 letters) when Jaro exceeds 0.7."""
    score = jaro(a, b)
    if score <= 0.7:
        return score
    prefix = 0
    for x, y in zip(a[:4], b[:4], strict=False):
        if x != y:
            break
        prefix += 1
    return score + prefix * prefix_scale * (1.0 - score)


def at_most_one_edit(a: str, b: str) -> bool:
    """``damerau_levenshtein(a, b) <= 1``: equal, or one insertion, deletion, substitution or adjacent swap."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if la > lb:
        a, b, la, lb = b, a, lb, la
    if lb - la > 1:
        return False
    i = 0
    while i < la and a[i] == b[i]:
        i += 1
    if la < lb:
        return a[i:] == b[i + 1:]  # one insertion at i
    # Same length, first difference at i: one substitution, or i and i + 1 swapped.
    return a[i + 1:] == b[i + 1:] or (
        i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2:] == b[i + 2:])


def _utf8(value: str) -> str:
    # DuckDB compares UTF-8 bytes, not characters: one Latin-1 character per byte reproduces that.
    return value if value.isascii() else value.encode("utf-8").decode("latin-1")


@functools.lru_cache(maxsize=16_384)
def _jw_remembered(a: str, b: str) -> float:
    return jaro_winkler(_utf8(a), _utf8(b))


def _jw(a: str, b: str) -> float:
    # Name pairs recur across calls (common given names, surnames): the last 16k short pairs are remembered.
    return _jw_remembered(a, b) if len(a) + len(b) <= 128 else jaro_winkler(_utf8(a), _utf8(b))


def _eq(a: str | None, b: str | None) -> bool:
    # SQL's ``a = b`` taken as true: null on either side never agrees.
    return a is not None and a == b


Row = Mapping[str, "str | None"]
# The columns compare_records reads from its left record (the right one needs more: the crossed names, the
# swapped date).
LEFT_COLUMNS = frozenset({"given", "given_canon", "surname", "email", "phone", "dob", "street", "city", "postcode",
                          "org", "work_domain"})


def left_columns_for(b: Row) -> frozenset[str]:
    """The columns of ``a`` that ``compare_records(a, b)`` can read for this ``b``.

    A field that ``b`` lacks is missing (-1) whatever ``a`` holds, so ``a`` need not be normalised
    there; the swap test needs both names on both sides.
    """
    need = []
    if b["given_canon"] is not None:
        need += ["given", "given_canon"]
    for column in ("surname", "email", "phone", "dob"):
        if b[column] is not None:
            need.append(column)
    if b["street"] is not None or b["city"] is not None or b["postcode"] is not None:
        need += ["street", "city", "postcode"]
    if b.get("org") is not None or b.get("work_domain") is not None:
        need += ["org", "work_domain", "email"]
    return frozenset(need)


def compare_records(a: Row, b: Row) -> tuple[bool, tuple[int, ...]]:
    """``swapped`` and the level per field (in :data:`FIELDS` order) of one pair, in Python.

    ``a`` and ``b`` are rows of :func:`prepare.prepare`'s table (:func:`prepare.normalise_record`),
    ``None`` for null; ``a`` plays the left record ``l`` (the earlier one) and ``b`` the right.
    Invariant: the result equals what :data:`_COMPARE_SQL` gives the same two rows (tested on
    thousands of simulated pairs); keep the two in step, clause by clause.
    """
    ag, agc, asn = a["given"], a["given_canon"], a["surname"]
    bg, bgc, bsn, bsg, bgs = b["given"], b["given_canon"], b["surname"], b["surname_as_given"], b["given_as_surname"]
    swapped = False
    if not (_eq(agc, bgc) or _eq(asn, bsn)) and None not in (agc, asn, bgc, bsn, bsg, bgs):
        swapped = _jw(agc, bsg) + _jw(asn, bgs) > \
            _jw(agc, bgc) + _jw(asn, bsn) + 0.2  # type: ignore[arg-type]
    xg, xgc, xsn = (bsg, bsg, bgs) if swapped else (bg, bgc, bsn)
    if agc is None or xgc is None or ag is None or xg is None:
        given = -1
    elif agc == xgc:
        given = 4
    else:
        jw_given = _jw(agc, xgc) if ag == agc and xg == xgc else max(_jw(ag, xg), _jw(agc, xgc))
        given = 3 if jw_given >= 0.92 else 2 if jw_given >= 0.80 else \
            1 if (len(ag) == 1 or len(xg) == 1) and ag[:1] == xg[:1] else 0
    if asn is None or xsn is None:
        surname = -1
    elif asn == xsn:
        surname = 3
    else:
        jw_surname = _jw(asn, xsn)
        surname = 2 if jw_surname >= 0.92 else 1 if jw_surname >= 0.80 else 0
    email = _typo_level(a["email"], b["email"], 0.9)
    phone = _typo_level(a["phone"], b["phone"], 0.85)
    ad, bd = a["dob"], b["dob"]
    if ad is None or bd is None:
        dob = -1
    elif ad == bd:
        dob = 3
    elif _eq(ad, b["dob_swapped"]):
        dob = 2
    else:
        dob = 1 if (ad[:4] == bd[:4]) + (ad[5:7] == bd[5:7]) + (ad[-2:] == bd[-2:]) >= 2 else 0
    return swapped, (given, surname, email, phone, dob, _location(a, b), _organisation(a, b))


def _typo_level(x: str | None, y: str | None, jw_floor: float) -> int:
    if x is None or y is None:
        return -1
    if x == y:
        return 2
    # "jw >= floor and at most one edit", the SQL's two branches, tested cheapest first (same answer).
    if not at_most_one_edit(_utf8(x), _utf8(y)):
        return 0
    return 1 if _jw(x, y) >= jw_floor else 0


def _location(a: Row, b: Row) -> int:
    ast, ac, apc, bst, bc, bpc = a["street"], a["city"], a["postcode"], b["street"], b["city"], b["postcode"]
    if (ast is None and ac is None and apc is None) or (bst is None and bc is None and bpc is None):
        return -1
    same_street = _eq(ast, bst)
    same_place = _eq(apc, bpc) or _eq(ac, bc)
    if same_street and same_place:
        return 4
    if same_street or (same_place and ast is not None and bst is not None and _jw(ast, bst) >= 0.90):
        return 3
    if _eq(apc, bpc) and _eq(ac, bc):
        return 2
    return 1 if same_place else 0


def _organisation(a: Row, b: Row) -> int:
    ao, bo, awd, bwd = a.get("org"), b.get("org"), a.get("work_domain"), b.get("work_domain")
    different_emails = a["email"] != b["email"]  # both set wherever a work domain is
    if ao is not None and bo is not None:
        if ao == bo:
            return 3
        if _jw(ao, bo) >= 0.92:
            return 2
        return 1 if awd is not None and awd == bwd and different_emails else 0
    if awd is not None and bwd is not None and different_emails:
        return 1 if awd == bwd else 0
    return -1
