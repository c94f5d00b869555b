"""The account duplicate scan end to end on a small generated set of companies with known duplicates."""

from __future__ import annotations

import random

import pytest
from django.core.management import call_command

from rapport.analytics.resolve.organisations import OrgMatcher
from rapport.core.errors import PermissionDenied
from rapport.parties.choices import DuplicateSource, DuplicateStatus
from rapport.parties.duplicates import PairProposal, duplicate_decide, duplicate_pairs_record
from rapport.parties.identity_batch import accounts_frame, dedupe_run
from rapport.parties.models import Account, AccountDuplicatePair, AccountMerge, FittedMatcher
from rapport.parties.services import account_create

WORDS = ["Hartley", "Okafor", "Lindqvist", "Moreau", "Castellano", "Brennan", "Fujimoto", "Kowalczyk", "Ashworth",
         "Delacroix", "Schreiber", "Mendoza", "Gallagher", "Petrov", "Fairbanks", "Holloway", "Kingsley", "Marchetti",
         "Rasmussen", "Thornton", "Vasquez", "Winslow", "Abernathy", "Bergstrom", "Carrington"]
TRADES = ["Logistics", "Engineering", "Foods", "Plumbing", "Software", "Textiles", "Motors", "Analytics"]
CITIES = [("Leeds", "LS1 4AP"), ("Bristol", "BS1 5TR"), ("Glasgow", "G1 2FF"), ("Cardiff", "CF10 1EP")]


def _companies(n: int, seed: int = 3) -> list[dict]:
    rng = random.Random(seed)
    names = rng.sample([(w, t) for w in WORDS for t in TRADES], n)
    out = []
    for i, (word, trade) in enumerate(names):
        city, postal = rng.choice(CITIES)
        out.append({
            "name": f"{word} {trade} Ltd",
            "website": f"https://www.{word.lower()}{trade.lower()}{i}.co.uk",
            "phone": f"+44113496{i:04d}",
            "addresses": [{"street": f"{10 + i} {rng.choice(['High', 'Mill', 'Dock', 'Park'])} Street", "city": city,
                           "postal_code": postal, "country": "GB"}],
        })
    return out


@pytest.fixture
def generated(rep):
    """150 companies: 120 accounts; 10 entered again as "… Limited" with the website written another
    way (sure); 5 again with a typo in the name, same phone and website (sure); 5 again with a typo
    in the name, another street of the same city and nothing else (doubtful)."""
    companies = _companies(120)
    originals = [account_create(actor=rep, data=company) for company in companies]
    sure, doubtful = [], []
    for index in range(10):
        company = dict(companies[index])
        company["name"] = company["name"].replace(" Ltd", " Limited").upper()
        company["website"] = company["website"].replace("https://www.", "")
        sure.append((originals[index].pk, account_create(actor=rep, data=company).pk))
    for index in range(10, 15):
        company = dict(companies[index])
        word, trade, _ltd = company["name"].split(" ")
        company["name"] = f"{word[:-2]}{word[-1]}{word[-2]} {trade}"
        company["addresses"] = []
        sure.append((originals[index].pk, account_create(actor=rep, data=company).pk))
    for index in range(15, 20):
        company = companies[index]
        word, trade, _ltd = company["name"].split(" ")
        address = {**company["addresses"][0], "street": f"{900 + index} Cedar Road"}
        copy = {"name": f"{word[:-2]}{word[-1]}{word[-2]} {trade} Ltd", "addresses": [address]}
        doubtful.append((originals[index].pk, account_create(actor=rep, data=copy).pk))
    return {"sure": sure, "doubtful": doubtful}


def test_the_frame_holds_every_readable_account_with_its_first_address(rep, other_rep, generated):
    account_create(actor=other_rep, data={"name": "Not yours Ltd"})
    frame = accounts_frame(actor=rep, chunk_size=7)
    assert len(frame) == 140
    assert list(frame.columns) == ["id", "name", "domain", "website", "phone", "street", "city", "postal_code",
                                   "external_id"]
    assert frame["id"].is_monotonic_increasing
    assert (frame["city"] != "").sum() == 135  # the five typo copies without an address


