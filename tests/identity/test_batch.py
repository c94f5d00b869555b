"""The duplicate scan end to end on a small generated set with known duplicates."""

from __future__ import annotations

import random

import pytest
from django.core.management import call_command

from rapport.core.errors import ValidationFailed
from rapport.parties.choices import DuplicateSource, DuplicateStatus
from rapport.parties.duplicates import PairProposal, duplicate_decide, duplicate_pairs_record
from rapport.parties.identity_batch import contacts_frame, dedupe_run
from rapport.parties.models import Contact, ContactMerge, DuplicatePair
from rapport.parties.services import contact_create

FIRST = ["Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "Lucas", "Mia", "Mateo", "Amelia", "Levi",
         "Harper", "Ezra", "Evelyn", "Asher", "Luna", "Leo", "Chloe", "Jack", "Nora", "Owen", "Zoe", "Caleb"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Castellano", "Nakamura", "Brennan", "Haddad", "Kowalski", "Ferreira",
        "Abernathy", "Vasquez", "Thorne", "Delacroix", "Yilmaz", "Petrov", "Osei", "Lundgren", "Carrington",
        "Mbeki", "Sorensen", "Whitfield", "Quintero", "Halvorsen", "Achterberg"]
CITIES = [("Portland", "97201", "OR"), ("Austin", "78701", "TX"), ("Denver", "80202", "CO"),
          ("Boston", "02108", "MA"), ("Seattle", "98101", "WA")]


