"""Customers of team A (an account owned by the rep, one of its contacts, a contact of nobody)
and of team B, with the service roles; all built through the real services."""

from __future__ import annotations

import pytest

from rapport.core.choices import Role
from rapport.parties.services import account_create, contact_create
from rapport.service.services import case_open


@pytest.fixture
def agent(make_user, team_a):
    return make_user(Role.SERVICE_AGENT, team_a, username="agent")


@pytest.fixture
def marketer(make_user, team_a):
    return make_user(Role.MARKETER, team_a, username="marketer")


@pytest.fixture
def account(rep):
    return account_create(actor=rep, data={"name": "Buyer Ltd"})


@pytest.fixture
def contact(rep, account):
    return contact_create(actor=rep, data={"first_name": "Cora", "last_name": "Customer", "account_id": account.pk})


@pytest.fixture
def stranger(rep):
    """A contact the rep may read who is not a member of ``account``."""
    return contact_create(actor=rep, data={"first_name": "Sam", "last_name": "Stranger"})


@pytest.fixture
def case(rep, account, contact):
    return case_open(actor=rep, account=account, contact=contact, subject="Printer jams on page 2")


@pytest.fixture
def other_case(other_rep):
    """A case of team B, which nobody in team A (but its administrators) may see."""
    other_account = account_create(actor=other_rep, data={"name": "Elsewhere GmbH"})
    return case_open(actor=other_rep, account=other_account, subject="Invoice address wrong")
