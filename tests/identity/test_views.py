"""The review pages: who may open them, the side-by-side pair, decisions, undo, escaping."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rapport.parties.choices import DuplicateSource, DuplicateStatus
from rapport.parties.duplicates import PairProposal, duplicate_pairs_record
from rapport.parties.models import Contact, ContactMerge, DuplicatePair
from rapport.parties.services import contact_update

from .conftest import world


@pytest.fixture
def pair(rep, make_contact):
    a = make_contact(rep, first_name="Ada", last_name="Lovelace", emails=["ada@x.test"], birthday="1815-12-10")
    b = make_contact(rep, first_name="Ada", last_name="Lovelac", title="Countess", emails=["countess@x.test"])
    duplicate_pairs_record(
        pairs=[PairProposal(a.pk, b.pk, 0.91, {"fields": {"surname": {"level": 2, "label": "very similar"}}})],
        source=DuplicateSource.BATCH,
    )
    return DuplicatePair.objects.get()


PAGES = [("duplicate_queue", "get", False), ("duplicate_pair", "get", True), ("duplicates_accept", "post", False)]


@pytest.mark.parametrize(("name", "method", "with_pair"), PAGES)
def test_anonymous_is_sent_to_login(client, pair, name, method, with_pair):
    url = reverse(name, args=[pair.pk] if with_pair else [])
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize(("name", "method", "with_pair"), PAGES)
def test_an_analyst_may_not_review(analyst, client_of, pair, name, method, with_pair):
    url = reverse(name, args=[pair.pk] if with_pair else [])
    response = getattr(client_of(analyst), method)(url, {"min_probability": "0.5"} if method == "post" else None)
    assert response.status_code == 403
    assert DuplicatePair.objects.get().status == DuplicateStatus.OPEN


def test_another_teams_rep_finds_nothing(other_rep, client_of, pair):
    client = client_of(other_rep)
    assert client.get(reverse("duplicate_pair", args=[pair.pk])).status_code == 404
    assert client.post(reverse("duplicate_pair", args=[pair.pk]), {"decision": "skip"}).status_code == 404
    queue = client.get(reverse("duplicate_queue"))
    assert queue.status_code == 200
    assert b"Lovelac" not in queue.content
    assert DuplicatePair.objects.get().status == DuplicateStatus.OPEN


def test_the_queue_lists_the_pair_and_links_it(rep, client_of, pair):
    response = client_of(rep).get(reverse("duplicate_queue"))
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("duplicate_pair", args=[pair.pk]) in html
    assert "91 %" in html
    assert 'name="min_probability"' in html
    contacts = client_of(rep).get(reverse("contact_list")).content.decode()
    assert reverse("duplicate_queue") in contacts


def test_the_pair_page_shows_both_values_with_a_radio_per_field(rep, client_of, pair):
    response = client_of(rep).get(reverse("duplicate_pair", args=[pair.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    # equally complete, so the older contact survives; its empty title takes the duplicate's
    assert 'name="choice_title" value="duplicate" checked' in html
    assert 'name="choice_last_name" value="survivor" checked' in html
    assert "very similar" in html
    assert "countess@x.test" in html and "ada@x.test" in html
    assert 'data-key="m"' in html and 'data-key="n"' in html and 'data-key="s"' in html
    assert "m merge · n not a duplicate · s skip · j next · k previous" in html


def test_merging_from_the_page_offers_an_undo_that_restores(rep, client_of, pair):
    client = client_of(rep)
    a, b = pair.contact_a, pair.contact_b
    before = world(a.pk, b.pk)
    response = client.post(
        reverse("duplicate_pair", args=[pair.pk]),
        {
            "decision": "merge",
            "survivor_id": a.pk,
            f"version_{a.pk}": a.version,
            f"version_{b.pk}": b.version,
            "choice_last_name": "duplicate",
            "choice_title": "duplicate",
        },
    )
    merge = ContactMerge.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('duplicate_queue')}?merged={merge.pk}"
    assert Contact.objects.get(pk=a.pk).last_name == "Lovelac"
    page = client.get(response["Location"]).content.decode()
    assert reverse("merge_undo", args=[merge.pk]) in page
    assert "was merged into" in page
    # the 360 page's history shows the merge
    detail = client.get(reverse("contact_detail", args=[a.pk])).content.decode()
    assert "Merged" in detail and f"Ada Lovelac (#{b.pk})" in detail
    # when undone
    undone = client.post(reverse("merge_undo", args=[merge.pk]))
    assert undone.status_code == 302
    assert undone["Location"] == reverse("contact_detail", args=[b.pk])
    after = world(a.pk, b.pk)
    assert [{k: v for k, v in r.items() if k not in ("version", "updated_at")} for r in after["contacts"]] == [
        {k: v for k, v in r.items() if k not in ("version", "updated_at")} for r in before["contacts"]
    ]
    assert DuplicatePair.objects.get().status == DuplicateStatus.OPEN


def test_a_stale_page_is_refused_with_a_message(rep, client_of, pair):
    client = client_of(rep)
    a, b = pair.contact_a, pair.contact_b
    contact_update(actor=rep, contact=b, data={"title": "Lady"}, expected_version=None)
    response = client.post(
        reverse("duplicate_pair", args=[pair.pk]),
        {"decision": "merge", "survivor_id": a.pk, f"version_{a.pk}": a.version, f"version_{b.pk}": 1},
    )
    assert response.status_code == 409
    assert "was changed since you looked at it" in response.content.decode()
    assert Contact.objects.filter(pk=b.pk).exists()
    assert ContactMerge.objects.count() == 0


@pytest.mark.parametrize(("decision", "status"), [("not_duplicate", "not_duplicate"), ("skip", "skipped")])
def test_not_a_duplicate_and_skip(rep, client_of, pair, decision, status):
    response = client_of(rep).post(reverse("duplicate_pair", args=[pair.pk]), {"decision": decision})
    assert response.status_code == 302
    assert DuplicatePair.objects.get().status == status
    assert Contact.objects.count() == 2


def test_accept_all_above_a_probability(rep, client_of, pair, make_contact):
    low_a = make_contact(rep, first_name="Grace")
    low_b = make_contact(rep, first_name="Grace")
    duplicate_pairs_record(pairs=[PairProposal(low_a.pk, low_b.pk, 0.6)], source=DuplicateSource.BATCH)
    response = client_of(rep).post(reverse("duplicates_accept"), {"min_probability": "0.9"})
    assert response.status_code == 302
    assert ContactMerge.objects.count() == 1
    assert Contact.objects.filter(pk__in=[low_a.pk, low_b.pk]).count() == 2
    assert client_of(rep).post(reverse("duplicates_accept"), {"min_probability": "lots"}).status_code == 302
    assert ContactMerge.objects.count() == 1


def test_user_content_is_escaped(rep, client_of, make_contact):
    evil = "<script>alert(1)</script>"
    a = make_contact(rep, first_name=evil, last_name="X", title=evil)
    b = make_contact(rep, first_name=evil, last_name="Y")
    duplicate_pairs_record(pairs=[PairProposal(a.pk, b.pk, 0.9)], source=DuplicateSource.BATCH)
    pair = DuplicatePair.objects.get()
    for url in (reverse("duplicate_queue"), reverse("duplicate_pair", args=[pair.pk])):
        html = client_of(rep).get(url).content.decode()
        assert evil not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_scan_can_be_started_from_the_queue(rep, analyst, client_of, make_contact):
    for index in range(3):
        make_contact(rep, first_name="Ann", last_name=f"Other{index}", emails=[f"a{index}@x.test"])
    response = client_of(rep).post(reverse("duplicates_scan"))
    assert response.status_code == 302
    assert response["Location"] == reverse("duplicate_queue")
    assert client_of(analyst).post(reverse("duplicates_scan")).status_code == 403
