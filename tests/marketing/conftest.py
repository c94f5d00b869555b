"""A campaign world built through the services: a marketer of team A, accounts of a rep of team A
(readable by the team), a contact at one of them, and a campaign sent at a fixed time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from rapport.core.choices import Role
from rapport.marketing.services import campaign_create, campaign_members_add
from rapport.parties.services import account_create, contact_create

SENT = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def marketer(make_user, team_a):
    return make_user(Role.MARKETER, team_a, username="marketer")


@pytest.fixture
def other_marketer(make_user, team_b):
    return make_user(Role.MARKETER, team_b, username="other_marketer")


@pytest.fixture
def accounts(rep) -> list[Any]:
    return [account_create(actor=rep, data={"name": f"Customer {i}"}) for i in range(3)]


@pytest.fixture
def contact(rep, accounts):
    return contact_create(actor=rep, data={"first_name": "Cora", "last_name": "Contact", "account_id": accounts[0].pk})


@pytest.fixture
def campaign(marketer):
    return campaign_create(actor=marketer, name="Summer sale", starts_on=dt.date(2026, 6, 1))


@pytest.fixture
def members(marketer, campaign, accounts, contact) -> list[Any]:
    """Three members: the contact at account 0, and accounts 1 and 2 without a contact."""
    campaign_members_add(
        actor=marketer,
        campaign=campaign,
        recipients=[(accounts[0], contact), (accounts[1], None), (accounts[2], None)],
        sent_at=SENT,
    )
    return list(campaign.members.order_by("id"))
