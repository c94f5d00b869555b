"""Normalisers for organisations: company names, web and email domains, registration numbers.

The same invariants as :mod:`.normalize`: every function is total (any input gives a ``str``),
idempotent, and ``""`` means missing.

Company names carry words that say nothing about *which* company it is — the legal form (Ltd,
GmbH, Inc, S.A.R.L.), "the", "&"/"and" — and words written many ways ("Intl", "International").
:func:`company_name` drops the first kind and spells the second one way, so "The Acme Trading
Co. Ltd" and "ACME TRADING COMPANY LIMITED" both read ``"acme trading company"``.
"""

from __future__ import annotations

import re

from .normalize import _NON_ALNUM, fold, soundex, text

# Legal forms, as words after punctuation is gone (so "S.A.R.L." is "s a r l" and "sarl" both).
LEGAL_FORMS: frozenset[str] = frozenset({
    "ltd", "limited", "llc", "llp", "lp", "inc", "incorporated", "corp", "corporation", "plc", "gmbh", "ag",
    "kg", "kgaa", "ug", "ev", "sa", "sas", "sarl", "sasu", "eurl", "snc", "spa", "srl", "bv", "nv", "vof",
    "oy", "oyj", "ab", "as", "asa", "aps", "kk", "pty", "pte", "pvt", "sdn", "bhd", "co", "cia", "sl", "slu",
    "sro", "zoo", "kft", "doo", "ooo", "pc", "pllc", "lda", "ltda", "cv", "sab", "se",
})
# Multi-letter legal forms that people write with dots between the letters ("S.A.R.L.", "B.V.").
_DOTTED = tuple(sorted((f for f in LEGAL_FORMS if 2 <= len(f) <= 5), key=len, reverse=True))
# "and" and "the" carry nothing; "&" is turned into "and" first, so both spellings vanish alike.
_STOP = frozenset({"and", "the", "of", "und", "et", "y", "le", "la", "les", "der", "die", "das"})
# Words written several ways -> one spelling (the long form, as people read it).
COMPANY_WORDS: dict[str, str] = {
    "intl": "international", "int": "international", "internat": "international",
    "mfg": "manufacturing", "manuf": "manufacturing", "svcs": "services", "svc": "services", "serv": "services",
    "tech": "technology", "techn": "technology", "technologies": "technology", "sys": "systems",
    "bros": "brothers", "bro": "brothers", "grp": "group", "hldgs": "holdings", "hldg": "holdings",
    "holding": "holdings", "mgmt": "management", "mgt": "management", "assoc": "associates",
    "assocs": "associates", "dept": "department", "dist": "distribution", "distr": "distribution",
    "eng": "engineering", "engg": "engineering", "ent": "enterprises", "enterprise": "enterprises",
    "ind": "industries", "inds": "industries", "industry": "industries", "natl": "national", "nat": "national",
    "sols": "solutions", "soln": "solutions", "solution": "solutions", "cons": "consulting",
    "consultants": "consulting", "comms": "communications", "comm": "communications", "labs": "laboratories",
    "lab": "laboratories", "pharma": "pharmaceuticals", "pharm": "pharmaceuticals", "prod": "products",
    "prods": "products", "mkt": "marketing", "fin": "financial", "finl": "financial", "ins": "insurance",
    "co-op": "cooperative", "coop": "cooperative", "ctr": "centre", "center": "centre", "dev": "development",
    "logistic": "logistics", "trading": "trading", "traders": "trading", "trade": "trading",
}
# Second-level labels under which companies register (example.co.uk, example.com.au): the
# registrable domain then has three labels. A full public-suffix list is not needed for matching:
# a rare miss only makes two domains compare as different, never two companies as the same.
_SECOND_LEVEL = frozenset({"co", "com", "net", "org", "gov", "edu", "ac", "ltd", "plc", "or", "ne", "go",
                           "gen", "biz", "info", "nom", "sch", "asn", "id"})
# Email providers anyone can use: an address there says nothing about the company.
FREE_MAIL: frozenset[str] = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com",
    "yahoo.co.uk", "icloud.com", "me.com", "aol.com", "proton.me", "protonmail.com", "gmx.de", "gmx.net",
    "web.de", "mail.ru", "yandex.ru", "qq.com", "163.com", "bigpond.com", "optusnet.com.au", "fastmail.com",
    "orange.fr", "free.fr", "libero.it", "t-online.de", "btinternet.com", "zoho.com",
})
_HOST = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$")


