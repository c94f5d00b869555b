"""``rapport demo`` at a tiny size: exact counts, the parties' invariants, reproducibility, logins."""

from __future__ import annotations

import datetime as dt
import hashlib
from io import StringIO
from typing import Any

import numpy as np
import phonenumbers
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test import Client, RequestFactory

from rapport.activities.models import Interaction, Note, Task
from rapport.core.models import Team, User
from rapport.demo.activity import plan_activity
from rapport.demo.users import DEMO_PASSWORD, DEMO_USERS
from rapport.parties.choices import Channel
from rapport.parties.models import Account, AccountMembership, Contact, ContactEmail, ContactPhone
from rapport.parties.normalize import email_normalize, phone_normalize
from rapport.parties.selectors import search_all
from rapport.parties.services import account_search_text, contact_search_text

TODAY = dt.date(2025, 6, 1)
ANCHOR = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
# No leads: they (and the accounts their conversion adds) have their own test.
SIZE = {"accounts": 30, "contacts": 100, "interactions": 1000, "leads": 0}


def run_demo(**options: Any) -> str:
    out = StringIO()
    call_command("demo", **{**SIZE, "today": TODAY, **options}, stdout=out)
    return out.getvalue()


def digest() -> str:
    """A fingerprint of the generated rows, ids included."""
    h = hashlib.sha256()
    for row in Contact.objects.order_by("id").values_list(
        "id", "first_name", "last_name", "email", "phone", "account_id", "reports_to_id", "lifecycle_stage",
        "birthday", "created_at", "search_text",
    ):
        h.update(repr(row).encode())
    for row in Account.objects.order_by("id").values_list("id", "name", "domain", "parent_id", "annual_revenue"):
        h.update(repr(row).encode())
    for row in Interaction.objects.order_by("contact_id", "occurred_at", "channel", "subject").values_list(
        "contact_id", "account_id", "channel", "direction", "subject", "occurred_at", "duration_seconds", "outcome"
    ):
        h.update(repr(row).encode())
    return h.hexdigest()


def test_demo_writes_exactly_the_requested_rows(db: Any) -> None:
    # when
    output = run_demo()
    # then
    assert Account.objects.count() == 30
    assert Contact.objects.count() == 100
    assert Interaction.objects.count() == 1000
    assert Note.objects.count() == 50
    assert Task.objects.count() == 25
    assert "30 accounts, 100 contacts, 1,000 interactions" in output
    assert "rapport-demo" in output


def test_demo_contacts_keep_the_parties_invariants(db: Any) -> None:
    # given
    run_demo()
    # then: primary email/phone/account are repeated on the contact, search_text is the services'
    for contact in Contact.objects.select_related("account").prefetch_related("emails", "phones", "memberships"):
        emails = list(contact.emails.all())
        phones = list(contact.phones.all())
        assert 1 <= len(emails) <= 3
        assert [e.is_primary for e in emails] == [True] + [False] * (len(emails) - 1)
        assert contact.email == emails[0].email
        assert contact.phone == (phones[0].number if phones else "")
        assert sum(p.is_primary for p in phones) == (1 if phones else 0)
        primary = [m for m in contact.memberships.all() if m.is_primary]
        assert len(primary) <= 1
        assert contact.account_id == (primary[0].account_id if primary else None)
        company = contact.account.name if contact.account_id else ""
        assert contact.search_text == contact_search_text(
            contact,
            contact.emails.values_list("email", flat=True),
            contact.phones.values_list("number", flat=True),
            company,
        )
        if contact.reports_to_id is not None:
            assert contact.reports_to_id < contact.pk
            assert Contact.objects.get(pk=contact.reports_to_id).account_id == contact.account_id
    for account in Account.objects.all():
        assert account.search_text == account_search_text(account)
        assert account.parent_id is None or account.parent_id < account.pk


def test_demo_emails_and_phones_are_normalised_and_valid(db: Any) -> None:
    # given
    run_demo()
    # then
    for email in ContactEmail.objects.values_list("email", flat=True):
        assert email_normalize(email) == email
    numbers = [*ContactPhone.objects.values_list("number", flat=True), *Account.objects.values_list("phone", flat=True)]
    assert numbers
    for number in numbers:
        assert phone_normalize(number) == number
        assert phonenumbers.is_valid_number(phonenumbers.parse(number)), number


