"""Concurrent writers never lose an update: versions are checked by the database itself."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from rapport.core.errors import Conflict
from rapport.parties.models import Contact
from rapport.parties.services import contact_create, contact_update


def _in_thread(target, results: list, index: int) -> None:
    try:
        results[index] = target()
    except Exception as exc:  # noqa: BLE001 - the test inspects what each writer got
        results[index] = exc
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_two_writers_with_the_same_version_one_wins_one_conflicts(rep) -> None:
    # given: a contact both writers read at version 1
    contact = contact_create(actor=rep, data={"first_name": "Ann", "last_name": "Lee"})
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def writer(title: str):
        def run():
            mine = Contact.objects.get(pk=contact.pk)
            barrier.wait()
            return contact_update(actor=rep, contact=mine, data={"title": title}, expected_version=1)

        return run

    # when: both write at once
    threads = [threading.Thread(target=_in_thread, args=(writer(t), results, i)) for i, t in enumerate(["A", "B"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    # then: exactly one succeeded, the other got a conflict, and the stored title is the winner's
    conflicts = [r for r in results if isinstance(r, Conflict)]
    winners = [r for r in results if isinstance(r, Contact)]
    assert (len(winners), len(conflicts)) == (1, 1), results
    stored = Contact.objects.get(pk=contact.pk)
    assert (stored.title, stored.version) == (winners[0].title, 2)


@pytest.mark.django_db(transaction=True)
def test_retrying_writers_lose_no_update(rep) -> None:
    # given: a contact and six writers that each add their own tag, retrying on conflict
    contact = contact_create(actor=rep, data={"first_name": "Ann", "last_name": "Lee"})
    writers = 6
    barrier = threading.Barrier(writers)
    results: list = [None] * writers

    def writer(tag: str):
        def run():
            barrier.wait()
            for _attempt in range(50):
                mine = Contact.objects.get(pk=contact.pk)
                names = list(mine.tags.values_list("name", flat=True))
                try:
                    return contact_update(
                        actor=rep, contact=mine, data={"tags": [*names, tag]}, expected_version=mine.version
                    )
                except Conflict:
                    continue
            raise AssertionError("no progress")

        return run

    # when
    threads = [threading.Thread(target=_in_thread, args=(writer(f"t{i}"), results, i)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    # then: every writer's tag is there and the version counted every write
    assert all(isinstance(r, Contact) for r in results), results
    stored = Contact.objects.get(pk=contact.pk)
    assert sorted(stored.tags.values_list("name", flat=True)) == [f"t{i}" for i in range(writers)]
    assert stored.version == 1 + writers
