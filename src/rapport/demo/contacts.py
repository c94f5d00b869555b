"""Contacts: people with typed emails and phones, addresses, memberships and org charts.

Invariants (those of ``parties.models``, kept here without going through the services):

* each contact has 1–3 distinct lower-case emails; exactly one is primary, written first, and
  ``Contact.email`` repeats it; phones likewise (0–2, E.164, valid for their country);
* ``Contact.account`` is the account of the contact's only primary ``AccountMembership``;
* ``reports_to`` points at an earlier contact of the same account (no cycles);
* ``search_text`` is ``contact_search_text`` over the emails and phones in their stored order
  (primary first, then by id) and the primary account's name.

Contacts of one account are generated together (consecutive ids), which is what lets the org
chart be built with a few small lists instead of a lookup over all contacts.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np

from rapport.demo.accounts import ACCOUNT_ADDRESS_TABLE
from rapport.demo.people import ascii_slug, phone_number
from rapport.demo.vocab import (
    CONTACT_TAGS,
    MEMBERSHIP_ROLES_BY_LEVEL,
    SECONDARY_ROLES,
    SOURCES,
    TITLES_BY_LEVEL,
)
from rapport.demo.world import CHUNK, World, cumulative, datetime_of, weighted_index
from rapport.demo.writers import Table
from rapport.parties.choices import AddressKind, Channel, EmailKind, LifecycleStage, PhoneKind
from rapport.parties.models import AccountMembership, Contact, ContactEmail, ContactPhone
from rapport.parties.services import contact_search_text

CONTACT_TABLE = Table(
    Contact,
    [
        "id", "first_name", "last_name", "title", "email", "phone", "account_id", "reports_to_id", "birthday",
        "language", "time_zone", "preferred_channel", "lifecycle_stage", "source", "external_id", "search_text",
        "owner_id", "team_id", "created_at", "updated_at", "created_by_id",
    ],
)
EMAIL_TABLE = Table(ContactEmail, ["contact_id", "email", "kind", "is_primary"])
PHONE_TABLE = Table(ContactPhone, ["contact_id", "number", "kind", "is_primary"])
ADDRESS_TABLE = ACCOUNT_ADDRESS_TABLE  # the same columns; contact rows fill contact_id instead
MEMBERSHIP_TABLE = Table(AccountMembership, ["contact_id", "account_id", "role", "is_primary", "created_at"])
CONTACT_TAG_TABLE = Table(Contact.tags.through, ["contact_id", "tag_id"])

CHANNELS = list(Channel.values)
# Preferred channel (index into CHANNELS, -1 for none): email dominates, web and letter never.
PREFERRED = (0, 1, 2, 3, 5, 6, 7, -1)
PREFERRED_CUM = cumulative([0.45, 0.20, 0.08, 0.05, 0.05, 0.05, 0.05, 0.07])
SOURCE_NAMES = [name for name, _w in SOURCES]
SOURCE_CUM = cumulative([w for _n, w in SOURCES])
STAGES = (LifecycleStage.PROSPECT, LifecycleStage.CUSTOMER, LifecycleStage.FORMER_CUSTOMER)
# Lifecycle by the account's tier (platinum, gold, iron, lead) and for people without an account.
STAGE_CUM_BY_TIER = (
    cumulative([0.10, 0.85, 0.05]),
    cumulative([0.10, 0.85, 0.05]),
    cumulative([0.25, 0.60, 0.15]),
    cumulative([0.85, 0.10, 0.05]),
)
STAGE_CUM_INDEPENDENT = cumulative([0.40, 0.45, 0.15])
SIZE_WEIGHT = np.array([2.0, 4.0, 8.0, 20.0, 50.0])  # expected contacts per account, by size
AFFILIATED_SHARE = 0.85
FREE_MAIL_PATTERNS = ("{f}.{l}{n}", "{f}{l}{n}", "{i}{l}{n}", "{f}_{l}{n}")
WORK_MAIL_PATTERNS = ("{f}.{l}", "{i}{l}", "{f}")
YEAR = 365.25 * 86400


def _level(k: int) -> int:
    """Org-chart depth of the k-th contact of an account: 1 head, 3 executives, 8 managers, rest staff."""
    return 0 if k == 0 else 1 if k < 4 else 2 if k < 12 else 3


def _accounts_of_contacts(world: World, count: int) -> np.ndarray:
    """Account position per contact (-1: none), grouped by account in account order."""
    accounts = len(world.account_name)
    if accounts == 0:
        return np.full(count, -1, dtype=np.int64)
    affiliated = int(round(count * AFFILIATED_SHARE))
    weights = SIZE_WEIGHT[world.account_size] * world.np_rng.lognormal(0.0, 0.5, size=accounts)
    per_account = world.np_rng.multinomial(affiliated, weights / weights.sum())
    owner = np.repeat(np.arange(accounts, dtype=np.int64), per_account)
    return np.concatenate([owner, np.full(count - affiliated, -1, dtype=np.int64)])


def contacts_generate(world: World, count: int, tag_ids: dict[str, int]) -> np.ndarray:
    """Write ``count`` contacts with their child rows; fill ``world``'s contact arrays.

    Returns the positions of contacts that may become timeline hubs (people at large accounts).
    """
    rng = world.rng
    users = world.users
    account_of_array = _accounts_of_contacts(world, count)
    # Plain lists in the loop: indexing a numpy array per row costs more than the row's own work.
    account_of = account_of_array.tolist()
    account_country = world.account_country.tolist()
    account_created = world.account_created.tolist()
    account_owner = world.account_owner.tolist()
    account_team = world.account_team.tolist()
    account_tier = world.account_tier.tolist()
    out_account: list[int] = []
    out_owner: list[int] = []
    out_created: list[float] = []
    out_channel: list[int] = []
    country_cum = cumulative(world.country_weights)
    service_cum = cumulative([0.5, 0.2, 0.3])
    today = dt.datetime.fromtimestamp(world.now, tz=dt.UTC).date().toordinal()
    independent_start = world.now - 3 * YEAR
    advance = world.progress.phase("contacts", count)

    block_account = -2
    levels: list[list[int]] = [[], [], [], []]
    used_locals: set[str] = set()
    k_in_block = 0
    for chunk_start in range(0, count, CHUNK):
        contacts, emails, phones, addresses, memberships, tags = [], [], [], [], [], []
        for position in range(chunk_start, min(count, chunk_start + CHUNK)):
            contact_id = world.contact_base + position
            account_pos = account_of[position]
            if account_pos != block_account:
                block_account, k_in_block = account_pos, 0
                levels = [[], [], [], []]
                used_locals = set()
            has_account = account_pos >= 0
            if has_account and rng.random() < 0.8:
                country_index = account_country[account_pos]
            else:
                country_index = weighted_index(rng, country_cum)
            pool = world.pools[country_index]
            country = pool.country
            female = rng.random() < 0.5
            first = world.pick(pool.first_names_female if female else pool.first_names_male)
            last = world.pick(pool.last_names)
            f, lname = ascii_slug(first), ascii_slug(last)
            names = {"f": f, "l": lname, "i": f[0], "n": contact_id}

            # Emails: work address at the company domain first (primary), then free-mail ones.
            contact_emails: list[tuple[str, str]] = []
            if has_account:
                pattern = WORK_MAIL_PATTERNS[account_pos % len(WORK_MAIL_PATTERNS)]
                local = pattern.format(**names)
                if local in used_locals:
                    local = f"{local}{k_in_block}"
                used_locals.add(local)
                contact_emails.append((f"{local}@{world.account_domain[account_pos]}", EmailKind.WORK))
            extra = 1 if not has_account else (1 if rng.random() < 0.35 else 0)
            if extra and rng.random() < 0.15:
                extra = 2
            providers = list(country.free_mail)
            for slot in range(extra):
                provider = providers.pop(int(rng.random() * len(providers)))
                local = FREE_MAIL_PATTERNS[(contact_id + slot) % len(FREE_MAIL_PATTERNS)].format(**names)
                contact_emails.append((f"{local}@{provider}", EmailKind.HOME if slot == 0 else EmailKind.OTHER))
            for index, (address, kind) in enumerate(contact_emails):
                emails.append((contact_id, address, kind, index == 0))

            # Phones: usually a mobile, sometimes a work line of the company's country.
            contact_phones: list[tuple[str, str]] = []
            roll = rng.random()
            if roll < 0.85:
                contact_phones.append((phone_number(pool, rng, mobile=True), PhoneKind.MOBILE))
            if has_account and rng.random() < 0.4:
                work_pool = world.pools[account_country[account_pos]]
                number = phone_number(work_pool, rng, mobile=False)
                if all(number != p for p, _k in contact_phones):
                    contact_phones.append((number, PhoneKind.WORK))
            for index, (number, kind) in enumerate(contact_phones):
                phones.append((contact_id, number, kind, index == 0))

            # Account, title and place in the org chart.
            account_id = None
            reports_to = None
            title = ""
            if has_account:
                account_id = world.account_base + account_pos
                level = _level(k_in_block)
                boss_level = next((lv for lv in range(level - 1, -1, -1) if levels[lv]), None)
                if boss_level is not None:
                    reports_to = world.pick(levels[boss_level])
                levels[level].append(contact_id)
                title = world.pick(TITLES_BY_LEVEL[level])
                created = account_created[account_pos]
                created += rng.random() * max(0.0, world.now - 7 * 86400 - created)
                memberships.append(
                    (contact_id, account_id, world.pick(MEMBERSHIP_ROLES_BY_LEVEL[level]), True, datetime_of(created))
                )
                if len(world.account_name) > 1 and rng.random() < 0.05:
                    other = int(rng.random() * len(world.account_name))
                    if other != account_pos:
                        memberships.append((contact_id, world.account_base + other, world.pick(SECONDARY_ROLES),
                                            False, datetime_of(created)))
                owner = account_owner[account_pos]
                team = account_team[account_pos] or None
                if rng.random() < 0.08:
                    owner = world.pick(users.sales_owners)
                    team = users.team_of[owner]
                stage = STAGES[weighted_index(rng, STAGE_CUM_BY_TIER[account_tier[account_pos]])]
                company = world.account_name[account_pos]
            else:
                created = independent_start + rng.random() * (world.now - 7 * 86400 - independent_start)
                owner = users.service_owners[weighted_index(rng, service_cum)]
                team = users.team_of[owner]
                stage = STAGES[weighted_index(rng, STAGE_CUM_INDEPENDENT)]
                company = ""

            if rng.random() < 0.5:
                addresses.append((
                    None, contact_id, AddressKind.HOME, world.pick(pool.streets), world.pick(pool.cities),
                    world.pick(pool.regions) if pool.regions else "", world.pick(pool.postcodes), country.code,
                ))
            if rng.random() < 0.2:
                for tag in {world.pick(CONTACT_TAGS) for _ in range(1 + (rng.random() < 0.3))}:
                    tags.append((contact_id, tag_ids[tag]))
            channel = PREFERRED[weighted_index(rng, PREFERRED_CUM)]
            birthday = (
                dt.date.fromordinal(today - rng.randrange(22 * 365, 68 * 365)) if rng.random() < 0.6 else None
            )
            updated = created + rng.random() * (world.now - created)
            search = contact_search_text(
                SimpleNamespace(first_name=first, last_name=last),
                [e for e, _k in contact_emails],
                [p for p, _k in contact_phones],
                company,
            )
            contacts.append((
                contact_id, first, last, title, contact_emails[0][0] if contact_emails else "",
                contact_phones[0][0] if contact_phones else "", account_id, reports_to, birthday,
                country.language, world.pick(country.time_zones), CHANNELS[channel] if channel >= 0 else "",
                stage, SOURCE_NAMES[weighted_index(rng, SOURCE_CUM)],
                f"CRM-{contact_id}" if rng.random() < 0.3 else "", search, owner, team,
                datetime_of(created), datetime_of(updated), owner,
            ))
            out_account.append(account_id or 0)
            out_owner.append(owner)
            out_created.append(created)
            out_channel.append(channel)
            k_in_block += 1
        world.writer.write(CONTACT_TABLE, contacts)
        world.writer.write(EMAIL_TABLE, emails)
        world.writer.write(PHONE_TABLE, phones)
        world.writer.write(ADDRESS_TABLE, addresses)
        world.writer.write(MEMBERSHIP_TABLE, memberships)
        world.writer.write(CONTACT_TAG_TABLE, tags)
        advance(len(contacts))

    world.contact_account = np.array(out_account, dtype=np.int64)
    world.contact_owner = np.array(out_owner, dtype=np.int64)
    world.contact_created = np.array(out_created, dtype=np.float64)
    world.contact_channel = np.array(out_channel, dtype=np.int8)
    affiliated = account_of_array >= 0
    big = np.flatnonzero(affiliated & (world.account_size[np.maximum(account_of_array, 0)] >= 3))
    return big if big.size else np.flatnonzero(affiliated)
