"""Accounts: companies with names, domains, industries, sizes, revenue, tiers and hierarchies.

Invariants: names and domains are unique within one run; a child account's parent has a
smaller id (so the hierarchy has no cycles); ``search_text`` is what
``parties.services.account_search_text`` computes; an account's team is its owner's team,
except that large accounts belong to the Enterprise team whoever owns them.
"""

from __future__ import annotations

import decimal
from types import SimpleNamespace

import numpy as np

from rapport.demo.people import ascii_slug, phone_number
from rapport.demo.vocab import ACCOUNT_TAGS, INDUSTRY_WORDS, NAME_STEMS
from rapport.demo.world import CHUNK, World, cumulative, datetime_of, weighted_index
from rapport.demo.writers import Table
from rapport.parties.choices import AddressKind, CompanySize, Industry, Tier
from rapport.parties.models import Account, Address
from rapport.parties.services import account_search_text

ACCOUNT_TABLE = Table(
    Account,
    [
        "id", "name", "domain", "website", "industry", "size", "annual_revenue", "currency", "phone", "parent_id",
        "tier", "description", "external_id", "search_text", "owner_id", "team_id", "created_at", "updated_at",
        "created_by_id",
    ],
)
ACCOUNT_ADDRESS_TABLE = Table(
    Address, ["account_id", "contact_id", "kind", "street", "city", "region", "postal_code", "country"]
)
ACCOUNT_TAG_TABLE = Table(Account.tags.through, ["account_id", "tag_id"])

SIZES = list(CompanySize.values)  # micro .. enterprise
SIZE_CUM = cumulative([0.30, 0.30, 0.22, 0.12, 0.06])
SIZE_REVENUE = (4e5, 3e6, 2.5e7, 1.5e8, 2e9)  # median annual revenue per size
INDUSTRIES = list(Industry.values)
INDUSTRY_CUM = cumulative([1, 3, 3, 3, 5, 5, 3, 6, 3, 2, 2, 3, 6, 8, 2, 4, 2])
TIERS = list(Tier.values)  # platinum, gold, iron, lead
TIER_CUM_BY_SIZE = (
    cumulative([0.00, 0.05, 0.45, 0.50]),
    cumulative([0.01, 0.10, 0.49, 0.40]),
    cumulative([0.05, 0.20, 0.45, 0.30]),
    cumulative([0.15, 0.35, 0.30, 0.20]),
    cumulative([0.35, 0.35, 0.15, 0.15]),
)
CURRENCY = {"US": "USD", "GB": "GBP", "SE": "SEK", "BR": "BRL", "MX": "MXN", "JP": "JPY", "IN": "INR",
            "AU": "AUD", "CA": "CAD"}
TLD = {"US": "com", "GB": "co.uk", "DE": "de", "FR": "fr", "ES": "es", "IT": "it", "NL": "nl", "SE": "se",
       "BR": "com.br", "MX": "com.mx", "JP": "co.jp", "IN": "in", "AU": "com.au", "CA": "ca"}
CHILD_SHARE = 0.08  # accounts that are subsidiaries of a larger one
YEAR = 365.25 * 86400


