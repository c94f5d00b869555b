"""``rapport demo``: a realistic, reproducible data set, written with the databases' bulk paths.

Same options (seed, sizes, ``today``) on an empty database → the same rows, ids included. The
data are anchored at midnight UTC of ``today`` (default: the current day) so two runs on one
day agree; everything generated lies before that instant (open tasks may be due after it).

Rows bypass the services for speed but keep their invariants (see ``contacts`` and
``accounts``); demo rows leave no audit events. Everything is written in one transaction: an
interrupted run leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass

import numpy as np
from django.db import connection, transaction

from rapport.activities.models import Attachment, Interaction, Note, Task
from rapport.demo.accounts import ACCOUNT_ADDRESS_TABLE, ACCOUNT_TABLE, ACCOUNT_TAG_TABLE, accounts_generate
from rapport.demo.activity import plan_activity
from rapport.demo.commerce import commerce_generate, commerce_reset
from rapport.demo.contacts import (
    CONTACT_TABLE,
    CONTACT_TAG_TABLE,
    EMAIL_TABLE,
    MEMBERSHIP_TABLE,
    PHONE_TABLE,
    contacts_generate,
)
from rapport.demo.leads import leads_generate, leads_reset
from rapport.demo.opportunities import opportunities_generate, opportunities_reset
from rapport.demo.people import build_pools
from rapport.demo.service_marketing import service_marketing_generate, service_marketing_reset
from rapport.demo.timeline import (
    INTERACTION_TABLE,
    NOTE_TABLE,
    TASK_TABLE,
    interactions_generate,
    notes_and_tasks_generate,
)
from rapport.demo.users import demo_users_ensure
from rapport.demo.vocab import ACCOUNT_TAGS, CONTACT_TAGS, COUNTRIES
from rapport.demo.world import NoProgress, Progress, World
from rapport.demo.writers import LoadWindow, analyze, next_id, sequences_reset, writer_for_connection
from rapport.parties.models import Account, AccountMembership, Address, Contact, ContactEmail, ContactPhone, Tag

FAST_CONTACTS = 100_000  # from this size on, --fast is implied
FAST_INTERACTIONS = 1_000_000
ALL_TABLES = (
    ACCOUNT_TABLE, ACCOUNT_ADDRESS_TABLE, ACCOUNT_TAG_TABLE, CONTACT_TABLE, EMAIL_TABLE, PHONE_TABLE,
    MEMBERSHIP_TABLE, CONTACT_TAG_TABLE, INTERACTION_TABLE, NOTE_TABLE, TASK_TABLE,
)


@dataclass(frozen=True)
class DemoOptions:
    accounts: int = 2_000
    contacts: int = 10_000
    interactions: int = 100_000
    orders: int = 150
    leads: int = 300
    opportunities: int = 400
    seed: int = 42
    reset: bool = False
    fast: bool = False
    today: dt.date | None = None

    @property
    def notes(self) -> int:
        return self.interactions // 20 if self.contacts else 0

    @property
    def tasks(self) -> int:
        return self.interactions // 40 if self.contacts else 0

    @property
    def use_fast(self) -> bool:
        return self.fast or self.contacts >= FAST_CONTACTS or self.interactions >= FAST_INTERACTIONS


@dataclass(frozen=True)
class DemoSummary:
    accounts: int
    contacts: int
    interactions: int
    notes: int
    tasks: int
    orders: int
    seconds: float
    vendor: str
    fast: bool
    leads: int = 0
    opportunities: int = 0
    cases: int = 0
    campaign_messages: int = 0

    def line(self) -> str:
        return (
            f"Demo data on {self.vendor}: {self.accounts:,} accounts, {self.contacts:,} contacts, "
            f"{self.interactions:,} interactions, {self.notes:,} notes, {self.tasks:,} tasks, {self.orders:,} orders, "
            f"{self.leads:,} leads, {self.opportunities:,} opportunities, {self.cases:,} cases, "
            f"{self.campaign_messages:,} campaign messages in {self.seconds:.1f} s"
            f"{' (fast path)' if self.fast else ''}."
        )


def demo_reset() -> None:
    """Delete every party and timeline row (and, through cascades, rows of upper apps on them).

    Cases, campaigns, deals and commerce rows go first: they protect their accounts from deletion."""
    service_marketing_reset()
    opportunities_reset()
    leads_reset()
    commerce_reset()
    models = [Interaction, Note, Task, Attachment, AccountMembership, Address, ContactEmail, ContactPhone,
              Contact.tags.through, Account.tags.through, Contact, Account, Tag]
    if connection.vendor == "postgresql":
        tables = ", ".join(f'"{m._meta.db_table}"' for m in models)
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {tables} CASCADE")
        return
    # Elsewhere: plain deletes of this layer's tables, child tables first. If rows of upper apps
    # point at contacts, accounts or tags, the ORM deletes those parties so their on_delete rules
    # apply; otherwise a plain DELETE does the same in a fraction of the time.
    with connection.cursor() as cursor:
        cursor.execute(f'UPDATE "{Contact._meta.db_table}" SET reports_to_id = NULL, account_id = NULL')
        cursor.execute(f'UPDATE "{Account._meta.db_table}" SET parent_id = NULL')
        for model in models[:10]:
            cursor.execute(f'DELETE FROM "{model._meta.db_table}"')
    for model in models[10:]:
        if _referenced_from_outside(model, models):
            model._default_manager.all().delete()
        else:
            with connection.cursor() as cursor:
                cursor.execute(f'DELETE FROM "{model._meta.db_table}"')


def _referenced_from_outside(model: type, known: list) -> bool:
    for rel in model._meta.related_objects:
        if rel.related_model in known or rel.related_model is model:
            continue
        if rel.related_model._base_manager.filter(**{f"{rel.field.name}__isnull": False}).exists():
            return True
    return False


def _flush_deferred_checks() -> None:
    """PostgreSQL: run foreign-key checks still queued in this transaction now.

    TRUNCATE and ALTER TABLE refuse to run on a table with pending trigger events, which happens
    when the demo runs twice in one transaction (tests do).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _day(today: dt.date | None) -> dt.date:
    return today or dt.datetime.now(tz=dt.UTC).date()


