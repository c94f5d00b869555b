"""The account review pages: who may open them, the side-by-side pair, decisions, bulk accept, undo, escaping."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rapport.parties.choices import DuplicateSource, DuplicateStatus
from rapport.parties.duplicates import PairProposal, duplicate_pairs_record
from rapport.parties.models import Account, AccountDuplicatePair, AccountMerge
from rapport.parties.services import account_create, account_update


@pytest.fixture
def pair(rep):
    a = account_create(actor=rep, data={"name": "Acme Ltd", "website": "acme.test", "industry": "software"})
    b = account_create(actor=rep, data={"name": "ACME Limited", "website": "www.acme.test", "phone": "+442079460018"})
    duplicate_pairs_record(
        pairs=[PairProposal(a.pk, b.pk, 0.92, {"fields": {"name": {"level": 4, "label": "same"},
                                                          "domain": {"level": 1, "label": "same"}}})],
        source=DuplicateSource.BATCH,
        kind="account",
    )
    return AccountDuplicatePair.objects.get()


PAGES = [("account_duplicate_queue", "get", False), ("account_duplicate_pair", "get", True),
         ("account_duplicates_accept", "post", False), ("account_duplicates_scan", "post", False)]


@pytest.mark.parametrize(("name", "method", "with_pair"), PAGES)
def test_anonymous_is_sent_to_login(client, pair, name, method, with_pair):
    response = getattr(client, method)(reverse(name, args=[pair.pk] if with_pair else []))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize(("name", "method", "with_pair"), PAGES)
def test_a_user_without_the_merge_right_may_not_review(analyst, make_user, team_a, client_of, pair, name, method,
                                                        with_pair):
    from rapport.core.choices import Role

    url = reverse(name, args=[pair.pk] if with_pair else [])
    for user in (analyst, make_user(Role.SERVICE_MANAGER, team_a)):  # service managers merge contacts only
        response = getattr(client_of(user), method)(url, {"min_probability": "0.5"} if method == "post" else None)
        assert response.status_code == 403
    assert AccountDuplicatePair.objects.get().status == DuplicateStatus.OPEN


def test_a_rep_who_cannot_see_one_account_finds_nothing(other_rep, client_of, pair):
    client = client_of(other_rep)
    assert client.get(reverse("account_duplicate_pair", args=[pair.pk])).status_code == 404
    assert client.post(reverse("account_duplicate_pair", args=[pair.pk]), {"decision": "skip"}).status_code == 404
    queue = client.get(reverse("account_duplicate_queue"))
    assert queue.status_code == 200 and b"ACME Limited" not in queue.content
    assert AccountDuplicatePair.objects.get().status == DuplicateStatus.OPEN


def test_a_pair_with_one_unreadable_account_is_hidden(rep, other_rep, client_of):
    mine = account_create(actor=rep, data={"name": "Globex"})
    theirs = account_create(actor=other_rep, data={"name": "Globex Corp"})
    duplicate_pairs_record(pairs=[PairProposal(mine.pk, theirs.pk, 0.95)], source=DuplicateSource.BATCH,
                           kind="account")
    hidden = AccountDuplicatePair.objects.get()
    client = client_of(rep)
    assert client.get(reverse("account_duplicate_pair", args=[hidden.pk])).status_code == 404
    assert b"Globex Corp" not in client.get(reverse("account_duplicate_queue")).content


def test_the_queue_lists_the_pair_and_the_account_pages_link_it(rep, client_of, pair):
    client = client_of(rep)
    html = client.get(reverse("account_duplicate_queue")).content.decode()
    assert reverse("account_duplicate_pair", args=[pair.pk]) in html
    assert "92 %" in html and "ACME Limited" in html
    assert reverse("account_duplicates_accept") in html and reverse("account_duplicates_scan") in html
    assert reverse("account_duplicate_queue") in client.get(reverse("account_list")).content.decode()
    detail = client.get(reverse("account_detail", args=[pair.account_a_id])).content.decode()
    assert reverse("account_duplicate_queue") in detail
    # and the contact queue is not mixed with it
    assert "ACME Limited" not in client.get(reverse("duplicate_queue")).content.decode()


def test_each_queue_switches_to_the_other_for_a_user_who_may_merge_both(rep, client_of, pair):
    client = client_of(rep)
    contacts = client.get(reverse("duplicate_queue")).content.decode()
    accounts = client.get(reverse("account_duplicate_queue")).content.decode()
    tab = '<a href="{}" aria-current="page">'
    assert tab.format(reverse("duplicate_queue")) in contacts and reverse("account_duplicate_queue") in contacts
    assert tab.format(reverse("account_duplicate_queue")) in accounts and reverse("duplicate_queue") in accounts


def test_the_pair_page_shows_both_accounts_with_a_radio_per_field(rep, client_of, pair):
    html = client_of(rep).get(reverse("account_duplicate_pair", args=[pair.pk])).content.decode()
    assert 'name="choice_phone" value="duplicate" checked' in html
    assert 'name="choice_name" value="survivor" checked' in html
    assert "Website domain" in html
    assert 'data-key="m"' in html and 'data-key="n"' in html and 'data-key="s"' in html
    assert reverse("account_detail", args=[pair.account_a_id]) in html


def test_merging_from_the_page_offers_an_undo_that_restores(rep, client_of, pair):
    client = client_of(rep)
    a, b = pair.account_a, pair.account_b
    response = client.post(reverse("account_duplicate_pair", args=[pair.pk]), {
        "decision": "merge", "survivor_id": a.pk, f"version_{a.pk}": a.version, f"version_{b.pk}": b.version,
        "choice_name": "duplicate",
    })
    assert response.status_code == 302
    merge = AccountMerge.objects.get()
    assert response["Location"].endswith(f"?merged={merge.pk}")
    assert Account.objects.get(pk=a.pk).name == "ACME Limited"
    assert not Account.objects.filter(pk=b.pk).exists()
    banner = client.get(response["Location"]).content.decode()
    assert reverse("account_merge_undo", args=[merge.pk]) in banner
    undone = client.post(reverse("account_merge_undo", args=[merge.pk]))
    assert undone.status_code == 302 and undone["Location"] == reverse("account_detail", args=[b.pk])
    assert Account.objects.get(pk=a.pk).name == "Acme Ltd" and Account.objects.get(pk=b.pk).name == "ACME Limited"
    assert AccountDuplicatePair.objects.get().status == DuplicateStatus.OPEN


def test_not_a_duplicate_is_remembered_and_never_proposed_again(rep, client_of, pair):
    response = client_of(rep).post(reverse("account_duplicate_pair", args=[pair.pk]), {"decision": "not_duplicate"})
    assert response.status_code == 302
    pair.refresh_from_db()
    assert pair.status == DuplicateStatus.NOT_DUPLICATE and pair.decided_by == rep
    result = duplicate_pairs_record(pairs=[PairProposal(pair.account_b_id, pair.account_a_id, 0.99)],
                                    source=DuplicateSource.BATCH, kind="account")
    assert (result.created, result.updated, result.ignored) == (0, 0, 1)
    pair.refresh_from_db()
    assert pair.status == DuplicateStatus.NOT_DUPLICATE


def test_skip_leaves_the_queue_and_a_stale_version_is_refused(rep, client_of, pair):
    a, b = pair.account_a, pair.account_b
    seen = b.version
    account_update(actor=rep, account=Account.objects.get(pk=b.pk), data={"tier": "gold"}, expected_version=None)
    client = client_of(rep)
    stale = client.post(reverse("account_duplicate_pair", args=[pair.pk]), {
        "decision": "merge", "survivor_id": a.pk, f"version_{a.pk}": a.version, f"version_{b.pk}": seen})
    assert stale.status_code == 409
    assert Account.objects.filter(pk=b.pk).exists() and not AccountMerge.objects.exists()
    assert client.post(reverse("account_duplicate_pair", args=[pair.pk]), {"decision": "skip"}).status_code == 302
    pair.refresh_from_db()
    assert pair.status == DuplicateStatus.SKIPPED


def test_bulk_accept_merges_pairs_at_or_above_the_threshold_only(rep, client_of, pair):
    low_a = account_create(actor=rep, data={"name": "Initech"})
    low_b = account_create(actor=rep, data={"name": "Initrode"})
    duplicate_pairs_record(pairs=[PairProposal(low_a.pk, low_b.pk, 0.6)], source=DuplicateSource.BATCH,
                           kind="account")
    response = client_of(rep).post(reverse("account_duplicates_accept"), {"min_probability": "0.9"})
    assert response.status_code == 302
    assert AccountMerge.objects.count() == 1
    assert Account.objects.filter(pk__in=[low_a.pk, low_b.pk]).count() == 2


def test_names_are_escaped(rep, client_of):
    a = account_create(actor=rep, data={"name": "<script>alert(1)</script> Ltd"})
    b = account_create(actor=rep, data={"name": "<script>alert(1)</script> Limited"})
    duplicate_pairs_record(pairs=[PairProposal(a.pk, b.pk, 0.9)], source=DuplicateSource.BATCH, kind="account")
    client = client_of(rep)
    for url in (reverse("account_duplicate_queue"),
                reverse("account_duplicate_pair", args=[AccountDuplicatePair.objects.get().pk])):
        html = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
