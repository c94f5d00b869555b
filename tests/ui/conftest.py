"""Helpers for the web UI tests: records built through the real services."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.core.models import User
from rapport.parties.models import Account, Contact
from rapport.parties.services import account_create, contact_create


@pytest.fixture
def make_contact():
    def _make(actor: User, **data: Any) -> Contact:
        data.setdefault("first_name", "Ada")
        data.setdefault("last_name", "Lovelace")
        return contact_create(actor=actor, data=data)

    return _make


@pytest.fixture
def make_account():
    def _make(actor: User, **data: Any) -> Account:
        data.setdefault("name", "Acme Corp")
        return account_create(actor=actor, data=data)

    return _make
