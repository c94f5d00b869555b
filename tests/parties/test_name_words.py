"""PostgreSQL's name-word dictionary follows the contacts: words come with a name and go with the last one."""

from __future__ import annotations

import pytest
from django.db import connection

from rapport.parties.services import contact_create, contact_delete, contact_update

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the dictionary is PostgreSQL's; SQLite's FTS5 index prunes itself"
)


def make(actor, first: str, last: str):
    return contact_create(actor=actor, data={"first_name": first, "last_name": last})


def _words() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT word FROM parties_nameword")
        return {row[0] for row in cursor.fetchall()}


def test_a_deleted_contacts_words_leave_the_dictionary_unless_someone_else_has_them(rep):
    only = make(rep, "Zebulon", "Quaxley")
    shared = make(rep, "Zebulon", "Smith")
    assert {"zebulon", "quaxley", "smith"} <= _words()
    contact_delete(actor=rep, contact=only)
    assert "quaxley" not in _words()
    assert {"zebulon", "smith"} <= _words()  # Zebulon Smith still has them
    contact_delete(actor=rep, contact=shared)
    assert not {"zebulon", "smith", "quaxley"} & _words()
    with connection.cursor() as cursor:  # nor any of their one-letter deletions
        cursor.execute("SELECT count(*) FROM parties_nameword WHERE word = ANY(%s)", [["zebulon", "quaxley"]])
        assert cursor.fetchone()[0] == 0


def test_a_renamed_contacts_old_words_go_and_new_ones_come(rep):
    contact = make(rep, "Ada", "Lovelcae")
    assert "lovelcae" in _words()
    contact_update(actor=rep, contact=contact, data={"last_name": "Lovelace"}, expected_version=contact.version)
    words = _words()
    assert "lovelace" in words and "lovelcae" not in words and "ada" in words
