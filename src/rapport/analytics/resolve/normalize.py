"""Field normalisers: raw text in, one comparable string out ("" when there is nothing usable).

Invariants every function here keeps:

* it is total: any input (``None``, NaN, numbers, odd Unicode) gives a ``str``, never an exception;
* the output is idempotent (``f(f(x)) == f(x)``) and free of case, accents and punctuation
  differences that carry no identity (``"Zoë O'Brien" -> "zoe obrien"``);
* ``""`` means "missing": comparisons treat it as no evidence either way.

The scalar functions are what the tests pin down; :func:`apply_unique` runs one over a column
once per distinct value, which is what makes a million rows cheap (names, cities and dates
repeat a lot).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from datetime import date

import numpy as np
import pandas as pd

from .nicknames import CANONICAL

# Letters NFKD does not decompose into ASCII plus a combining mark.
_FOLD_EXTRA = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "œ": "oe",
                             "ı": "i", "’": "'", "‘": "'", "`": "'"})
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_NON_DIGIT = re.compile(r"[^0-9]+")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "rev", "fr"})
_SUFFIXES = frozenset({"jr", "jnr", "sr", "snr", "ii", "iii", "iv", "phd", "md", "esq"})

# Street words -> one spelling (the usual postal abbreviation), so "St" and "Street" agree.
STREET_WORDS: dict[str, str] = {
    "street": "st", "str": "st", "road": "rd", "avenue": "ave", "av": "ave", "avn": "ave", "drive": "dr",
    "drv": "dr", "court": "ct", "crt": "ct", "place": "pl", "lane": "ln", "crescent": "cres", "cr": "cres",
    "cresc": "cres", "boulevard": "blvd", "bvd": "blvd", "highway": "hwy", "parade": "pde", "terrace": "tce",
    "terr": "tce", "close": "cl", "circuit": "cct", "circle": "cir", "esplanade": "esp", "grove": "gr",
    "square": "sq", "parkway": "pkwy", "way": "wy", "mount": "mt", "point": "pt", "heights": "hts",
    "gardens": "gdns", "garden": "gdn", "north": "n", "south": "s", "east": "e", "west": "w",
    "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw", "first": "1st",
    "second": "2nd", "third": "3rd", "fourth": "4th", "fifth": "5th", "expressway": "expy", "freeway": "fwy",
}
# Words that only say "a unit number follows": dropped, the number is kept.
_UNIT_WORDS = frozenset({"unit", "apt", "apartment", "flat", "suite", "ste", "no", "number", "lot", "shop"})
_MONTHS = {name: i for i, names in enumerate(
    (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")), start=1) for name in names}
_SOUNDEX_CODES = {**dict.fromkeys("bfpv", "1"), **dict.fromkeys("cgjkqsxz", "2"), **dict.fromkeys("dt", "3"),
                  "l": "4", **dict.fromkeys("mn", "5"), "r": "6"}
# Two-digit years: 00-29 are 20xx, 30-99 are 19xx (fixed, so results never depend on today's date).
_PIVOT = 30


def text(value: object) -> str:
    """``value`` as a stripped ``str``; ``None``, NaN and pandas' missing markers become ``""``."""
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            # A numeric column (phones, postcodes read as numbers) must not gain a ".0".
            return str(int(value))
    return str(value).strip()


def fold(value: object) -> str:
    """Lower case, accents stripped (NFKD), whitespace collapsed: ``" Zoë  ÅSTRÖM "`` -> ``"zoe astrom"``."""
    raw = text(value).lower().translate(_FOLD_EXTRA)
    if not raw.isascii():
        raw = "".join(ch for ch in unicodedata.normalize("NFKD", raw) if not unicodedata.combining(ch))
    return " ".join(raw.split())  # the same as collapsing r"\s+" and stripping (same whitespace), faster


def name_tokens(value: object) -> list[str]:
    """The words of a name, folded; apostrophes join (``O'Brien`` -> ``obrien``), hyphens split."""
    folded = fold(value).replace("'", "")
    return [token for token in _NON_ALNUM.split(folded) if token]


def given_name(value: object) -> str:
    """The first given name, without titles: ``"Dr. Mary-Anne"`` -> ``"mary"``."""
    tokens = [token for token in name_tokens(value) if token not in _TITLES]
    return tokens[0] if tokens else ""