def test_demo_timeline_follows_the_contacts(db: Any) -> None:
    # given
    run_demo()
    # then: the interaction's account is the contact's primary account; nothing is in the future
    mismatched = Interaction.objects.exclude(contact__isnull=True).exclude(account_id=None).exclude(
        account_id=F("contact__account_id")
    )
    assert mismatched.count() == 0
    assert Interaction.objects.filter(contact__account__isnull=False, account__isnull=True).count() == 0
    assert Interaction.objects.filter(occurred_at__gte=ANCHOR).count() == 0
    assert set(Interaction.objects.values_list("channel", flat=True)) == set(Channel.values)
    assert set(Interaction.objects.values_list("direction", flat=True)) == {"inbound", "outbound"}
    assert Task.objects.filter(done_at__isnull=True, due_at__lt=ANCHOR).exists()  # some are overdue
    assert Task.objects.filter(reminder_at__isnull=False).exists()


def test_demo_same_seed_gives_identical_data_and_another_seed_does_not(db: Any) -> None:
    # given
    run_demo(seed=7, reset=True)
    first = digest()
    # when
    run_demo(seed=7, reset=True)
    second = digest()
    run_demo(seed=8, reset=True)
    third = digest()
    # then
    assert first == second
    assert third != first
    assert Contact.objects.count() == 100  # reset replaced, not added


def test_demo_without_reset_adds_rows_after_the_existing_ones(db: Any) -> None:
    # given
    run_demo()
    top = Contact.objects.order_by("-id").values_list("id", flat=True).first()
    # when
    run_demo(accounts=3, contacts=5, interactions=10)
    # then
    assert Contact.objects.count() == 105
    assert Contact.objects.filter(id__gt=top).count() == 5
    assert Interaction.objects.count() == 1010


def test_demo_users_exist_with_their_roles_and_can_sign_in(db: Any) -> None:
    # given
    run_demo()
    run_demo(reset=True)  # a second run keeps (and repairs) the users
    # then
    for spec in DEMO_USERS:
        user = User.objects.get(username=spec.username)
        assert user.role_names == {spec.role}
        assert (user.team.name if user.team else None) == spec.team
        # Client.login would call authenticate() without a request, which django-axes refuses;
        # passing one is what the login view does.
        request = RequestFactory().post("/login/")
        assert Client().login(request=request, username=spec.username, password=DEMO_PASSWORD), spec.username
    manager = User.objects.get(username="manager")
    assert set(Team.objects.filter(manager=manager).values_list("name", flat=True)) == {"East", "West", "Enterprise"}
    assert Team.objects.get(name="Service").manager.username == "service_manager"


def test_demo_fast_mode_leaves_the_schema_as_it_was(db: Any) -> None:
    # given
    tables = [Contact._meta.db_table, Interaction._meta.db_table, AccountMembership._meta.db_table]

    def schema() -> dict[str, set[str]]:
        with connection.cursor() as cursor:
            return {t: set(connection.introspection.get_constraints(cursor, t)) for t in tables}

    before = schema()
    # when (PostgreSQL drops and rebuilds indexes and foreign keys; SQLite ignores --fast)
    run_demo(fast=True, reset=True)
    # then: the rebuilt search indexes answer a search for a generated contact
    assert schema() == before
    assert Contact.objects.count() == 100
    contact = Contact.objects.exclude(last_name="").order_by("id").first()
    found = search_all(actor=User.objects.get(username="admin"), query=f"{contact.first_name} {contact.last_name}")
    assert contact in found["contacts"]


def test_activity_plan_sums_exactly_and_has_heavy_contacts() -> None:
    # given
    rng = np.random.default_rng(1)
    now = ANCHOR.timestamp()
    birth = now - rng.random(10_000) * 3 * 365 * 86400
    # when
    plan = plan_activity(rng, birth=birth, now=now, total=100_000, hub_candidates=np.arange(0, 10_000, 7))
    # then
    assert int(plan.counts.sum()) == 100_000
    assert plan.counts.max() >= 1000
    assert (plan.counts == 0).sum() > 1000  # many quiet contacts
    assert np.all(plan.end <= now) and np.all(plan.end >= plan.start)
