"""Pools of names, addresses and phone numbers per country, drawn once from a seeded Faker.

Calling Faker for every one of a million contacts would cost minutes, so each country gets a
pool (a few hundred first names, last names, streets, cities) built once from a seeded Faker
instance; rows then pick from the pools with the generator's own RNG. Same seed, same Faker
version → same pools → same data.

Phone numbers: for each country a set of number *prefixes* is chosen such that the prefix plus
any four digits is a valid number for that country (checked with ``phonenumbers`` on samples),
so a row's phone costs one string concatenation and is still valid E.164.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from faker import Faker

from rapport.demo.vocab import COUNTRIES, Country

POOL_SIZE = 300
PHONE_SUFFIX_DIGITS = 4
_NON_ALPHA = re.compile(r"[^a-z]")


def ascii_slug(text: str) -> str:
    """``"Chloé O'Brien"`` → ``"chloeobrien"``: what an email local part or domain is made of."""
    decomposed = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NON_ALPHA.sub("", decomposed.lower())


@dataclass(frozen=True)
class CountryPool:
    country: Country
    first_names_female: tuple[str, ...]
    first_names_male: tuple[str, ...]
    last_names: tuple[str, ...]
    streets: tuple[str, ...]
    cities: tuple[str, ...]
    postcodes: tuple[str, ...]
    regions: tuple[str, ...]
    calling_code: str
    mobile_prefixes: tuple[str, ...]
    landline_prefixes: tuple[str, ...]


def _distinct(draw, count: int, *, ascii_needed: bool = False) -> tuple[str, ...]:
    """Up to ``count`` distinct values from ``draw()``; stops early when the provider runs dry."""
    seen: dict[str, None] = {}
    for _ in range(count * 3):
        value = draw()
        if ascii_needed and not ascii_slug(value):
            continue
        seen.setdefault(value, None)
        if len(seen) >= count:
            break
    return tuple(seen)


def _region_draw(fake: Faker):
    for name in ("state_abbr", "administrative_unit", "state", "region", "prefecture", "county"):
        if hasattr(fake, name):
            return getattr(fake, name)
    return lambda: ""


def _phone_prefixes(region: str, kind: int, rng: random.Random, wanted: int = 12) -> tuple[str, ...]:
    """National-number prefixes for which prefix + any 4 digits is valid in ``region``."""
    example = phonenumbers.example_number_for_type(region, kind) or phonenumbers.example_number(region)
    nsn = phonenumbers.national_significant_number(example)
    code = str(example.country_code)
    keep = len(nsn) - PHONE_SUFFIX_DIGITS
    found: dict[str, None] = {nsn[:keep]: None}
    # Vary the digits after the leading two (which carry the number's type and area) and keep
    # the prefixes whose samples all validate.
    for _ in range(wanted * 6):
        if len(found) >= wanted:
            break
        head = list(nsn[:keep])
        for pos in range(2, keep):
            if rng.random() < 0.5:
                head[pos] = str(rng.randrange(10))
        prefix = "".join(head)
        samples = (f"+{code}{prefix}{rng.randrange(10**PHONE_SUFFIX_DIGITS):0{PHONE_SUFFIX_DIGITS}d}" for _ in range(3))
        if all(phonenumbers.is_valid_number(phonenumbers.parse(s)) for s in samples):
            found.setdefault(prefix, None)
    return tuple(found)


@lru_cache(maxsize=4)
def build_pools(seed: int) -> tuple[CountryPool, ...]:
    """One pool per country in ``COUNTRIES`` order, deterministic for ``seed`` (and cached: pools are immutable)."""
    pools = []
    for index, country in enumerate(COUNTRIES):
        fake = Faker(country.locale)
        fake.seed_instance(seed * 1000 + index)
        rng = random.Random(seed * 1000 + index)
        romanized = hasattr(fake, "first_romanized_name")  # Japanese: Latin script for readability
        female = fake.first_romanized_name if romanized else fake.first_name_female
        male = fake.first_romanized_name if romanized else fake.first_name_male
        last = fake.last_romanized_name if romanized else fake.last_name
        example = phonenumbers.example_number(country.code)
        pools.append(
            CountryPool(
                country=country,
                first_names_female=_distinct(female, POOL_SIZE, ascii_needed=True),
                first_names_male=_distinct(male, POOL_SIZE, ascii_needed=True),
                last_names=_distinct(last, POOL_SIZE, ascii_needed=True),
                streets=_distinct(fake.street_address, POOL_SIZE),
                cities=_distinct(fake.city, POOL_SIZE // 2),
                postcodes=_distinct(fake.postcode, POOL_SIZE),
                regions=_distinct(_region_draw(fake), 40),
                calling_code=str(example.country_code),
                mobile_prefixes=_phone_prefixes(country.code, phonenumbers.PhoneNumberType.MOBILE, rng),
                landline_prefixes=_phone_prefixes(country.code, phonenumbers.PhoneNumberType.FIXED_LINE, rng),
            )
        )
    return tuple(pools)


def phone_number(pool: CountryPool, rng: random.Random, *, mobile: bool) -> str:
    """A valid E.164 number of ``pool``'s country."""
    prefixes = pool.mobile_prefixes if mobile else pool.landline_prefixes
    return f"+{pool.calling_code}{rng.choice(prefixes)}{rng.randrange(10**PHONE_SUFFIX_DIGITS):04d}"