def canonical_given(value: object) -> str:
    """The given name with nicknames resolved: ``"Bob"`` -> ``"robert"``, ``"Liz"`` -> ``"elizabeth"``."""
    first = given_name(value)
    return CANONICAL.get(first, first)


def initial(value: object) -> str:
    """The first letter of the given name, or ``""``."""
    return given_name(value)[:1]


def surname(value: object) -> str:
    """All surname words run together, suffixes dropped: ``"van der Berg Jr."`` -> ``"vanderberg"``."""
    tokens = [token for token in name_tokens(value) if token not in _SUFFIXES]
    return "".join(tokens)


def soundex(value: object) -> str:
    """American Soundex of the folded letters (``"Robert"`` -> ``"R163"``); ``""`` if there are none.

    H and W do not separate letters with the same code; vowels do (the standard rule).
    """
    letters = [ch for ch in fold(value) if "a" <= ch <= "z"]
    if not letters:
        return ""
    first = letters[0]
    codes = [first.upper()]
    previous = _SOUNDEX_CODES.get(first, "")
    for ch in letters[1:]:
        code = _SOUNDEX_CODES.get(ch, "")
        if code and code != previous:
            codes.append(code)
            if len(codes) == 4:
                break
        if ch not in "hw":
            previous = code
    return "".join(codes).ljust(4, "0")


def phone(value: object, *, digits: int = 9) -> str:
    """The last ``digits`` digits of a phone number in any format; ``""`` if it has fewer than 7.

    The last nine digits survive every way of writing the same number — ``+44 20 7946 0018``,
    ``(020) 7946 0018``, ``020.7946.0018`` — because country codes and trunk zeros sit in front.
    """
    only = _NON_DIGIT.sub("", text(value))
    if len(only) < 7:
        return ""
    return only[-digits:]


def email(value: object, *, gmail_dots: bool = True) -> str:
    """The address in lower case, ``+tags`` dropped; for gmail also the dots of the local part.

    Anything that is not ``local@domain.tld`` is ``""``: a name typed into the email column is
    no email evidence.
    """
    raw = fold(value).replace(" ", "")
    if not _EMAIL.match(raw):
        return ""
    local, _, domain = raw.rpartition("@")
    local = local.split("+", 1)[0]
    if domain == "googlemail.com":
        domain = "gmail.com"
    if gmail_dots and domain == "gmail.com":
        local = local.replace(".", "")
    return f"{local}@{domain}" if local else ""


def email_local(value: object) -> str:
    """The local part of :func:`email` (``"jo.smith@x.com"`` -> ``"jo.smith"``)."""
    return email(value).partition("@")[0]


def street_address(value: object) -> str:
    """Folded, punctuation removed, street words abbreviated, unit words dropped.

    ``"Unit 3, 12 Main Street"``, ``"3/12 main st."`` and ``"Apt 3 12 MAIN ST"`` all give ``"3 12 main st"``.
    """
    folded = fold(value).replace("'", "")
    tokens = []
    for token in _NON_ALNUM.split(folded):
        if not token or token in _UNIT_WORDS:
            continue
        tokens.append(STREET_WORDS.get(token, token))
    return " ".join(tokens)


def city(value: object) -> str:
    """Folded, punctuation to spaces, ``mt``/``st`` prefixes spelled out: ``"Mt. Eliza"`` -> ``"mount eliza"``."""
    tokens = [token for token in _NON_ALNUM.split(fold(value).replace("'", "")) if token]
    if tokens and tokens[0] in {"mt", "st", "ft", "pt"}:
        tokens[0] = {"mt": "mount", "st": "saint", "ft": "fort", "pt": "port"}[tokens[0]]
    return " ".join(tokens)


def postcode(value: object) -> str:
    """Letters and digits only; a nine-digit US ZIP+4 keeps its five-digit ZIP: ``"sw1a 1aa"`` -> ``"sw1a1aa"``."""
    compact = _NON_ALNUM.sub("", fold(value))
    if len(compact) == 9 and compact.isdigit():
        return compact[:5]
    return compact


def state(value: object) -> str:
    """Folded letters and digits; not abbreviated (it is reported, not compared)."""
    return " ".join(token for token in _NON_ALNUM.split(fold(value)) if token)