class _Names:
    """Unique company names and domains within one run."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.domains: set[str] = set()

    def claim(self, name: str, domain_stem: str, tld: str, world: World) -> tuple[str, str]:
        base = name
        while name in self.names:
            name = f"{base} {world.rng.randrange(2, 100)}"
        self.names.add(name)
        domain = f"{domain_stem}.{tld}"
        while domain in self.domains:
            domain = f"{domain_stem}{world.rng.randrange(2, 1000)}.{tld}"
        self.domains.add(domain)
        return name, domain


def accounts_generate(world: World, count: int, tag_ids: dict[str, int]) -> None:
    """Write ``count`` accounts with an address each and fill ``world``'s account arrays."""
    rng = world.rng
    users = world.users
    names = _Names()
    country_cum = cumulative(world.country_weights)
    window_start = world.now - 3.5 * YEAR
    world.account_country = np.zeros(count, dtype=np.int16)
    world.account_owner = np.zeros(count, dtype=np.int64)
    world.account_created = np.zeros(count)
    world.account_size = np.zeros(count, dtype=np.int8)
    world.account_tier = np.zeros(count, dtype=np.int8)
    world.account_name = []
    world.account_domain = []
    world.account_team = np.zeros(count, dtype=np.int64)
    parents: list[tuple[int, str, str]] = []  # (position, base name, domain) of large accounts
    sales_cum = cumulative(users.sales_owner_weights)
    advance = world.progress.phase("accounts", count)

    for chunk_start in range(0, count, CHUNK):
        rows, addresses, tags = [], [], []
        for position in range(chunk_start, min(count, chunk_start + CHUNK)):
            account_id = world.account_base + position
            country_index = weighted_index(rng, country_cum)
            pool = world.pools[country_index]
            country = pool.country
            size = weighted_index(rng, SIZE_CUM)
            industry = INDUSTRIES[weighted_index(rng, INDUSTRY_CUM)]
            parent_id = None
            suffix = world.pick(country.company_suffixes)
            if parents and size < 4 and rng.random() < CHILD_SHARE:
                parent_position, parent_base, parent_domain = world.pick(parents)
                parent_id = world.account_base + parent_position
                base = f"{parent_base} {country.code}"
                name, domain = names.claim(
                    f"{base} {suffix}".strip(), f"{parent_domain.split('.')[0]}-{country.code.lower()}",
                    TLD[country.code], world,
                )
            else:
                stem = world.pick(NAME_STEMS) if rng.random() < 0.7 else world.pick(pool.last_names)
                base = f"{stem} {world.pick(INDUSTRY_WORDS[industry])}"
                name, domain = names.claim(f"{base} {suffix}".strip(), ascii_slug(base), TLD[country.code], world)
                if size >= 3 and len(parents) < 5000:
                    parents.append((position, base, domain))
            if size == 4 or (size == 3 and rng.random() < 0.5):
                owner = users.enterprise_owners[0] if rng.random() < 0.85 else users.enterprise_owners[1]
                team = users.teams["Enterprise"]
            else:
                owner = users.sales_owners[weighted_index(rng, sales_cum)]
                team = users.team_of[owner]
            tier = weighted_index(rng, TIER_CUM_BY_SIZE[size])
            revenue = decimal.Decimal(f"{SIZE_REVENUE[size] * rng.lognormvariate(0, 0.6):.2f}")
            phone = phone_number(pool, rng, mobile=False)
            created = window_start + rng.random() * (world.now - 30 * 86400 - window_start)
            updated = created + rng.random() * (world.now - created)
            city = world.pick(pool.cities)
            search = account_search_text(SimpleNamespace(name=name, domain=domain, phone=phone))
            rows.append((
                account_id, name, domain, f"https://www.{domain}", industry, SIZES[size], revenue,
                CURRENCY.get(country.code, "EUR"), phone, parent_id, TIERS[tier],
                f"{Industry(industry).label} company, {SIZES[size]} employees, based in {city}.",
                f"ERP-{100000 + account_id}" if rng.random() < 0.4 else "", search, owner, team,
                datetime_of(created), datetime_of(updated), owner,
            ))
            addresses.append((
                account_id, None, AddressKind.BILLING if rng.random() < 0.3 else AddressKind.WORK,
                world.pick(pool.streets), city, world.pick(pool.regions) if pool.regions else "",
                world.pick(pool.postcodes), country.code,
            ))
            if rng.random() < 0.15:
                tags.append((account_id, tag_ids[world.pick(ACCOUNT_TAGS)]))
            world.account_name.append(name)
            world.account_domain.append(domain)
            world.account_team[position] = team or 0
            world.account_country[position] = country_index
            world.account_owner[position] = owner
            world.account_created[position] = created
            world.account_size[position] = size
            world.account_tier[position] = tier
        world.writer.write(ACCOUNT_TABLE, rows)
        world.writer.write(ACCOUNT_ADDRESS_TABLE, addresses)
        world.writer.write(ACCOUNT_TAG_TABLE, tags)
        advance(len(rows))
