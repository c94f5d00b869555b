"""A seeded generator of labelled person records with the corruptions real duplicates show.

``people(n, seed=...)`` returns exactly ``n`` records. Each true person (``entity_id``) has one
clean record; 30% of people (``duplicate_share``) get one to four more, each corrupted by one to
three *kinds* of damage, named in the ``corruptions`` column (``"typo_surname;phone_format"``;
``""`` on clean records) so that accuracy can be reported per kind. One person in sixteen is a
household member of another: same surname, address and often the landline, another given name
and birthday — the near-duplicates a matcher must not merge.

Three people in five have an employer (``organisation``), drawn on a Zipf curve from a pool of
companies, and two in five of those use a work email at the employer's domain. A duplicate writes
the employer as the clean record does, or with another legal form or case (``company_variant``),
with a typo (``company_typo``), not at all, or — the person changed jobs — another one
(``company_changed``). Employers come from a random stream of their own, so adding them left every
other column of every record exactly as before.

Invariants: the same ``(n, seed)`` gives the same frame; ``id`` is unique; every corrupted
record still belongs to its entity (a corruption never invents a different person).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .nicknames import NICKNAMES

KINDS: tuple[str, ...] = (
    "typo_given", "typo_surname", "nickname", "initial", "swap_names", "missing", "phone_format",
    "phone_typo", "address_format", "address_moved", "dob_swap", "dob_typo", "email_changed", "email_typo",
    "case_accents",
)
_KIND_WEIGHTS = np.array([12, 12, 8, 4, 4, 12, 10, 4, 10, 5, 5, 4, 6, 4, 5], dtype=float)

_MALE = (
    "robert", "william", "james", "john", "michael", "richard", "thomas", "charles", "christopher", "daniel",
    "matthew", "anthony", "joseph", "david", "edward", "andrew", "benjamin", "samuel", "alexander", "nicholas",
    "jonathan", "stephen", "timothy", "patrick", "peter", "gregory", "jeffrey", "kenneth", "ronald", "donald",
    "raymond", "lawrence", "gerald", "frederick", "albert", "alfred", "alan", "henry", "harold", "francis",
    "vincent", "douglas", "phillip", "leonard", "walter", "eugene", "nathaniel", "zachary", "joshua", "jacob",
    "theodore", "oliver", "maxwell", "cameron", "mitchell", "terence", "bradley", "russell", "stanley", "herbert",
    "reginald", "dominic", "ernest", "isaac", "sebastian", "liam", "noah", "ethan", "lucas", "mason", "logan",
    "aiden", "jackson", "caleb", "ryan", "owen", "dylan", "luke", "gabriel", "isaiah", "adrian", "connor", "aaron",
    "hunter", "brandon", "kevin", "jason", "justin", "eric", "scott", "jose", "carlos", "luis", "juan", "mohammed",
    "ahmed", "ali", "omar", "hiroshi", "kenji", "wei", "jun", "raj", "arjun", "vikram", "sanjay", "dmitri", "ivan",
    "pavel", "lars", "sven", "anders", "pierre", "jean", "luc", "marco", "giovanni", "paolo", "rafael", "diego",
    "mateo", "hamish", "angus", "callum", "fergus", "declan"
)
_FEMALE = (
    "mary", "elizabeth", "katherine", "margaret", "patricia", "jennifer", "susan", "deborah", "barbara", "jessica",
    "rebecca", "victoria", "christine", "samantha", "alexandra", "abigail", "jacqueline", "pamela", "kimberly",
    "cynthia", "dorothy", "theresa", "judith", "frances", "josephine", "joanne", "gabrielle", "natalie",
    "stephanie", "caroline", "eleanor", "helen", "angela", "amanda", "melissa", "melanie", "nicole", "danielle",
    "louise", "rosemary", "sarah", "virginia", "sophia", "isabella", "charlotte", "florence", "harriet", "lillian",
    "madeline", "matilda", "penelope", "valerie", "anne", "cassandra", "constance", "evelyn", "olivia", "rachel",
    "emma", "ava", "mia", "amelia", "harper", "emily", "chloe", "grace", "zoe", "hannah", "layla", "nora", "riley",
    "aria", "scarlett", "lucy", "audrey", "claire", "julia", "megan", "lauren", "ashley", "brittany", "courtney",
    "heather", "amber", "tiffany", "fatima", "aisha", "priya", "ananya", "mei", "yuki", "sakura", "ingrid",
    "astrid", "freya", "sofia", "lucia", "chiara", "giulia", "camille", "amelie", "siobhan", "niamh", "aoife"
)
_SURNAMES = (
    "smith", "jones", "williams", "brown", "wilson", "taylor", "johnson", "white", "martin", "anderson", "thompson",
    "nguyen", "thomas", "walker", "harris", "lee", "ryan", "robinson", "kelly", "king", "davis", "wright", "evans",
    "roberts", "green", "hall", "wood", "jackson", "clarke", "patel", "khan", "lewis", "james", "phillips",
    "mitchell", "turner", "moore", "baker", "hill", "campbell", "scott", "young", "morris", "cooper", "ward",
    "murphy", "bell", "collins", "cook", "stewart", "morgan", "edwards", "richardson", "watson", "hughes", "parker",
    "bennett", "carter", "allen", "miller", "shaw", "murray", "graham", "clark", "price", "reid", "chen", "wang",
    "li", "zhang", "liu", "singh", "kumar", "sharma", "o'brien", "o'connor", "mcdonald", "macdonald", "fraser",
    "ross", "hamilton", "henderson", "gray", "russell", "marshall", "ferguson", "gibson", "hunter", "mills",
    "simpson", "palmer", "fisher", "stevens", "barnes", "webb", "rogers", "armstrong", "knight", "lawrence",
    "grant", "kennedy", "ellis", "davies", "lloyd", "howard", "dixon", "burns", "holmes", "rose", "black",
    "wallace", "sullivan", "kaur", "tran", "pham", "le", "hoang", "vo", "dang", "garcia", "rodriguez", "martinez",
    "hernandez", "lopez", "gonzalez", "perez", "sanchez", "ramirez", "torres", "flores", "rivera", "gomez", "diaz",
    "rossi", "russo", "ferrari", "esposito", "bianchi", "romano", "colombo", "ricci", "muller", "schmidt",
    "schneider", "fischer", "weber", "meyer", "wagner", "becker", "schulz", "hoffmann", "schafer", "koch", "bauer",
    "richter", "klein", "wolf", "dubois", "durand", "lefebvre", "moreau", "laurent", "simon", "michel", "leroy",
    "roux", "van-der-berg", "de-jong", "jansen", "de-vries", "bakker", "visser", "smit", "meijer", "kowalski",
    "nowak", "wisniewski", "wojcik", "kaminski", "lewandowski", "ivanov", "petrov", "sidorov", "popov", "andersson",
    "johansson", "karlsson", "nilsson", "eriksson", "larsson", "olsen", "hansen", "nielsen", "jensen", "tanaka",
    "suzuki", "takahashi", "watanabe", "ito", "yamamoto", "nakamura", "kobayashi", "kim", "park", "choi", "jung",
    "kang", "cho", "yoon", "jang", "lim", "han", "oh", "seo", "shin", "kwon", "hwang", "ahn", "song", "yoo", "hong",
    "jeon", "ko", "moon", "yang", "son", "bae", "baek", "heo", "nam", "shim", "noh", "ha", "kwak", "sung", "cha",
    "joo", "woo", "gu", "min", "ryu", "na", "jin", "yeo", "chae", "won", "pyo"
)
_SYLLABLES_START = ("ab", "al", "an", "ash", "bar", "bel", "bir", "bra", "bro", "cal", "car", "chad", "col", "cor",
                    "cran", "dal", "dar", "den", "dun", "el", "far", "fen", "gal", "gar", "gil", "gor", "hal",
                    "har", "hen", "hol", "kel", "ken", "kin", "lan", "lar", "lin", "mac", "mar", "mel", "mor",
                    "nor", "ol", "pem", "pen", "quin", "ran", "red", "ros", "sal", "sel", "sher", "stan", "tal",
                    "tem", "thor", "tren", "val", "ver", "wal", "wes", "whit", "win", "yar", "zel")
_SYLLABLES_MID = ("", "", "", "a", "e", "i", "o", "er", "en", "in", "ing", "ow", "ay", "el", "is")
_SYLLABLES_END = ("son", "ton", "ley", "man", "ford", "well", "wood", "ridge", "er", "ett", "ard", "ham", "by",
                  "field", "worth", "stone", "brook", "dale", "shaw", "more", "wick", "ling", "ick", "ey", "ell",
                  "sby", "cott", "land", "grove", "ville", "mont", "berg", "sen", "ski", "ova", "ini", "ez")
_STREETS = (
    "main", "high", "church", "station", "park", "victoria", "king", "queen", "george", "william", "albert",
    "elizabeth", "mill", "bridge", "north", "south", "east", "west", "new", "hill", "green", "spring", "river",
    "lake", "forest", "oak", "pine", "cedar", "maple", "elm", "ash", "willow", "chestnut", "beech", "birch", "rose",
    "garden", "orchard", "meadow", "valley", "ridge", "cliff", "harbour", "bay", "beach", "ocean", "marine",
    "railway", "market", "school", "college", "university", "hospital", "wellington", "nelson", "albion",
    "grosvenor", "cambridge", "oxford", "york", "windsor", "regent", "prince", "princess", "duke", "raglan",
    "stanley", "gladstone", "marlborough", "warwick", "kent", "surrey", "essex", "devon", "somerset", "dorset",
    "chapel", "abbey", "priory", "castle", "tower", "manor", "grange", "farm", "heath", "moor", "field", "wattle",
    "banksia", "acacia", "waratah", "jacaranda", "eucalypt", "boronia", "grevillea", "kurrajong"
)
_STREET_TYPES = (("Street", "St"), ("Road", "Rd"), ("Avenue", "Ave"), ("Drive", "Dr"), ("Court", "Ct"),
                 ("Place", "Pl"), ("Lane", "Ln"), ("Crescent", "Cres"), ("Parade", "Pde"), ("Terrace", "Tce"),
                 ("Close", "Cl"), ("Boulevard", "Blvd"), ("Highway", "Hwy"), ("Grove", "Gr"))
_STATES = ("NSW", "VIC", "QLD", "WA", "SA", "TAS", "ACT", "NT")
_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "icloud.com", "bigpond.com",
            "optusnet.com.au", "proton.me", "fastmail.com", "live.com")
_COMPANY_WORDS = ("logistics", "systems", "consulting", "foods", "engineering", "partners", "media", "health",
                  "capital", "labs", "energy", "design", "freight", "software", "builders", "legal", "pharma",
                  "analytics", "retail", "mining")
_LEGAL_FORMS = (("Pty Ltd", "Pty. Limited", "PTY LTD", "Proprietary Limited"), ("Ltd", "Limited", "LTD"),
                ("Inc", "Inc.", "Incorporated"), ("", ""), ("Group", "Group"))
COMPANY_KINDS: tuple[str, ...] = ("company_variant", "company_typo", "company_changed")
_ACCENTS = {"e": "é", "a": "á", "o": "ö", "u": "ü", "i": "í", "c": "ç", "n": "ñ"}
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class _Person:
    given: str
    surname: str
    email: str
    phone_digits: str  # national format, leading 0, ten digits
    phone_style: int
    number: str
    street: str
    street_type: int
    abbreviated: bool
    city: str
    postcode: str
    state: str
    dob: tuple[int, int, int]
    dob_style: int


def _zipf_weights(count: int, exponent: float = 1.0) -> np.ndarray:
    weights = 1.0 / np.arange(1, count + 1) ** exponent
    return weights / weights.sum()


def _synthetic_surnames(rng: random.Random, count: int) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        names.add(rng.choice(_SYLLABLES_START) + rng.choice(_SYLLABLES_MID) + rng.choice(_SYLLABLES_END))
    return sorted(names)


def _suburbs(rng: random.Random, count: int) -> list[tuple[str, str, str]]:
    seen: set[str] = set()
    suburbs = []
    suffixes = ("", "", "", " Heights", " Park", " Vale", " North", " South", " Hills", " Beach")
    while len(suburbs) < count:
        name = (rng.choice(_SYLLABLES_START) + rng.choice(_SYLLABLES_MID) + rng.choice(_SYLLABLES_END)).title()
        name += rng.choice(suffixes)
        if name in seen:
            continue
        seen.add(name)
        state_index = rng.randrange(len(_STATES))
        suburbs.append((name, str(2000 + state_index * 1000 + rng.randrange(1000)), _STATES[state_index]))
    return suburbs


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.nprng = np.random.default_rng(seed)
        self.given_pool = [*_MALE, *_FEMALE]
        self.given_weights = np.concatenate([_zipf_weights(len(_MALE), 0.7), _zipf_weights(len(_FEMALE), 0.7)]) / 2
        synthetic = _synthetic_surnames(self.rng, 20_000)
        self.surname_pool = [*_SURNAMES, *synthetic]
        # Real surnames take 60% of people on a Zipf curve, the synthetic long tail the rest evenly.
        self.surname_weights = np.concatenate([_zipf_weights(len(_SURNAMES), 0.9) * 0.6,
                                               np.full(len(synthetic), 0.4 / len(synthetic))])
        self.suburbs = _suburbs(self.rng, 3_000)
        self.suburb_weights = _zipf_weights(len(self.suburbs), 0.6)

    # -- clean people ------------------------------------------------------------------------------

    def people(self, count: int) -> list[_Person]:
        rng = self.rng
        givens = self.nprng.choice(len(self.given_pool), size=count, p=self.given_weights)
        surnames = self.nprng.choice(len(self.surname_pool), size=count, p=self.surname_weights)
        suburbs = self.nprng.choice(len(self.suburbs), size=count, p=self.suburb_weights)
        result = []
        for i in range(count):
            given = self.given_pool[givens[i]]
            family = self.surname_pool[surnames[i]]
            if i > 0 and rng.random() < 1 / 16:
                # A household member of the previous person: shared surname, address and (often) landline.
                other = result[-1]
                person = self._person(given, other.surname.lower(), self.suburbs[suburbs[i]])
                person = _Person(
                    given=person.given, surname=other.surname, email=person.email,
                    phone_digits=other.phone_digits if rng.random() < 0.7 else person.phone_digits,
                    phone_style=person.phone_style, number=other.number, street=other.street,
                    street_type=other.street_type, abbreviated=other.abbreviated, city=other.city,
                    postcode=other.postcode, state=other.state, dob=person.dob, dob_style=person.dob_style,
                )
            else:
                person = self._person(given, family, self.suburbs[suburbs[i]])
            result.append(person)
        return result

    def _person(self, given: str, family: str, suburb: tuple[str, str, str]) -> _Person:
        rng = self.rng
        surname = "-".join(part.title() for part in family.split("-"))
        if "'" in surname:
            surname = surname[:2] + surname[2:].title()
        year = rng.randint(1935, 2007)
        dob = (year, rng.randint(1, 12), rng.randint(1, 28))
        street, street_type = rng.choice(_STREETS).title(), rng.randrange(len(_STREET_TYPES))
        number = str(rng.randint(1, 400))
        if rng.random() < 0.15:
            number = f"{rng.randint(1, 30)}/{number}"
        return _Person(
            given=given.title(), surname=surname, email=self._email(given, family),
            phone_digits=self._phone_digits(), phone_style=rng.randrange(4),
            number=number, street=street, street_type=street_type, abbreviated=rng.random() < 0.5,
            city=suburb[0], postcode=suburb[1], state=suburb[2], dob=dob, dob_style=int(rng.random() < 0.3),
        )

    def _email(self, given: str, family: str) -> str:
        rng = self.rng
        family = family.replace("'", "").replace("-", "")
        local = rng.choice((f"{given}.{family}", f"{given[0]}{family}", f"{given}{family[:1]}", f"{family}.{given}",
                            f"{given}_{family}", f"{given}{rng.randint(1, 99)}"))
        if rng.random() < 0.5:
            local += str(rng.randint(1, 999))
        return f"{local}@{rng.choice(_DOMAINS)}"

    def _phone_digits(self) -> str:
        rng = self.rng
        if rng.random() < 0.7:
            return "04" + "".join(rng.choice("0123456789") for _ in range(8))
        return "0" + rng.choice("2378") + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(7))

    # -- rendering -----------------------------------------------------------------------------------

    @staticmethod
    def phone_text(digits: str, style: int) -> str:
        mobile = digits.startswith("04")
        national = digits[1:]
        if style == 0:
            if mobile:
                return f"{digits[:4]} {digits[4:7]} {digits[7:]}"
            return f"({digits[:2]}) {digits[2:6]} {digits[6:]}"
        if style == 1:
            return f"+61 {national[:3]} {national[3:6]} {national[6:]}" if mobile else \
                f"+61 {national[0]} {national[1:5]} {national[5:]}"
        if style == 2:
            return digits
        return f"{digits[:4]}.{digits[4:7]}.{digits[7:]}" if mobile else f"{digits[:2]}.{digits[2:6]}.{digits[6:]}"

    @staticmethod
    def street_text(person: _Person, abbreviated: bool, unit_style: int = 0) -> str:
        full, short = _STREET_TYPES[person.street_type]
        number = person.number
        if "/" in number and unit_style == 1:
            unit, _, house = number.partition("/")
            number = f"Unit {unit}, {house}"
        return f"{number} {person.street} {short if abbreviated else full}"

    @staticmethod
    def dob_text(dob: tuple[int, int, int], style: int) -> str:
        year, month, day = dob
        return f"{year:04d}-{month:02d}-{day:02d}" if style == 0 else f"{day:02d}/{month:02d}/{year:04d}"

    def record(self, person: _Person) -> dict[str, str]:
        rng = self.rng
        return {
            "given_name": person.given,
            "surname": person.surname,
            "email": person.email if rng.random() > 0.15 else "",
            "phone": self.phone_text(person.phone_digits, person.phone_style) if rng.random() > 0.15 else "",
            "street_address": self.street_text(person, person.abbreviated) if rng.random() > 0.05 else "",
            "city": person.city,
            "postcode": person.postcode,
            "state": person.state,
            "date_of_birth": self.dob_text(person.dob, person.dob_style) if rng.random() > 0.05 else "",
        }

    # -- corruption ----------------------------------------------------------------------------------

    def typo(self, value: str, rng: random.Random | None = None) -> str:
        """One edit: insert, delete, substitute or transpose, away from the first letter when it can."""
        rng = rng or self.rng
        if len(value) < 3:
            return value + rng.choice(_LETTERS)
        i = rng.randrange(1, len(value) - 1)
        op = rng.randrange(4)
        if op == 0:
            return value[:i] + rng.choice(_LETTERS) + value[i:]
        if op == 1:
            return value[:i] + value[i + 1:]
        if op == 2:
            replacement = rng.choice(_LETTERS.replace(value[i].lower(), ""))
            return value[:i] + replacement + value[i + 1:]
        if value[i] == value[i + 1]:
            return value[:i] + rng.choice(_LETTERS) + value[i + 1:]
        return value[:i] + value[i + 1] + value[i] + value[i + 2:]

    def corrupt(self, person: _Person, base: dict[str, str], kinds: list[str]) -> tuple[dict[str, str], list[str]]:
        """Apply ``kinds`` to a copy of the clean ``base`` record; returns it and the kinds really applied."""
        rng = self.rng
        rec = dict(base)
        # A duplicate often carries the fields the clean copy lacked, and vice versa.
        for column, render in (("email", lambda: person.email),
                               ("phone", lambda: self.phone_text(person.phone_digits, person.phone_style)),
                               ("date_of_birth", lambda: self.dob_text(person.dob, person.dob_style))):
            if not rec[column] and rng.random() < 0.6:
                rec[column] = render()
        applied = []
        for kind in kinds:
            done = self._apply(kind, person, rec)
            if done:
                applied.append(done)
        return rec, applied

    def _apply(self, kind: str, person: _Person, rec: dict[str, str]) -> str:
        rng = self.rng
        if kind == "typo_given":
            rec["given_name"] = self.typo(rec["given_name"])
        elif kind == "typo_surname":
            rec["surname"] = self.typo(rec["surname"])
        elif kind == "nickname":
            shorts = NICKNAMES.get(person.given.lower())
            if not shorts:
                rec["given_name"] = self.typo(rec["given_name"])
                return "typo_given"
            rec["given_name"] = rng.choice(shorts).title()
        elif kind == "initial":
            rec["given_name"] = rec["given_name"][:1] + rng.choice(("", "."))
        elif kind == "swap_names":
            rec["given_name"], rec["surname"] = rec["surname"], rec["given_name"]
        elif kind == "missing":
            for column in rng.sample(["email", "phone", "date_of_birth", "street_address", "given_name"],
                                     rng.randint(1, 2)):
                rec[column] = ""
        elif kind == "phone_format":
            if not rec["phone"]:
                return ""
            style = rng.choice([s for s in range(4) if s != person.phone_style])
            rec["phone"] = self.phone_text(person.phone_digits, style)
        elif kind == "phone_typo":
            if not rec["phone"]:
                return ""
            digits = list(person.phone_digits)
            i = rng.randrange(2, len(digits))
            digits[i] = rng.choice("0123456789".replace(digits[i], ""))
            rec["phone"] = self.phone_text("".join(digits), person.phone_style)
        elif kind == "address_format":
            if not rec["street_address"]:
                return ""
            text = self.street_text(person, not person.abbreviated, unit_style=rng.randrange(2))
            rec["street_address"] = text.upper() if rng.random() < 0.3 else text
        elif kind == "address_moved":
            suburb = self.suburbs[rng.randrange(len(self.suburbs))]
            moved = self._person(person.given.lower(), person.surname.lower(), suburb)
            rec.update(street_address=self.street_text(moved, moved.abbreviated), city=moved.city,
                       postcode=moved.postcode, state=moved.state)
        elif kind == "dob_swap":
            year, month, day = person.dob
            if day > 12 or day == month or not rec["date_of_birth"]:
                return self._apply("dob_typo", person, rec)
            rec["date_of_birth"] = self.dob_text((year, day, month), person.dob_style)
        elif kind == "dob_typo":
            if not rec["date_of_birth"]:
                return ""
            year, month, day = person.dob
            if rng.random() < 0.5:
                year += rng.choice((-1, 1, -10, 10))
            else:
                day = day % 28 + 1
            rec["date_of_birth"] = self.dob_text((year, month, day), person.dob_style)
        elif kind == "email_changed":
            rec["email"] = self._email(person.given.lower(), person.surname.lower())
        elif kind == "email_typo":
            if not rec["email"]:
                return ""
            local, _, domain = rec["email"].partition("@")
            rec["email"] = f"{self.typo(local)}@{domain}"
        elif kind == "case_accents":
            column = rng.choice(("given_name", "surname"))
            value = rec[column]
            if rng.random() < 0.5:
                rec[column] = value.upper()
            else:
                rec[column] = "".join(_ACCENTS.get(ch, ch) if rng.random() < 0.5 else ch for ch in value)
        return kind


class _Employers:
    """Employers and work emails, from their own random stream (see the module docstring)."""

    def __init__(self, seed: int, size: int = 2_000) -> None:
        self.rng = random.Random(seed * 7919 + 17)
        names: set[tuple[str, str]] = set()
        while len(names) < size:
            stem = (self.rng.choice(_SYLLABLES_START) + self.rng.choice(_SYLLABLES_END)).title()
            names.add((stem, self.rng.choice(_COMPANY_WORDS).title()))
        self.pool = sorted(names)
        self.forms = [self.rng.randrange(len(_LEGAL_FORMS)) for _ in self.pool]
        self.weights = list(np.cumsum(_zipf_weights(len(self.pool), 0.8)))

    def pick(self) -> int:
        return self.rng.choices(range(len(self.pool)), cum_weights=self.weights)[0]

    def name(self, index: int, variant: int = 0) -> str:
        stem, word = self.pool[index]
        forms = _LEGAL_FORMS[self.forms[index]]
        form = forms[variant % len(forms)]
        return f"{stem} {word} {form}".strip()

    def domain(self, index: int) -> str:
        stem, word = self.pool[index]
        return f"{stem.lower()}{word.lower()}.com.au"


def _add_employers(rows: list[dict[str, str]], entity_of: list[int], base_of: list[bool], entities: int,
                   seed: int, gen: _Generator) -> None:
    """Give rows an ``organisation`` (and some a work email) per the module docstring, in place."""
    employers = _Employers(seed)
    rng = employers.rng
    employer = [employers.pick() if rng.random() < 0.6 else -1 for _ in range(entities)]
    work_email = [rng.random() < 0.4 for _ in range(entities)]
    for row, entity, is_base in zip(rows, entity_of, base_of, strict=True):
        job = employer[entity] if entity < entities else -1
        if job < 0:
            row["organisation"] = ""
            continue
        kind = ""
        if not is_base:
            draw = rng.random()
            if draw < 0.12:
                kind, row["organisation"] = "company_variant", employers.name(job, rng.randrange(1, 4))
                if rng.random() < 0.3:
                    row["organisation"] = row["organisation"].upper()
            elif draw < 0.18:
                kind, row["organisation"] = "company_typo", gen.typo(employers.name(job), rng)
            elif draw < 0.28:
                row["organisation"] = ""
            elif draw < 0.34:
                job = employers.pick()
                kind, row["organisation"] = "company_changed", employers.name(job)
            else:
                row["organisation"] = employers.name(job)
        else:
            row["organisation"] = employers.name(job)
        if work_email[entity] and row["email"] and kind != "company_changed":
            row["email"] = f"{row['email'].partition('@')[0]}@{employers.domain(job)}"
        if kind:
            row["corruptions"] = ";".join(x for x in (row["corruptions"], kind) if x)


_COLUMNS = ("given_name", "surname", "email", "phone", "street_address", "city", "postcode", "state",
            "date_of_birth", "organisation", "entity_id", "corruptions")


def _sample_kinds(rng: random.Random, weights: list[float], count: int) -> list[str]:
    """``count`` distinct kinds, each drawn with probability proportional to its weight."""
    pool, pool_weights, chosen = list(KINDS), list(weights), []
    for _ in range(count):
        i = rng.choices(range(len(pool)), weights=pool_weights)[0]
        chosen.append(pool.pop(i))
        pool_weights.pop(i)
    return chosen


def people(n: int, *, seed: int = 0, duplicate_share: float = 0.3) -> pd.DataFrame:
    """``n`` labelled person records (see the module docstring), in a seeded random order.

    Columns: ``id`` (``"r0000001"``…), ``given_name``, ``surname``, ``email``, ``phone``,
    ``street_address``, ``city``, ``postcode``, ``state``, ``date_of_birth``, ``organisation``, ``entity_id`` (the
    truth) and ``corruptions`` (``;``-separated kinds, ``""`` for clean records). Every value is a
    ``str``; ``""`` is missing.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    gen = _Generator(seed)
    rng = gen.rng
    extra_counts = np.array([1, 2, 3, 4])
    extra_p = np.array([0.6, 0.25, 0.1, 0.05])
    # A few more people than the expected count needs, so the loop below reaches n without top-ups.
    entities = max(1, int(np.ceil(1.05 * n / (1 + duplicate_share * float(extra_counts @ extra_p)))))
    persons = gen.people(entities)
    duplicated = gen.nprng.random(entities) < duplicate_share
    extras = np.where(duplicated, gen.nprng.choice(extra_counts, size=entities, p=extra_p), 0)
    kind_weights = list(_KIND_WEIGHTS)
    rows: list[dict[str, str]] = []
    entity_of: list[int] = []
    base_of: list[bool] = []
    for entity, person in enumerate(persons):
        base = gen.record(person)
        rows.append({**base, "entity_id": f"e{entity:07d}", "corruptions": ""})
        entity_of.append(entity)
        base_of.append(True)
        for _ in range(int(extras[entity])):
            how_many = rng.choices((1, 2, 3), weights=(45, 35, 20))[0]
            kinds = _sample_kinds(rng, kind_weights, how_many)
            record, applied = gen.corrupt(person, base, kinds)
            rows.append({**record, "entity_id": f"e{entity:07d}", "corruptions": ";".join(applied)})
            entity_of.append(entity)
            base_of.append(False)
        if len(rows) >= n:
            break
    while len(rows) < n:
        # The ceiling estimate fell short: top up with clean people of their own.
        person = gen.people(1)[0]
        rows.append({**gen.record(person), "entity_id": f"e{len(rows) + entities:07d}", "corruptions": ""})
        entity_of.append(entities)  # beyond the employers' table: no employer
        base_of.append(True)
    rows, entity_of, base_of = rows[:n], entity_of[:n], base_of[:n]
    _add_employers(rows, entity_of, base_of, entities, seed, gen)
    order = list(range(n))
    rng.shuffle(order)
    frame = pd.DataFrame([rows[i] for i in order], columns=list(_COLUMNS))
    if frame.empty:
        frame = pd.DataFrame(columns=["given_name", "surname", "email", "phone", "street_address", "city",
                                      "postcode", "state", "date_of_birth", "organisation", "entity_id",
                                      "corruptions"])
    frame.insert(0, "id", [f"r{i:07d}" for i in range(n)])
    return frame.reset_index(drop=True)