def parse_date(value: object, *, dayfirst: bool = True) -> str:
    """A date of birth as ISO ``YYYY-MM-DD``, or ``""`` if it is no valid date from 1880 to 2100.

    Accepts ISO (with or without a time), ``YYYYMMDD``, ``D/M/Y`` or ``M/D/Y`` with ``/ - .`` or
    spaces (``dayfirst`` decides an ambiguous order; a first part above 12 is a day whatever it says),
    two-digit years (00-29 -> 20xx), and month names (``"3 March 1980"``, ``"Mar 3, 1980"``).
    """
    raw = fold(value)
    if not raw:
        return ""
    year = month = day = None
    if len(raw) == 10 and raw[4] == "-" and raw[7] == "-" and raw[:4].isdecimal() and raw[5:7].isdecimal() and \
            raw[8:].isdecimal():
        # Plain ISO, the common case: what the general path below reads it as, without the regexes.
        return _valid(int(raw[:4]), int(raw[5:7]), int(raw[8:]))
    raw = raw.split("t", 1)[0] if re.match(r"^\d{4}-\d\d-\d\dt", raw) else raw
    parts = [part for part in re.split(r"[\s/\-.,]+", raw) if part]
    # isdecimal, not isdigit: int() reads exactly the decimal digits (isdigit also passes "²"-like signs).
    if len(parts) == 1 and parts[0].isdecimal() and len(parts[0]) == 8:
        year, month, day = int(parts[0][:4]), int(parts[0][4:6]), int(parts[0][6:])
    elif len(parts) == 3:
        named = [i for i, part in enumerate(parts) if part in _MONTHS]
        if named:
            m = named[0]
            rest = [part for i, part in enumerate(parts) if i != m]
            if not all(part.rstrip("stndrh").isdecimal() for part in rest):
                return ""
            numbers = [int(part.rstrip("stndrh")) for part in rest]
            month = _MONTHS[parts[m]]
            day, year = (numbers[0], numbers[1]) if numbers[1] > 31 or len(rest[1]) == 4 else (numbers[1], numbers[0])
        elif all(part.isdecimal() for part in parts):
            a, b, c = (int(part) for part in parts)
            if len(parts[0]) == 4:
                year, month, day = a, b, c
            else:
                year = c
                if a > 12:
                    day, month = a, b
                elif b > 12:
                    month, day = a, b
                else:
                    day, month = (a, b) if dayfirst else (b, a)
                if len(parts[2]) <= 2:
                    year = (2000 if c < _PIVOT else 1900) + c
    if year is None or month is None or day is None:
        return ""
    return _valid(year, month, day)


def _valid(year: int, month: int, day: int) -> str:
    if not 1880 <= year <= 2100:
        return ""
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return ""


def infer_dayfirst(values: Iterable[object]) -> bool:
    """Whether a column writes ``D/M/Y`` (True) or ``M/D/Y`` (False), from its unambiguous values.

    A value whose first part is above 12 votes day-first, one whose second part is, month-first;
    ties (including no evidence) are day-first, the more common order world-wide.
    """
    day_votes = month_votes = 0
    for value in values:
        match = re.match(r"^\s*(\d{1,2})[/\-. ](\d{1,2})[/\-. ](\d{2,4})\s*$", text(value))
        if match:
            first, second = int(match.group(1)), int(match.group(2))
            day_votes += first > 12
            month_votes += second > 12
    return day_votes >= month_votes


def swap_day_month(iso: object) -> str:
    """``"1980-03-07"`` -> ``"1980-07-03"``; ``""`` when the swap is no valid date or ``iso`` is empty."""
    iso = text(iso)
    if len(iso) != 10 or iso[5:7] == iso[8:10]:
        return ""
    try:
        return date(int(iso[:4]), int(iso[8:10]), int(iso[5:7])).isoformat()
    except ValueError:
        return ""


def apply_unique(values: Sequence[object] | pd.Series, fn: Callable[[object], str]) -> np.ndarray:
    """``[fn(v) for v in values]`` as an object array, calling ``fn`` once per distinct value.

    Missing values (``None``/NaN) map to ``fn(None)``; the order of ``values`` is kept.
    """
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    mapped = np.array([fn(u) for u in uniques] + [fn(None)], dtype=object)
    # The NA sentinel (-1) indexes the last slot, which holds fn(None).
    return mapped[codes]