def _undot(folded: str) -> str:
    # "s.a.r.l." / "b. v." -> "sarl" / "bv": letters joined by dots are one word, not several.
    return re.sub(r"\b(?:[a-z]\s?\.\s?){2,}", lambda m: m.group(0).replace(".", "").replace(" ", "") + " ", folded)


def company_tokens(value: object) -> list[str]:
    """The words of a company name that identify it: folded, legal forms, "and"/"the" dropped,
    abbreviations spelled out. Legal forms are dropped only after the first word, so a company
    called "Co" or "AG" keeps its name; "&" counts as "and"."""
    folded = _undot(fold(value).replace("&", " and ").replace("+", " and ").replace("'", ""))
    words = [w for w in _NON_ALNUM.split(folded) if w]
    tokens = []
    for index, word in enumerate(words):
        if word in _STOP:
            continue
        if index > 0 and word in LEGAL_FORMS:
            continue
        tokens.append(COMPANY_WORDS.get(word, word))
    # A trailing legal form made of two one-letter words ("s a", "a g") that _undot did not join.
    while len(tokens) >= 3 and len(tokens[-1]) == 1 and len(tokens[-2]) == 1 and \
            tokens[-2] + tokens[-1] in LEGAL_FORMS:
        tokens = tokens[:-2]
    return tokens


def company_name(value: object) -> str:
    """The identifying words of a company name, space-separated (``"The Acme Co. Ltd"`` -> ``"acme"``)."""
    return " ".join(company_tokens(value))


def name_sorted(value: object) -> str:
    """:func:`company_name` with its words sorted: word order does not matter ("Smith & Jones" = "Jones & Smith")."""
    return " ".join(sorted(company_name(value).split()))


def name_compact(value: object) -> str:
    """:func:`company_name` without spaces, so "Micro Soft" and "Microsoft" agree."""
    return company_name(value).replace(" ", "")


def acronym(value: object) -> str:
    """The initials of a name of two or more words (``"international business machines"`` -> ``"ibm"``), else ``""``."""
    words = company_name(value).split()
    return "".join(w[0] for w in words) if len(words) >= 2 else ""


def name_soundex(value: object) -> str:
    """Soundex of the first identifying word: a blocking key that survives a typo after the first letter."""
    words = company_name(value).split()
    return soundex(words[0]) if words else ""


def domain(value: object) -> str:
    """The registrable domain of a website, host or email address, ``www.`` and free-mail dropped.

    ``"https://www.Acme.co.uk/about"``, ``"shop.acme.co.uk"`` and ``"jo@acme.co.uk"`` all give
    ``"acme.co.uk"``; ``"jo@gmail.com"`` gives ``""`` (a free-mail address names no company).
    """
    raw = fold(value).replace(" ", "")
    if not raw:
        return ""
    if "@" in raw:
        raw = raw.rpartition("@")[2]
    raw = re.sub(r"^[a-z][a-z0-9+.-]*://", "", raw)
    host = re.split(r"[/?#:]", raw, maxsplit=1)[0].strip(".")
    if not _HOST.match(host):
        return ""
    labels = host.split(".")
    keep = 3 if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2 else 2
    registrable = ".".join(labels[-keep:])
    if registrable in FREE_MAIL or host in FREE_MAIL:
        return ""
    return registrable


def identifier(value: object) -> str:
    """A registration or VAT number: letters and digits only, upper case, a leading EU country code
    kept (``"GB 123 4567 89"`` -> ``"GB123456789"``); ``""`` when fewer than five characters remain."""
    compact = _NON_ALNUM.sub("", fold(value)).upper()
    return compact if len(compact) >= 5 else ""


def first_word(value: object) -> str:
    """The first identifying word of a company name (a blocking key)."""
    words = company_name(value).split()
    return words[0] if words else ""


__all__ = ["COMPANY_WORDS", "FREE_MAIL", "LEGAL_FORMS", "acronym", "company_name", "company_tokens", "domain",
           "first_word", "identifier", "name_compact", "name_soundex", "name_sorted", "text"]