def _people(n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    names = rng.sample([(f, last) for f in FIRST for last in LAST], n)
    people = []
    for i, (first, last) in enumerate(names):
        city, postal, region = rng.choice(CITIES)
        people.append({
            "first_name": first,
            "last_name": last,
            "emails": [f"{first}.{last}{i}@mail{i % 7}.test".lower()],
            "phones": [f"+1415555{i:04d}"],
            "addresses": [{"street": f"{100 + i} {rng.choice(['Oak', 'Pine', 'Elm', 'Main'])} St", "city": city,
                           "postal_code": postal, "region": region, "country": "US"}],
            "birthday": f"19{60 + i % 40}-{1 + i % 12:02d}-{1 + i % 28:02d}",
        })
    return people


def _typo(name: str) -> str:
    return name[:-2] + name[-1] + name[-2]


@pytest.fixture
def generated(rep):
    """200 contacts: 170 people; 15 of them entered again identically but for case and phone format,
    5 again with a typo in the surname and the same birthday (both sure); 10 again with a typo in the
    surname, another street of the same city, and no email, phone or birthday (doubtful)."""
    people = _people(170)
    originals = [contact_create(actor=rep, data=person) for person in people]
    sure, doubtful = [], []
    for index in range(15):
        person = dict(people[index])
        person["emails"] = [person["emails"][0].upper()]
        number = person["phones"][0]
        person["phones"] = [f"({number[2:5]}) {number[5:8]}-{number[8:]}"]
        sure.append((originals[index].pk, contact_create(actor=rep, data=person).pk))
    for index in range(15, 20):
        person = people[index]
        copy = {"first_name": person["first_name"], "last_name": _typo(person["last_name"]),
                "birthday": person["birthday"]}
        sure.append((originals[index].pk, contact_create(actor=rep, data=copy).pk))
    for index in range(21, 31):  # (person 20's "Haddad"/"Haddda" share no blocking key)
        person = people[index]
        address = {**person["addresses"][0], "street": f"{900 + index} Cedar Ave"}
        copy = {"first_name": person["first_name"], "last_name": _typo(person["last_name"]), "addresses": [address]}
        doubtful.append((originals[index].pk, contact_create(actor=rep, data=copy).pk))
    return {"sure": sure, "doubtful": doubtful}


def test_the_frame_holds_every_contact_with_its_first_address(rep, generated):
    frame = contacts_frame(actor=rep, chunk_size=7)
    assert len(frame) == 200
    assert list(frame.columns) == ["id", "first_name", "last_name", "email", "phone", "street", "city",
                                   "postal_code", "region", "birthday", "company"]
    first = frame.iloc[0]
    assert (first["city"] != "", first["birthday"] is not None) == (True, True)
    assert frame["id"].is_monotonic_increasing


def test_the_scan_merges_the_sure_duplicates_and_queues_the_doubtful_ones(rep, generated):
    # when
    summary = dedupe_run(actor=rep, auto_merge_at=0.98, review_at=0.2)
    # then every sure duplicate was merged into its original
    merged = dict(ContactMerge.objects.values_list("duplicate_id", "survivor_id"))
    assert summary.contacts == 200
    for original, copy in generated["sure"]:
        assert merged.get(copy, merged.get(original)) in (original, copy)
        assert Contact.objects.filter(pk__in=[original, copy]).count() == 1
    # and every doubtful pair waits for review, both contacts still there
    queued = set(DuplicatePair.objects.filter(status=DuplicateStatus.OPEN).values_list("contact_a", "contact_b"))
    assert queued == {tuple(sorted(pair)) for pair in generated["doubtful"]}
    assert summary.merged == 20
    assert summary.queued == len(queued)
    assert Contact.objects.count() == 180


def test_not_a_duplicate_is_never_proposed_again_nor_merged(rep, generated):
    # given a reviewer said one sure pair and one doubtful pair are different people
    sure_pair, doubtful_pair = generated["sure"][0], generated["doubtful"][0]
    duplicate_pairs_record(
        pairs=[PairProposal(*sure_pair, 0.99), PairProposal(*doubtful_pair, 0.9)], source=DuplicateSource.MANUAL
    )
    for pair in DuplicatePair.objects.all():
        duplicate_decide(actor=rep, pair=pair, decision="not_duplicate")
    # when the scan runs, twice
    dedupe_run(actor=rep, auto_merge_at=0.98, review_at=0.2)
    second = dedupe_run(actor=rep, auto_merge_at=0.98, review_at=0.2)
    # then neither pair was merged or proposed, and the second run merged nothing more
    assert Contact.objects.filter(pk__in=[*sure_pair, *doubtful_pair]).count() == 4
    statuses = {
        (a, b): status for a, b, status in DuplicatePair.objects.values_list("contact_a", "contact_b", "status")
    }
    assert statuses[tuple(sorted(sure_pair))] == DuplicateStatus.NOT_DUPLICATE
    assert statuses[tuple(sorted(doubtful_pair))] == DuplicateStatus.NOT_DUPLICATE
    assert second.merged == 0
    assert sorted(statuses.values()).count(DuplicateStatus.OPEN) == 9


def test_a_dry_run_changes_nothing(rep, generated):
    # when
    summary = dedupe_run(actor=rep, auto_merge_at=0.98, review_at=0.2, dry_run=True)
    # then
    assert (summary.merged, summary.queued, summary.dry_run) == (20, 10, True)
    assert Contact.objects.count() == 200
    assert DuplicatePair.objects.count() == 0
    assert ContactMerge.objects.count() == 0


def test_the_command_prints_one_summary_line(rep, admin_user, generated, capsys):
    # when
    call_command("rapport_dedupe", "--review-at", "0.2", "--as", "admin")
    # then
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert out[0].startswith("200 contacts, ")
    assert "merged 20, queued 10 for review" in out[0]


@pytest.mark.parametrize(("auto", "review"), [(0.5, 0.8), (0.0, 0.0), (1.5, 0.8), (float("nan"), 0.5)])
def test_thresholds_are_checked(rep, auto, review):
    with pytest.raises(ValidationFailed):
        dedupe_run(actor=rep, auto_merge_at=auto, review_at=review)


def test_the_task_runs_the_scan_and_is_idempotent(rep, generated):
    from rapport.parties.tasks import dedupe_run_task

    first = dedupe_run_task.delay(rep.pk, 0.98, 0.2).get()
    second = dedupe_run_task.delay(rep.pk, 0.98, 0.2).get()
    assert (first["merged"], first["queued"]) == (20, 10)
    assert (second["merged"], second["contacts"]) == (0, 180)
    assert DuplicatePair.objects.filter(status=DuplicateStatus.OPEN).count() == 10