def _anchor(today: dt.date | None) -> float:
    day = _day(today)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()


def demo_generate(options: DemoOptions, progress: Progress | None = None) -> DemoSummary:
    started = time.perf_counter()
    progress = progress or NoProgress()
    fast = options.use_fast and connection.vendor == "postgresql"
    with transaction.atomic():
        _flush_deferred_checks()
        if options.reset:
            demo_reset()
        users = demo_users_ensure()
        tag_ids = {name: Tag.objects.get_or_create(name=name)[0].pk for name in sorted({*CONTACT_TAGS, *ACCOUNT_TAGS})}
        world = World(
            rng=random.Random(options.seed),
            np_rng=np.random.default_rng(options.seed),
            pools=build_pools(options.seed),
            country_weights=[c.weight for c in COUNTRIES],
            now=_anchor(options.today),
            users=users,
            writer=writer_for_connection(),
            progress=progress,
            account_base=next_id(Account),
            contact_base=next_id(Contact),
        )
        window = LoadWindow(sorted({t.model._meta.db_table for t in ALL_TABLES})) if fast else None
        if window:
            window.open()
        accounts_generate(world, options.accounts, tag_ids)
        hub_candidates = contacts_generate(world, options.contacts, tag_ids)
        plan = plan_activity(
            world.np_rng, birth=world.contact_created, now=world.now, total=options.interactions if options.contacts
            else 0, hub_candidates=hub_candidates,
        )
        interactions = interactions_generate(world, plan)
        notes_and_tasks_generate(world, options.notes, options.tasks)
        if window:
            window.close(progress.phase("indexes", window.steps))
        sequences_reset(list(dict.fromkeys(t.model for t in ALL_TABLES)))
        # After the sequences are reset: the services insert with ordinary ids.
        orders = commerce_generate(seed=options.seed, today=_day(options.today), orders=options.orders)
        leads = leads_generate(seed=options.seed, count=options.leads) if options.leads else 0
        deals = (opportunities_generate(seed=options.seed, today=_day(options.today), count=options.opportunities)
                 if options.opportunities else 0)
        cases, messages = service_marketing_generate(seed=options.seed, today=_day(options.today))
        analyze(list(dict.fromkeys([*(t.model for t in ALL_TABLES), Tag])))
    return DemoSummary(
        accounts=options.accounts,
        contacts=options.contacts,
        interactions=interactions,
        notes=options.notes,
        tasks=options.tasks,
        orders=orders,
        seconds=time.perf_counter() - started,
        leads=leads,
        opportunities=deals,
        cases=cases,
        campaign_messages=messages,
        vendor=connection.vendor,
        fast=fast,
    )