def test_the_scan_merges_the_sure_duplicates_queues_the_doubtful_ones_and_keeps_the_matcher(rep, generated):
    summary = dedupe_run(actor=rep, auto_merge_at=0.98, review_at=0.3, kind="account")
    merged = dict(AccountMerge.objects.values_list("duplicate_id", "survivor_id"))
    assert summary.contacts == 140 and summary.kind == "account"
    for original, copy in generated["sure"]:
        assert merged.get(copy, merged.get(original)) in (original, copy)
        assert Account.objects.filter(pk__in=[original, copy]).count() == 1
    queued = set(AccountDuplicatePair.objects.filter(status=DuplicateStatus.OPEN).values_list("account_a",
                                                                                              "account_b"))
    assert queued == {tuple(sorted(pair)) for pair in generated["doubtful"]}
    assert (summary.merged, summary.queued) == (15, 5)
    assert Account.objects.count() == 125
    stored = FittedMatcher.objects.get(kind="account")
    assert stored.records == 140
    matcher = OrgMatcher.from_dict(stored.data)
    (hit,) = matcher.score({"name": "Hartley Foods Limited", "website": "hartleyfoods1.co.uk"},
                           [{"name": "Hartley Foods Ltd", "website": "https://www.hartleyfoods1.co.uk"}])
    assert hit.probability > 0.5


def test_not_a_duplicate_is_never_proposed_again_nor_merged(rep, generated):
    sure_pair, doubtful_pair = generated["sure"][0], generated["doubtful"][0]
    duplicate_pairs_record(pairs=[PairProposal(*sure_pair, 0.99), PairProposal(*doubtful_pair, 0.9)],
                           source=DuplicateSource.MANUAL, kind="account")
    for pair in AccountDuplicatePair.objects.all():
        duplicate_decide(actor=rep, pair=pair, decision="not_duplicate")
    dedupe_run(actor=rep, auto_merge_at=0.98, review_at=0.3, kind="account")
    second = dedupe_run(actor=rep, auto_merge_at=0.98, review_at=0.3, kind="account")
    assert Account.objects.filter(pk__in=[*sure_pair, *doubtful_pair]).count() == 4
    rows = AccountDuplicatePair.objects.values_list("account_a", "account_b", "status")
    statuses = {(a, b): status for a, b, status in rows}
    assert statuses[tuple(sorted(sure_pair))] == DuplicateStatus.NOT_DUPLICATE
    assert statuses[tuple(sorted(doubtful_pair))] == DuplicateStatus.NOT_DUPLICATE
    assert second.merged == 0
    assert list(statuses.values()).count(DuplicateStatus.OPEN) == 4


def test_a_dry_run_changes_nothing(rep, generated):
    summary = dedupe_run(actor=rep, auto_merge_at=0.98, review_at=0.3, dry_run=True, kind="account")
    assert (summary.merged, summary.queued, summary.dry_run) == (15, 5, True)
    assert Account.objects.count() == 140
    assert not AccountDuplicatePair.objects.exists() and not AccountMerge.objects.exists()
    assert not FittedMatcher.objects.filter(kind="account").exists()


def test_the_command_scans_accounts_with_a_flag_and_contacts_without(rep, admin_user, generated, capsys):
    call_command("rapport_dedupe", "--accounts", "--review-at", "0.3", "--as", "admin")
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert out[0].startswith("140 accounts, ") and "merged 15, queued 5 for review" in out[0]
    call_command("rapport_dedupe", "--as", "admin")
    assert capsys.readouterr().out.strip().startswith("0 contacts, ")


def test_the_task_scans_accounts_and_is_idempotent(rep, generated):
    from rapport.parties.tasks import dedupe_run_task

    first = dedupe_run_task.delay(rep.pk, 0.98, 0.3, "account").get()
    second = dedupe_run_task.delay(rep.pk, 0.98, 0.3, "account").get()
    assert (first["merged"], first["queued"], first["kind"]) == (15, 5, "account")
    assert (second["merged"], second["contacts"]) == (0, 125)
    assert AccountDuplicatePair.objects.filter(status=DuplicateStatus.OPEN).count() == 5


def test_scanning_accounts_needs_the_account_merge_right(make_user, team_a):
    from rapport.core.choices import Role

    service_manager = make_user(Role.SERVICE_MANAGER, team_a)  # merges contacts, not accounts
    with pytest.raises(PermissionDenied):
        dedupe_run(actor=service_manager, kind="account")
    dedupe_run(actor=service_manager)  # contacts: allowed


def test_a_bad_kind_is_refused(rep):
    from rapport.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        dedupe_run(actor=rep, kind="planet")
