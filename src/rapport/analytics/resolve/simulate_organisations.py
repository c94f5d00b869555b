"""A seeded generator of labelled company records with the damage real duplicate accounts show.

``companies(n, seed=...)`` returns exactly ``n`` records. Each true company (``entity_id``) has one
clean record; ``duplicate_share`` of them (default 20%, which leaves about a third of the records
with a duplicate) get one to three more, each damaged by one to three *kinds* (named in
``corruptions``): a typo in the name, the legal form dropped, added or changed ("Ltd" /
"Limited" / none), words abbreviated ("International" -> "Intl", "&" -> "and"), case and
punctuation, the website written another way, the phone reformatted or one digit off, the
address reformatted or moved, values missing. Among the rest, one company in twenty has a
*branch* (same name and website, another office and phone: a different account) and names are
drawn from a small vocabulary, so unrelated companies share words ("Northern Logistics",
"Northern Foods") — the near-misses a matcher must not merge.

Invariants: the same ``(n, seed)`` gives the same frame; ``id`` is unique; a damaged record still
belongs to its entity.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

ORG_KINDS: tuple[str, ...] = (
    "typo_name", "legal_form", "abbreviation", "case_punctuation", "website_format", "phone_format",
    "phone_typo", "address_format", "address_moved", "missing", "word_order", "registration_format",
)
_KIND_WEIGHTS = (14, 14, 10, 10, 10, 10, 4, 10, 5, 12, 3, 4)

_SURNAMES = ("hartley", "whitmore", "okafor", "lindqvist", "moreau", "castellano", "brennan", "fujimoto",
             "kowalczyk", "van-dijk", "ashworth", "delacroix", "schreiber", "mendoza", "gallagher", "petrov",
             "nakamura", "oduya", "fairbanks", "holloway", "kingsley", "marchetti", "rasmussen", "thornton",
             "vasquez", "winslow", "abernathy", "bergstrom", "carrington", "dunmore", "ellison", "forsythe",
             "grantham", "hawthorne", "iverson", "jessop", "kavanagh", "lockhart", "mcallister", "northcott",
             "pemberton", "quayle", "radcliffe", "sinclair", "tremaine", "underwood", "villiers", "wexford")
_PLACES = ("northern", "southern", "eastern", "western", "pacific", "atlantic", "alpine", "coastal", "metro",
           "central", "highland", "riverside", "harbour", "summit", "valley", "golden", "silver", "crown",
           "royal", "pioneer", "liberty", "evergreen", "redwood", "blue ridge", "ironbridge", "oakfield")
_NOUNS = ("star", "bridge", "gate", "point", "stone", "wave", "peak", "field", "forge", "harvest", "beacon",
          "compass", "anchor", "arrow", "falcon", "lion", "orchid", "cedar", "maple", "granite")
_TRADES = ("logistics", "engineering", "consulting", "foods", "plumbing", "electrical", "software", "systems",
           "pharmaceuticals", "construction", "insurance", "marketing", "partners", "holdings", "industries",
           "laboratories", "solutions", "trading", "manufacturing", "services", "technologies", "capital",
           "design", "media", "energy", "motors", "textiles", "analytics", "robotics", "hospitality")
_BRAND_A = ("zel", "vor", "qua", "lum", "tri", "nex", "cor", "syn", "ox", "vel", "kai", "bra", "dra", "ful",
            "mar", "sol", "ter", "ul", "xan", "yor")
_BRAND_B = ("vanta", "tica", "ora", "ix", "onic", "aris", "enza", "ova", "ulon", "ent", "avo", "era", "isto",
            "umi", "ara", "eon")
# Abbreviations people write for words, and the words they stand for.
_ABBREVIATE = {"international": "Intl", "manufacturing": "Mfg", "services": "Svcs", "technologies": "Tech",
               "brothers": "Bros", "holdings": "Hldgs", "laboratories": "Labs", "industries": "Inds",
               "engineering": "Eng", "consulting": "Consultants", "pharmaceuticals": "Pharma",
               "solutions": "Sols", "company": "Co", "and": "&", "&": "and", "management": "Mgmt"}
# Countries: legal forms (long and short), web suffix, phone country code, postcodes.
_COUNTRIES = (
    ("gb", (("Ltd", "Limited"), ("plc", "PLC"), ("LLP", "L.L.P.")), ".co.uk", "44"),
    ("us", (("Inc", "Incorporated"), ("LLC", "L.L.C."), ("Corp", "Corporation")), ".com", "1"),
    ("de", (("GmbH", "G.m.b.H."), ("AG", "A.G."), ("KG", "K.G.")), ".de", "49"),
    ("fr", (("SARL", "S.A.R.L."), ("SA", "S.A."), ("SAS", "S.A.S.")), ".fr", "33"),
    ("nl", (("BV", "B.V."), ("NV", "N.V.")), ".nl", "31"),
    ("au", (("Pty Ltd", "Pty Limited"), ("Ltd", "Limited")), ".com.au", "61"),
)
_CITIES = {"gb": ("London", "Leeds", "Bristol", "Manchester", "Glasgow", "Cardiff"),
           "us": ("Boston", "Denver", "Austin", "Seattle", "Chicago", "Atlanta"),
           "de": ("Berlin", "Hamburg", "München", "Köln", "Frankfurt", "Stuttgart"),
           "fr": ("Paris", "Lyon", "Marseille", "Toulouse", "Nantes", "Lille"),
           "nl": ("Amsterdam", "Rotterdam", "Utrecht", "Eindhoven", "Den Haag", "Groningen"),
           "au": ("Sydney", "Melbourne", "Brisbane", "Perth", "Adelaide", "Hobart")}
_STREETS = ("High", "Station", "Church", "Market", "Mill", "King", "Queen", "Park", "Bridge", "Harbour",
            "Industrial", "Commerce", "Enterprise", "Victoria", "Albert", "Oak", "Elm", "Cedar")
_TYPES = (("Street", "St"), ("Road", "Rd"), ("Avenue", "Ave"), ("Way", "Wy"), ("Drive", "Dr"), ("Lane", "Ln"))
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class _Company:
    words: tuple[str, ...]  # the identifying words, lower case
    country: int
    legal: int  # index into the country's legal forms, -1 for none
    legal_long: bool
    slug: str
    website_style: int
    phone: str  # national significant digits
    phone_style: int
    number: int
    street: str
    street_type: int
    abbreviated: bool
    city: str
    postcode: str
    registration: str


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def _words(self) -> tuple[str, ...]:
        rng = self.rng
        shape = rng.random()
        if shape < 0.25:
            return (rng.choice(_SURNAMES), rng.choice(_TRADES))
        if shape < 0.4:
            first, second = rng.sample(_SURNAMES, 2)
            return (first, "&", second) + ((rng.choice(_TRADES),) if rng.random() < 0.5 else ())
        if shape < 0.65:
            return (rng.choice(_PLACES), rng.choice(_NOUNS), rng.choice(_TRADES))
        if shape < 0.8:
            return (rng.choice(_BRAND_A) + rng.choice(_BRAND_B),) + ((rng.choice(_TRADES),) if rng.random() < 0.6
                                                                     else ())
        if shape < 0.9:
            return (rng.choice(_SURNAMES), "brothers", rng.choice(_TRADES))
        return (rng.choice(_PLACES), "international", rng.choice(_TRADES))

    def _postcode(self, country: str) -> str:
        rng = self.rng
        if country == "gb":
            return f"{rng.choice('BLMGSE')}{rng.choice('SNW')}{rng.randint(1, 20)} {rng.randint(1, 9)}" \
                   f"{rng.choice(_LETTERS).upper()}{rng.choice(_LETTERS).upper()}"
        if country == "nl":
            return f"{rng.randint(1000, 9999)} {rng.choice(_LETTERS).upper()}{rng.choice(_LETTERS).upper()}"
        if country == "au":
            return str(rng.randint(2000, 7999))
        return f"{rng.randint(10000, 99999)}"

    def company(self) -> _Company:
        rng = self.rng
        country = rng.randrange(len(_COUNTRIES))
        code, forms, _tld, _cc = _COUNTRIES[country]
        words = self._words()
        slug = "".join(w for w in words if w != "&").replace("-", "")[:24] if rng.random() < 0.6 else \
            "-".join(w for w in words if w != "&")[:30]
        return _Company(
            words=words, country=country, legal=rng.randrange(len(forms)) if rng.random() < 0.85 else -1,
            legal_long=rng.random() < 0.3, slug=slug, website_style=rng.randrange(4),
            phone=str(rng.randint(2, 9)) + "".join(rng.choice("0123456789") for _ in range(8)),
            phone_style=rng.randrange(4), number=rng.randint(1, 300), street=rng.choice(_STREETS),
            street_type=rng.randrange(len(_TYPES)), abbreviated=rng.random() < 0.5,
            city=rng.choice(_CITIES[code]), postcode=self._postcode(code),
            registration=f"{code.upper()}{rng.randint(10**8, 10**9 - 1)}" if rng.random() < 0.5 else "",
        )

    def branch(self, company: _Company) -> _Company:
        """Another office of the same company: its own address and phone, same name and website."""
        other = self.company()
        return replace(company, phone=other.phone, number=other.number, street=other.street,
                       street_type=other.street_type, city=_CITIES[_COUNTRIES[company.country][0]][
                           (_CITIES[_COUNTRIES[company.country][0]].index(company.city) + 1) % 6],
                       postcode=other.postcode, registration="")

    # -- rendering -------------------------------------------------------------------------------

    @staticmethod
    def name_text(company: _Company, words: tuple[str, ...] | None = None, legal: int | None = None,
                  legal_long: bool | None = None) -> str:
        words = company.words if words is None else words
        legal = company.legal if legal is None else legal
        legal_long = company.legal_long if legal_long is None else legal_long
        text = " ".join(w if w in ("&", "and") else w.replace("-", " ").title().replace(" ", "-")
                        if "-" in w else w.title() for w in words)
        if legal >= 0:
            short, long = _COUNTRIES[company.country][1][legal]
            text += " " + (long if legal_long else short)
        return text

    @staticmethod
    def website_text(company: _Company, style: int) -> str:
        host = company.slug + _COUNTRIES[company.country][2]
        return (f"https://www.{host}", f"www.{host}", f"http://{host}/", f"https://{host}/contact")[style % 4]

    @staticmethod
    def phone_text(company: _Company, style: int, digits: str | None = None) -> str:
        d = company.phone if digits is None else digits
        cc = _COUNTRIES[company.country][3]
        return (f"+{cc} {d[:3]} {d[3:6]} {d[6:]}", f"0{d[:3]} {d[3:]}", f"(0{d[:2]}) {d[2:5]}-{d[5:]}",
                f"00{cc}{d}")[style % 4]

    @staticmethod
    def street_text(company: _Company, abbreviated: bool) -> str:
        full, short = _TYPES[company.street_type]
        return f"{company.number} {company.street} {short if abbreviated else full}"

    def record(self, company: _Company) -> dict[str, str]:
        rng = self.rng
        return {
            "name": self.name_text(company),
            "website": self.website_text(company, company.website_style) if rng.random() > 0.2 else "",
            "phone": self.phone_text(company, company.phone_style) if rng.random() > 0.15 else "",
            "street_address": self.street_text(company, company.abbreviated) if rng.random() > 0.1 else "",
            "city": company.city,
            "postcode": company.postcode if rng.random() > 0.1 else "",
            "country": _COUNTRIES[company.country][0].upper(),
            "identifier": company.registration,
        }

    # -- damage ------------------------------------------------------------------------------------

    def typo(self, value: str) -> str:
        rng = self.rng
        if len(value) < 4:
            return value + rng.choice(_LETTERS)
        i = rng.randrange(1, len(value) - 1)
        op = rng.randrange(4)
        if op == 0:
            return value[:i] + rng.choice(_LETTERS) + value[i:]
        if op == 1:
            return value[:i] + value[i + 1:]
        if op == 2:
            return value[:i] + rng.choice(_LETTERS.replace(value[i].lower(), "")) + value[i + 1:]
        return value[:i] + value[i + 1] + value[i] + value[i + 2:]

    def corrupt(self, company: _Company, base: dict[str, str], kinds: list[str]) -> tuple[dict[str, str], list[str]]:
        rec = dict(base)
        for column, render in (("website", lambda: self.website_text(company, company.website_style)),
                               ("phone", lambda: self.phone_text(company, company.phone_style))):
            if not rec[column] and self.rng.random() < 0.5:
                rec[column] = render()
        applied = [done for kind in kinds if (done := self._apply(kind, company, rec))]
        return rec, applied

    def _apply(self, kind: str, company: _Company, rec: dict[str, str]) -> str:
        rng = self.rng
        if kind == "typo_name":
            words = list(company.words)
            candidates = [i for i, w in enumerate(words) if len(w) >= 4]
            i = rng.choice(candidates) if candidates else 0
            words[i] = self.typo(words[i])
            rec["name"] = self.name_text(company, words=tuple(words))
        elif kind == "legal_form":
            forms = _COUNTRIES[company.country][1]
            choice = rng.choice([x for x in [-1, *range(len(forms))] if x != company.legal] + [company.legal])
            long = not company.legal_long if choice == company.legal else rng.random() < 0.5
            rec["name"] = self.name_text(company, legal=choice, legal_long=long)
        elif kind == "abbreviation":
            words = tuple(_ABBREVIATE.get(w, w) for w in company.words)
            if words == company.words:
                rec["name"] = self.name_text(company, legal=-1)
                return "legal_form"
            rec["name"] = self.name_text(company, words=tuple(w.lower() if w not in ("&", "and") else w
                                                              for w in words))
        elif kind == "case_punctuation":
            text = rec["name"]
            rec["name"] = text.upper() if rng.random() < 0.5 else text.replace(" ", ", ", 1).lower() + "."
        elif kind == "word_order":
            if "&" not in company.words:
                return self._apply("case_punctuation", company, rec)
            a, amp, b, *rest = company.words
            rec["name"] = self.name_text(company, words=(b, amp, a, *rest))
        elif kind == "website_format":
            rec["website"] = self.website_text(company, company.website_style + rng.randint(1, 3))
        elif kind == "phone_format":
            if not rec["phone"]:
                return ""
            rec["phone"] = self.phone_text(company, company.phone_style + rng.randint(1, 3))
        elif kind == "phone_typo":
            if not rec["phone"]:
                return ""
            digits = list(company.phone)
            i = rng.randrange(1, len(digits))
            digits[i] = rng.choice("0123456789".replace(digits[i], ""))
            rec["phone"] = self.phone_text(company, company.phone_style, "".join(digits))
        elif kind == "address_format":
            if not rec["street_address"]:
                return ""
            text = self.street_text(company, not company.abbreviated)
            rec["street_address"] = text.upper() if rng.random() < 0.3 else text
        elif kind == "address_moved":
            moved = self.branch(company)
            rec.update(street_address=self.street_text(moved, moved.abbreviated), city=moved.city,
                       postcode=moved.postcode)
        elif kind == "registration_format":
            if not company.registration:
                return ""
            reg = company.registration
            rec["identifier"] = f"{reg[:2]} {reg[2:5]} {reg[5:9]} {reg[9:]}".strip()
        elif kind == "missing":
            for column in rng.sample(["website", "phone", "street_address", "postcode", "identifier"], 2):
                rec[column] = ""
        return kind


def companies(n: int, *, seed: int = 0, duplicate_share: float = 0.2) -> pd.DataFrame:
    """``n`` labelled company records (see the module docstring), in a seeded random order.

    Columns: ``id``, ``name``, ``website``, ``phone``, ``street_address``, ``city``, ``postcode``,
    ``country``, ``identifier``, ``entity_id`` (the truth), ``corruptions`` (``;``-separated kinds,
    ``""`` for clean records; ``"branch"`` marks a branch's own clean record). Every value is a
    ``str``; ``""`` is missing.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    if not 0.0 <= duplicate_share <= 1.0:
        raise ValueError("duplicate_share must be between 0 and 1")
    gen = _Generator(seed)
    rng = gen.rng
    rows: list[dict[str, str]] = []
    entity = 0
    while len(rows) < n:
        company = gen.company()
        base = gen.record(company)
        rows.append({**base, "entity_id": f"e{entity:07d}", "corruptions": ""})
        if rng.random() < duplicate_share:
            for _ in range(rng.choices((1, 2, 3), weights=(70, 22, 8))[0]):
                kinds = _sample(rng, rng.choices((1, 2, 3), weights=(45, 35, 20))[0])
                record, applied = gen.corrupt(company, base, kinds)
                rows.append({**record, "entity_id": f"e{entity:07d}", "corruptions": ";".join(applied)})
        elif rng.random() < 0.05:
            entity += 1
            rows.append({**gen.record(gen.branch(company)), "entity_id": f"e{entity:07d}", "corruptions": "branch"})
        entity += 1
    rows = rows[:n]
    rng.shuffle(rows)
    columns = ["name", "website", "phone", "street_address", "city", "postcode", "country", "identifier",
               "entity_id", "corruptions"]
    frame = pd.DataFrame(rows, columns=columns)
    frame.insert(0, "id", [f"o{i:07d}" for i in range(n)])
    return frame


def _sample(rng: random.Random, count: int) -> list[str]:
    pool, weights, chosen = list(ORG_KINDS), [float(w) for w in _KIND_WEIGHTS], []
    for _ in range(count):
        i = rng.choices(range(len(pool)), weights=weights)[0]
        chosen.append(pool.pop(i))
        weights.pop(i)
    return chosen


def duplicated_share(frame: pd.DataFrame) -> float:
    """The share of records that have at least one other record of the same entity."""
    if frame.empty:
        return 0.0
    sizes = frame.groupby("entity_id")["id"].transform("size")
    return float(np.mean(sizes.to_numpy() > 1))
