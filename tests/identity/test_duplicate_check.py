"""The create-time duplicate check: candidates from indexes, scores from the stored matcher, access kept."""

from __future__ import annotations

import pytest

from rapport.core.errors import PermissionDenied
from rapport.parties.choices import DuplicateSource
from rapport.parties.duplicate_check import duplicate_check, duplicate_check_record
from rapport.parties.fitted import current_matcher
from rapport.parties.identity_batch import dedupe_run
from rapport.parties.models import DuplicatePair, FittedMatcher

ADA = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "emails": ["ada@analytical.test"],
    "phones": ["+44 20 7946 0001"],
    "birthday": "1815-12-10",
    "addresses": [{"street": "12 St James's Square", "city": "London", "postal_code": "SW1Y 4JH"}],
}


@pytest.fixture
def ada(rep, make_contact):
    return make_contact(rep, **ADA)


@pytest.fixture
def crowd(rep, make_contact):
    """People who share a name part or a city with Ada but are somebody else."""
    return [
        make_contact(rep, first_name="Grace", last_name="Hopper", emails=["grace@navy.test"]),
        make_contact(rep, first_name="Ada", last_name="Byron", emails=["ab@elsewhere.test"], birthday="1990-01-01"),
        make_contact(rep, first_name="Charles", last_name="Babbage", emails=["cb@engine.test"],
                     addresses=[{"street": "1 Dorset Street", "city": "London", "postal_code": "W1U 4EF"}]),
    ]


def _ids(check) -> list[int]:
    return [m.contact_id for m in check.matches]


def test_typo_in_both_names_with_the_same_email_is_a_likely_duplicate(rep, ada, crowd):
    check = duplicate_check(actor=rep, data={"first_name": "Adda", "last_name": "Lovelcae",
                                             "emails": ["ADA@analytical.test"]})
    assert _ids(check) == [ada.pk]
    (match,) = check.matches
    assert match.likely and match.probability >= 0.9
    assert match.evidence["email"] == "exact"
    assert match.evidence["surname"] in ("similar", "very similar")
    assert match.name == "Ada Lovelace" and match.email == "ada@analytical.test"
    assert check.matcher == "default" and check.hidden == 0


def test_swapped_names_and_a_reformatted_phone_are_found_without_an_email(rep, ada, crowd, settings):
    settings.RAPPORT_DEFAULT_PHONE_REGION = "GB"  # a national number reads as British
    check = duplicate_check(actor=rep, data={"first_name": "Lovelace", "last_name": "Ada",
                                             "phones": ["020 7946 0001"], "birthday": "1815-12-10"})
    assert _ids(check)[:1] == [ada.pk]
    assert check.matches[0].evidence["phone"] == "exact"
    assert check.matches[0].likely


def test_a_secondary_email_counts_as_shared(rep, make_contact, crowd):
    holder = make_contact(rep, first_name="Augusta", last_name="King",
                          emails=[{"email": "countess@home.test", "is_primary": True}, "ada@analytical.test"])
    check = duplicate_check(actor=rep, data={"first_name": "Augusta", "last_name": "King",
                                             "emails": ["ada@analytical.test"]})
    assert _ids(check) == [holder.pk]
    assert check.matches[0].evidence["email"] == "exact"


def test_a_nickname_with_the_same_surname_and_birthday_is_a_candidate(rep, make_contact, crowd):
    robert = make_contact(rep, first_name="Robert", last_name="Stephenson", birthday="1803-10-16",
                          addresses=[{"street": "20 Great George Street", "city": "London", "postal_code": "SW1P 3AA"}])
    check = duplicate_check(actor=rep, data={
        "first_name": "Bob", "last_name": "Stephenson", "birthday": "1803-10-16",
        "addresses": [{"street": "20 Great George St", "city": "London", "postal_code": "SW1P 3AA"}],
    })
    assert _ids(check) == [robert.pk]
    assert check.matches[0].evidence["given_name"] == "nickname"


def test_somebody_else_with_the_same_first_name_is_not_a_duplicate(rep, ada, crowd):
    check = duplicate_check(actor=rep, data={"first_name": "Ada", "last_name": "Wong",
                                             "emails": ["ada.wong@other.test"]})
    assert check.matches == ()


@pytest.mark.parametrize("data", [{}, {"first_name": "", "last_name": ""}, {"emails": ["not an email"]},
                                  {"first_name": "Al"}, {"phones": ["12"]}, {"first_name": "x" * 500}])
def test_empty_or_unusable_input_has_an_empty_answer(rep, ada, data):
    assert duplicate_check(actor=rep, data=data).matches == ()


def test_a_contact_the_actor_may_not_read_is_counted_not_shown(rep, other_rep, ada):
    check = duplicate_check(actor=other_rep, data={"first_name": "Ada", "last_name": "Lovelace",
                                                   "emails": ["ada@analytical.test"]})
    assert check.matches == ()
    assert check.hidden == 1


def test_the_check_needs_the_right_to_add_contacts(analyst, ada):
    with pytest.raises(PermissionDenied):
        duplicate_check(actor=analyst, data=ADA)
    with pytest.raises(PermissionDenied):
        duplicate_check(actor=None, data=ADA)


def test_the_record_being_edited_is_not_its_own_duplicate(rep, ada):
    assert duplicate_check(actor=rep, data=ADA, exclude_id=ada.pk).matches == ()
    assert _ids(duplicate_check(actor=rep, data=ADA)) == [ada.pk]


def test_an_exact_copy_is_certain(rep, ada):
    (match,) = duplicate_check(actor=rep, data=ADA).matches
    assert match.exact_copy and match.probability == 1.0


def test_after_a_scan_the_stored_matcher_is_used(admin_user, rep, ada, crowd, make_contact):
    assert current_matcher()[1] == "default"
    make_contact(rep, first_name="Ada", last_name="Lovelace", emails=["ada.l@other.test"])
    dedupe_run(actor=admin_user, auto_merge_at=0.999, review_at=0.99)
    stored = FittedMatcher.objects.get(kind="contact")
    assert stored.records == 5 and not stored.learnt  # five contacts teach EM nothing: the prior, with their names
    check = duplicate_check(actor=rep, data={"first_name": "Ada", "last_name": "Lovelace",
                                             "emails": ["ada@analytical.test"]})
    assert check.matcher == "fitted"
    assert ada.pk in _ids(check)


def test_a_dry_run_scan_stores_no_matcher(admin_user, ada, crowd):
    dedupe_run(actor=admin_user, dry_run=True)
    assert not FittedMatcher.objects.exists()


def test_a_matcher_of_another_format_falls_back_to_the_prior(rep, ada):
    FittedMatcher.objects.create(kind="contact", data={"format": 999})
    check = duplicate_check(actor=rep, data=ADA)
    assert check.matcher == "default"
    assert _ids(check) == [ada.pk]


def test_created_anyway_queues_the_pairs_for_review(rep, ada, make_contact):
    data = {"first_name": "Ada", "last_name": "Lovelace", "emails": ["ada@analytical.test"]}
    check = duplicate_check(actor=rep, data=data)
    twin = make_contact(rep, **data)
    recorded = duplicate_check_record(contact=twin, check=check)
    assert recorded.created == 1
    pair = DuplicatePair.objects.get()
    assert {pair.contact_a_id, pair.contact_b_id} == {ada.pk, twin.pk}
    assert pair.source == DuplicateSource.CREATE
    assert pair.evidence["via"] == "create" and pair.evidence["fields"]["email"] == "exact"
