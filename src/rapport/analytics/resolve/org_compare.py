"""Comparison vectors for pairs of organisations: one level per field, ``-1`` when either side is missing.

The fields and why they are cut this way:

* **name** — the identifying words (:func:`.org_normalize.company_name`): ``same`` when the words,
  the words in any order or the letters without spaces agree ("Micro Soft" = "Microsoft");
  ``very similar`` (Jaro-Winkler of the letters >= 0.94, a typo); ``similar`` (the sorted words at
  Jaro-Winkler >= 0.88, or at least 60% of the distinct words shared); ``related`` when one name's
  words are all in the other ("Acme" in "Acme Trading") or one is the other's initials ("IBM");
* **domain** — the registrable domain of website or email, free-mail dropped: same or not;
* **phone** — the last nine digits, as for people: same, one digit off, different;
* **location** — street, city and postcode together, the contacts' levels (:data:`.compare.LOCATION_SQL`);
* **identifier** — a registration or VAT number, same or not.

:data:`ORG_SQL` runs in DuckDB; :func:`compare_org_records` is its Python twin for one pair (the
single-record matcher's path). Invariant: both give the same levels for the same two rows
(tested on thousands of simulated pairs); keep them in step clause by clause.
"""

from __future__ import annotations

from collections.abc import Mapping

from .compare import LOCATION_SQL, Field, _eq, _jw, _location, _typo_level

ORG_FIELDS: tuple[Field, ...] = (
    Field("name", ("different", "one contains the other or its initials", "similar", "very similar", "same")),
    Field("domain", ("different", "same")),
    Field("phone", ("different", "one digit off", "same")),
    Field("location", ("different", "same city or postcode", "same city and postcode", "similar street",
                       "same street")),
    Field("identifier", ("different", "same")),
)
ORG_FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in ORG_FIELDS)
# Short names of each level for people reading the evidence, from level 0 up; -1 is "missing".
ORG_LEVEL_NAMES: dict[str, tuple[str, ...]] = {
    "name": ("different", "contains or initials", "similar", "very similar", "exact"),
    "domain": ("different", "exact"),
    "phone": ("different", "one digit off", "exact"),
    "location": ("different", "same city or postcode", "same city and postcode", "similar street", "same street"),
    "identifier": ("different", "exact"),
}

_ORG_SQL = """
WITH j AS (
    SELECT p.l, p.r,
           a.name AS an, a.name_sorted AS ans, a.name_compact AS anc, a.acronym AS aac,
           b.name AS bn, b.name_sorted AS bns, b.name_compact AS bnc, b.acronym AS bac,
           a.domain AS ad, b.domain AS bd, a.phone AS aph, b.phone AS bph,
           a.street AS ast, a.city AS ac, a.postcode AS apc, b.street AS bst, b.city AS bc, b.postcode AS bpc,
           a.ident AS ai, b.ident AS bi
    FROM {pairs} p JOIN {records} a ON a.rid = p.l JOIN {records} b ON b.rid = p.r
), w AS (
    SELECT *, string_split(an, ' ') AS aw, string_split(bn, ' ') AS bw FROM j
), y AS (
    SELECT *,
           CASE WHEN an IS NULL OR bn IS NULL THEN NULL
                ELSE len(list_intersect(list_distinct(aw), list_distinct(bw)))::DOUBLE
                     / len(list_distinct(list_concat(aw, bw))) END AS overlap,
           CASE WHEN an IS NULL OR bn IS NULL THEN NULL
                ELSE len(list_intersect(list_distinct(aw), list_distinct(bw))) END AS shared
    FROM w
)
SELECT l, r,
    CASE WHEN an IS NULL OR bn IS NULL THEN -1
         WHEN an = bn OR ans = bns OR anc = bnc THEN 4
         WHEN jaro_winkler_similarity(anc, bnc) >= 0.94 THEN 3
         WHEN jaro_winkler_similarity(ans, bns) >= 0.88 OR overlap >= 0.6 THEN 2
         WHEN shared = len(list_distinct(aw)) OR shared = len(list_distinct(bw))
              OR coalesce(aac = bnc, false) OR coalesce(bac = anc, false) THEN 1
         ELSE 0 END::TINYINT AS name,
    CASE WHEN ad IS NULL OR bd IS NULL THEN -1 WHEN ad = bd THEN 1 ELSE 0 END::TINYINT AS domain,
    CASE WHEN aph IS NULL OR bph IS NULL THEN -1
         WHEN aph = bph THEN 2
         WHEN jaro_winkler_similarity(aph, bph) < 0.85 THEN 0
         WHEN damerau_levenshtein(aph, bph) <= 1 THEN 1
         ELSE 0 END::TINYINT AS phone,
    {location} AS location,
    CASE WHEN ai IS NULL OR bi IS NULL THEN -1 WHEN ai = bi THEN 1 ELSE 0 END::TINYINT AS identifier
FROM y
"""


def org_compare_sql(*, pairs: str, records: str = "recs") -> str:
    """The query that yields ``l, r`` and one TINYINT level column per :data:`ORG_FIELDS` field."""
    return _ORG_SQL.format(pairs=pairs, records=records, location=LOCATION_SQL)


Row = Mapping[str, "str | None"]


def _name_level(a: Row, b: Row) -> int:
    an, bn = a["name"], b["name"]
    if an is None or bn is None:
        return -1
    if an == bn or _eq(a["name_sorted"], b["name_sorted"]) or _eq(a["name_compact"], b["name_compact"]):
        return 4
    if _jw(a["name_compact"] or "", b["name_compact"] or "") >= 0.94:
        return 3
    aw, bw = set(an.split(" ")), set(bn.split(" "))
    shared = len(aw & bw)
    if _jw(a["name_sorted"] or "", b["name_sorted"] or "") >= 0.88 or shared / len(aw | bw) >= 0.6:
        return 2
    if shared == len(aw) or shared == len(bw) or _eq(a["acronym"], b["name_compact"]) or \
            _eq(b["acronym"], a["name_compact"]):
        return 1
    return 0


def compare_org_records(a: Row, b: Row) -> tuple[int, ...]:
    """The level per field (in :data:`ORG_FIELDS` order) of one pair; ``a`` is the left record."""
    domain = -1 if a["domain"] is None or b["domain"] is None else int(a["domain"] == b["domain"])
    ident = -1 if a["ident"] is None or b["ident"] is None else int(a["ident"] == b["ident"])
    return (_name_level(a, b), domain, _typo_level(a["phone"], b["phone"], 0.85), _location(a, b), ident)
