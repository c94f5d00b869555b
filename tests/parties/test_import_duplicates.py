"""Duplicates during an import: auto-merge, review, skip and off, end to end on the real database.

The file below holds, besides two plain new people, a row duplicating an existing contact with a
typo in the email (line 2), two rows duplicating each other (lines 3 and 4), a malformed row
(line 5) and a row that only possibly duplicates an existing contact (line 6: same name, another
email; the default matcher gives it 0.87).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from rapport.core.choices import Role
from rapport.core.errors import PermissionDenied, ValidationFailed
from rapport.core.models import ObjectVisibility
from rapport.core.permissions import visibility_cache_clear
from rapport.parties.choices import DuplicateSource, DuplicateStatus, ImportStatus
from rapport.parties.imports.services import import_job_configure, import_job_create, import_job_start, import_run
from rapport.parties.merge import contact_merge_undo
from rapport.parties.models import Contact, ContactEmail, ContactMerge, DuplicatePair, ImportJob
from rapport.parties.services import contact_create

FILE = (
    b"First Name,Last Name,Email,Phone,Birthday\n"
    b"Ada,Lovelace,ada@exmaple.com,(415) 555-0100,\n"
    b"Alan,Turing,alan@example.org,+44 20 7946 0958,1912-06-23\n"
    b"Alan,Turing,alan.turing@example.org,+44 20 7946 0958,1912-06-23\n"
    b"Bad,Row,not-an-email,,\n"
    b"Grace,Hopper,grace.hopper@gmail.com,,\n"
    b"Katherine,Johnson,kj@example.com,,\n"
)


@pytest.fixture(autouse=True)
def _import_dir(settings, tmp_path):
    settings.RAPPORT_IMPORT_DIR = tmp_path / "imports"


@pytest.fixture
def existing(rep):
    """Ada and Grace, already in the database, owned by the rep."""
    ada = contact_create(
        actor=rep, data={"first_name": "Ada", "last_name": "Lovelace", "emails": ["ada@example.com"],
                         "phones": ["+14155550100"], "title": "Countess"},
    )
    grace = contact_create(
        actor=rep, data={"first_name": "Grace", "last_name": "Hopper", "emails": ["grace@navy.mil"],
                         "phones": ["+14155550101"]},
    )
    return {"ada": ada, "grace": grace}


def run(actor, tmp_path: Path, data: bytes = FILE, *, dry_run=False, **options) -> ImportJob:
    source = tmp_path / "people.csv"
    source.write_bytes(data)
    job = import_job_create(actor=actor, kind="contacts", path=source, original_name="people.csv", **options)
    import_job_configure(actor=actor, job=job, mapping=None, match_key="email", mode="upsert")
    return import_run(job_id=job.pk, dry_run=dry_run)


def counts(job: ImportJob) -> tuple[int, ...]:
    return (job.created_count, job.updated_count, job.unchanged_count, job.error_count, job.merged_count,
            job.queued_count, job.skipped_count)


def by_email(email: str) -> Contact:
    return Contact.objects.get(emails__email=email)


def pairs() -> set[tuple[int, int, str, str]]:
    return set(DuplicatePair.objects.values_list("contact_a", "contact_b", "status", "source"))


def rows_of(path: str) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def assert_bad_row_reported(job: ImportJob) -> None:
    errors = rows_of(job.error_file)[1:]
    assert [(line, column) for line, column, *_rest in errors] == [("5", "Email")]


# --- the four modes ---------------------------------------------------------------------------------


def test_off_imports_every_valid_row_and_looks_for_nothing(rep, existing, tmp_path):
    job = run(rep, tmp_path, duplicates="off")
    assert (job.status, counts(job)) == (ImportStatus.DONE, (5, 0, 0, 1, 0, 0, 0))
    assert Contact.objects.count() == 7
    assert (pairs(), ContactMerge.objects.count(), job.skip_file) == (set(), 0, "")
    assert_bad_row_reported(job)


def test_review_imports_every_row_and_queues_each_probable_pair(rep, existing, tmp_path):
    # when the file is imported with the default option
    job = run(rep, tmp_path)
    # then every valid row is a contact, nothing is merged
    assert job.duplicates == "review"
    assert (job.status, counts(job)) == (ImportStatus.DONE, (5, 0, 0, 1, 0, 3, 0))
    assert Contact.objects.count() == 7
    assert ContactMerge.objects.count() == 0
    # and exactly the three pairs wait for review, from the import
    ada2, alan, alan2, grace2 = (by_email(e).pk for e in ("ada@exmaple.com", "alan@example.org",
                                                          "alan.turing@example.org", "grace.hopper@gmail.com"))
    assert pairs() == {
        (existing["ada"].pk, ada2, DuplicateStatus.OPEN, DuplicateSource.IMPORT),
        (alan, alan2, DuplicateStatus.OPEN, DuplicateSource.IMPORT),
        (existing["grace"].pk, grace2, DuplicateStatus.OPEN, DuplicateSource.IMPORT),
    }
    ada_pair = DuplicatePair.objects.get(contact_b=ada2)
    assert ada_pair.probability > 0.98
    assert (ada_pair.evidence["import_job"], ada_pair.evidence["line"]) == (job.pk, 2)
    assert ada_pair.evidence["fields"]["email"]["label"] == "one typo"
    assert 0.8 <= DuplicatePair.objects.get(contact_b=grace2).probability < 0.98
    assert_bad_row_reported(job)


def test_auto_merge_merges_sure_pairs_into_the_existing_contact_and_queues_the_doubtful_one(rep, existing, tmp_path):
    ada = existing["ada"]
    job = run(rep, tmp_path, duplicates="auto_merge")
    # then lines 2 and 4 were merged away: 3 contacts created, 2 merged, 1 pair queued
    assert (job.status, counts(job)) == (ImportStatus.DONE, (3, 0, 0, 1, 2, 1, 0))
    assert Contact.objects.count() == 5
    # Ada survived with her own fields and gained the typo'd address as a second email
    ada.refresh_from_db()
    assert (ada.email, ada.title) == ("ada@example.com", "Countess")
    assert sorted(ContactEmail.objects.filter(contact=ada).values_list("email", flat=True)) == [
        "ada@example.com", "ada@exmaple.com"]
    # the second Alan was merged into the first one's contact
    alan = by_email("alan@example.org")
    assert sorted(alan.emails.values_list("email", flat=True)) == ["alan.turing@example.org", "alan@example.org"]
    merges = {m.survivor_id: m for m in ContactMerge.objects.all()}
    assert set(merges) == {ada.pk, alan.pk}
    assert merges[ada.pk].context["via"] == "import"
    assert (merges[ada.pk].context["import_job"], merges[ada.pk].context["line"]) == (job.pk, 2)
    # both merged pairs are remembered as decided, the doubtful Grace pair is open
    grace2 = by_email("grace.hopper@gmail.com")
    assert {(a, b, s) for a, b, s, _src in pairs()} == {
        (ada.pk, merges[ada.pk].duplicate_id, DuplicateStatus.MERGED),
        (alan.pk, merges[alan.pk].duplicate_id, DuplicateStatus.MERGED),
        (existing["grace"].pk, grace2.pk, DuplicateStatus.OPEN),
    }
    assert_bad_row_reported(job)


def test_merges_made_by_an_import_can_be_undone(rep, existing, tmp_path):
    # given an auto-merge import
    run(rep, tmp_path, duplicates="auto_merge")
    merge = ContactMerge.objects.get(survivor=existing["ada"])
    # when the merge is undone
    restored = contact_merge_undo(actor=rep, merge=merge)
    # then the imported row's contact is back with its own email, Ada has hers only,
    # and the pair is open in the review queue again
    assert (restored.pk, restored.email, restored.first_name) == (merge.duplicate_id, "ada@exmaple.com", "Ada")
    assert list(ContactEmail.objects.filter(contact=existing["ada"]).values_list("email", flat=True)) == [
        "ada@example.com"]
    pair = DuplicatePair.objects.get(contact_a=existing["ada"].pk, contact_b=restored.pk)
    assert pair.status == DuplicateStatus.OPEN


def test_skip_leaves_out_probable_duplicates_and_reports_them(rep, existing, tmp_path):
    job = run(rep, tmp_path, duplicates="skip")
    # then only Alan (line 3) and Katherine were created
    assert (job.status, counts(job)) == (ImportStatus.DONE, (2, 0, 0, 1, 0, 0, 3))
    assert sorted(Contact.objects.values_list("email", flat=True)) == [
        "ada@example.com", "alan@example.org", "grace@navy.mil", "kj@example.com"]
    assert (pairs(), ContactMerge.objects.count()) == (set(), 0)
    # and the skip report names each skipped line, what it matched and how probably
    report = rows_of(job.skip_file)
    assert report[0] == ["line", "contact_id", "contact", "matched_line", "probability", "raw"]
    got = [(line, contact_id, contact, matched) for line, contact_id, contact, matched, _p, _raw in report[1:]]
    assert got == [
        ("2", str(existing["ada"].pk), "Ada Lovelace", ""),
        ("4", "", "", "3"),
        ("6", str(existing["grace"].pk), "Grace Hopper", ""),
    ]
    probabilities = [float(row[4]) for row in report[1:]]
    assert probabilities[0] > 0.98 and probabilities[1] > 0.98 and 0.8 <= probabilities[2] < 0.98
    assert report[1][5].startswith("Ada,Lovelace,ada@exmaple.com")
    assert_bad_row_reported(job)


def test_a_dry_run_counts_merges_but_writes_no_pair_merge_or_contact(rep, existing, tmp_path):
    job = run(rep, tmp_path, duplicates="auto_merge", dry_run=True)
    assert (job.status, counts(job)) == (ImportStatus.DONE, (3, 0, 0, 1, 2, 1, 0))
    assert (Contact.objects.count(), pairs(), ContactMerge.objects.count()) == (2, set(), 0)


def test_a_second_run_of_the_same_file_changes_nothing(rep, existing, tmp_path):
    first = run(rep, tmp_path, duplicates="auto_merge")
    before = (Contact.objects.count(), pairs(), ContactMerge.objects.count())
    second = import_run(job_id=first.pk)
    # every row now matches its contact by email (merged rows through the survivor's added email)
    assert counts(second) == (0, 0, 5, 1, 0, 0, 0)
    assert (Contact.objects.count(), pairs(), ContactMerge.objects.count()) == before


def test_a_stored_fitted_matcher_is_used(rep, existing, tmp_path):
    from rapport.analytics.resolve import default_matcher
    from rapport.parties.models import FittedMatcher

    # given a stored matcher whose thresholds differ from the default (its model is the default's)
    data = {**default_matcher().to_dict(), "threshold": 0.5}
    FittedMatcher.objects.create(kind="contact", data=data, records=2)
    from rapport.parties.imports.duplicates import contact_matcher

    matcher, source = contact_matcher()
    assert (source, matcher.threshold) == ("fitted", 0.5)
    # and a stored matcher of an unknown format falls back to the default
    # (written as a scan writes it: a new matcher has a new fitted_at, which is what processes watch)
    FittedMatcher.objects.filter(kind="contact").update(data={"format": 99}, fitted_at=timezone.now())
    assert contact_matcher()[1] == "default"


# --- permissions --------------------------------------------------------------------------------------


def test_a_user_who_cannot_merge_cannot_choose_auto_merge(make_user, team_a, existing, tmp_path):
    marketer = make_user(Role.MARKETER, team_a)
    source = tmp_path / "people.csv"
    source.write_bytes(FILE)
    with pytest.raises(PermissionDenied) as caught:
        import_job_create(actor=marketer, kind="contacts", path=source, duplicates="auto_merge")
    assert "may not merge" in caught.value.detail
    assert list(caught.value.field_errors) == ["duplicates"]
    assert ImportJob.objects.count() == 0
    # review stays open to them
    job = import_job_create(actor=marketer, kind="contacts", path=source)
    with pytest.raises(PermissionDenied):
        import_job_configure(actor=marketer, job=job, mapping=None, match_key="email", mode="upsert",
                             duplicates="auto_merge")
    job.refresh_from_db()
    assert job.duplicates == "review"


def test_contacts_the_importer_cannot_see_are_not_matched(rep, other_rep, tmp_path):
    # given Ada exists, but in the other team (private to it)
    theirs = contact_create(actor=other_rep, data={"first_name": "Ada", "last_name": "Lovelace",
                                                   "emails": ["ada@example.com"], "phones": ["+14155550100"]})
    job = run(rep, tmp_path, duplicates="auto_merge")
    # then the rep's Ada row was created, not merged, and no pair names the hidden contact
    assert theirs.pk not in {pk for a, b, _s, _src in pairs() for pk in (a, b)}
    assert Contact.objects.filter(pk=theirs.pk).exists()
    assert by_email("ada@exmaple.com").owner_id == rep.pk
    assert counts(job) == (4, 0, 0, 1, 1, 0, 0)  # only the Alans merged


def test_a_contact_the_importer_may_see_but_not_change_is_queued_not_merged(rep, other_rep, tmp_path):
    ObjectVisibility.objects.create(content_type=ContentType.objects.get_for_model(Contact), visibility="public")
    visibility_cache_clear()
    theirs = contact_create(actor=other_rep, data={"first_name": "Ada", "last_name": "Lovelace",
                                                   "emails": ["ada@example.com"], "phones": ["+14155550100"]})
    job = run(rep, tmp_path, duplicates="auto_merge")
    ada2 = by_email("ada@exmaple.com")
    assert DuplicatePair.objects.get(contact_a=theirs.pk, contact_b=ada2.pk).status == DuplicateStatus.OPEN
    assert not ContactMerge.objects.filter(survivor=theirs).exists()
    assert (job.merged_count, job.queued_count) == (1, 1)
    visibility_cache_clear()


# --- bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"duplicates": "sometimes"}, "duplicates"),
        ({"auto_merge_at": 1.5}, "auto_merge_at"),
        ({"review_at": 0}, "review_at"),
        ({"review_at": float("nan")}, "review_at"),
        ({"review_at": True}, "review_at"),
        ({"review_at": 0.99, "auto_merge_at": 0.9}, "review_at"),
    ],
)
def test_bad_options_are_refused_and_nothing_is_stored(rep, tmp_path, options, field):
    source = tmp_path / "people.csv"
    source.write_bytes(FILE)
    with pytest.raises(ValidationFailed) as caught:
        import_job_create(actor=rep, kind="contacts", path=source, **options)
    assert list(caught.value.field_errors) == [field]
    assert ImportJob.objects.count() == 0


def test_account_imports_take_only_off(rep, tmp_path):
    source = tmp_path / "accounts.csv"
    source.write_bytes(b"Name\nAcme\n")
    assert import_job_create(actor=rep, kind="accounts", path=source).duplicates == "off"
    with pytest.raises(ValidationFailed):
        import_job_create(actor=rep, kind="accounts", path=source, duplicates="review")


# --- the API, the page, the CLI -----------------------------------------------------------------------


def post_import(client, data: bytes = FILE, **fields):
    body = {"file": SimpleUploadedFile("people.csv", data, content_type="text/csv"), "kind": "contacts",
            "match_key": "email", **fields}
    return client.post("/api/v1/imports", body)


def test_api_reports_duplicate_counts_links_and_the_skip_report(rep, existing, client_of,
                                                                 django_capture_on_commit_callbacks):
    client = client_of(rep)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_import(client, duplicates="skip", review_at="0.8")
    assert response.status_code == 202
    job_id = response.json()["id"]
    body = client.get(f"/api/v1/imports/{job_id}").json()
    assert (body["status"], body["duplicates"], body["created"], body["skipped"], body["merged"]) == (
        "done", "skip", 2, 3, 0)
    assert body["links"]["skipped"] == f"/api/v1/imports/{job_id}/skipped"
    skipped = client.get(body["links"]["skipped"])
    assert skipped.status_code == 200
    assert b"".join(skipped.streaming_content).decode().splitlines()[1].startswith(f"2,{existing['ada'].pk},")


def test_api_review_links_to_the_queue(rep, existing, client_of, django_capture_on_commit_callbacks):
    client = client_of(rep)
    with django_capture_on_commit_callbacks(execute=True):
        job_id = post_import(client).json()["id"]
    body = client.get(f"/api/v1/imports/{job_id}").json()
    assert (body["queued"], body["links"]["duplicates"]) == (3, "/api/v1/duplicates")
    queue = client.get(body["links"]["duplicates"]).json()
    assert len(queue["items"]) == 3


@pytest.mark.parametrize(
    "fields",
    [{"duplicates": "sometimes"}, {"review_at": "1.5"}, {"auto_merge_at": "abc"}, {"review_at": "0.99",
                                                                                  "auto_merge_at": "0.9"}],
)
def test_api_bad_options_are_problems(rep, client_of, fields):
    response = post_import(client_of(rep), **fields)
    assert 400 <= response.status_code < 500
    assert response["Content-Type"].startswith("application/problem+json")
    assert ImportJob.objects.count() == 0


def test_api_auto_merge_by_a_user_who_cannot_merge_is_forbidden(make_user, team_a, client_of):
    marketer = make_user(Role.MARKETER, team_a)
    response = post_import(client_of(marketer), duplicates="auto_merge")
    assert response.status_code == 403
    body = response.json()
    assert (body["type"], list(body["errors"])) == ("/problems/forbidden", ["duplicates"])


def test_api_start_takes_the_options(rep, existing, client_of, django_capture_on_commit_callbacks):
    client = client_of(rep)
    job_id = post_import(client, start="false").json()["id"]
    bad = client.post(f"/api/v1/imports/{job_id}/start", json.dumps({"duplicates": "nope"}),
                      content_type="application/json")
    assert (bad.status_code, list(bad.json()["errors"])) == (422, ["duplicates"])
    with django_capture_on_commit_callbacks(execute=True):
        ok = client.post(f"/api/v1/imports/{job_id}/start",
                         json.dumps({"duplicates": "auto_merge", "auto_merge_at": 0.95}),
                         content_type="application/json")
    assert ok.status_code == 202
    job = ImportJob.objects.get(pk=job_id)
    assert (job.duplicates, job.auto_merge_at, job.merged_count) == ("auto_merge", 0.95, 2)


def test_the_wizard_shows_the_option_and_a_refused_choice_beside_it(make_user, team_a, client_of, tmp_path):
    marketer = make_user(Role.MARKETER, team_a)
    client = client_of(marketer)
    source = tmp_path / "people.csv"
    source.write_bytes(FILE)
    job = import_job_create(actor=marketer, kind="contacts", path=source)
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'name="duplicates"' in page and 'value="review" selected' in page
    assert 'value="auto_merge"' not in page  # not offered to a role that may not merge
    response = client.post(f"/imports/{job.pk}/", {"duplicates": "auto_merge", "review_at": "0.8",
                                                  "auto_merge_at": "0.98", "match_key": "email", "mode": "upsert"})
    assert response.status_code == 200
    assert 'id="duplicates-error"' in response.content.decode()
    response = client.post(f"/imports/{job.pk}/", {"duplicates": "review", "review_at": "2", "match_key": "email",
                                                  "mode": "upsert"})
    assert response.status_code == 200
    assert "Use a probability above 0 and at most 1" in response.content.decode()
    assert 'name="review_at" id="id_review_at" min="0.01" max="1" step="any" value="2"' in response.content.decode()
    job.refresh_from_db()
    assert (job.status, job.review_at) == (ImportStatus.UPLOADED, 0.8)


def test_the_job_page_shows_the_counts_and_the_links(rep, existing, client_of, tmp_path,
                                                     django_capture_on_commit_callbacks):
    client = client_of(rep)
    source = tmp_path / "people.csv"
    source.write_bytes(FILE)
    job = import_job_create(actor=rep, kind="contacts", path=source, duplicates="skip")
    with django_capture_on_commit_callbacks(execute=True):
        import_job_start(actor=rep, job=job)
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "3 rows skipped" in page
    assert f"/imports/{job.pk}/skipped/" in page
    download = client.get(f"/imports/{job.pk}/skipped/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).decode().startswith("line,contact_id,contact")


def test_the_cli_takes_the_option_and_prints_the_counts(rep, existing, tmp_path, capsys):
    source = tmp_path / "people.csv"
    source.write_bytes(FILE)
    skipped = tmp_path / "skipped.csv"
    call_command("rapport_import", "contacts", str(source), "--as", "rep", "--match-key", "email",
                 "--duplicates", "skip", "--skipped", str(skipped))
    out = capsys.readouterr().out
    assert "2 created" in out and "3 skipped" in out
    assert len(rows_of(str(skipped))) == 4
    with pytest.raises(CommandError, match="review_at"):
        call_command("rapport_import", "contacts", str(source), "--as", "rep", "--review-at", "1.5")


def test_progress_reports_the_matching_stage(rep, existing, tmp_path):
    source = tmp_path / "people.csv"
    source.write_bytes(FILE)
    job = import_job_create(actor=rep, kind="contacts", path=source)
    seen = []
    done = import_run(job_id=job.pk, progress=lambda current: seen.append(current.stage))
    assert "matching" in seen
    assert seen.index("matching") < seen.index("import")
    assert (done.stage, ImportJob.objects.get(pk=job.pk).stage) == ("", "")
    assert done.matching_seconds > 0


@pytest.mark.parametrize(("namesakes", "queued"), [(3, 3), (4, 0)])
def test_a_name_shared_by_more_contacts_than_the_cap_brings_no_candidates(rep, tmp_path, monkeypatch,
                                                                          namesakes, queued):
    # given a cap of 3 and some contacts of one rare name, each with its own email
    monkeypatch.setattr("rapport.parties.imports.duplicates.KEY_CAP", 3)
    for i in range(namesakes):
        contact_create(actor=rep, data={"first_name": "Zebulon", "last_name": "Quackenbush",
                                        "emails": [f"z{i}@example.com"]})
    # when a row of that name with another email is imported
    job = run(rep, tmp_path, b"First Name,Last Name,Email\nZebulon,Quackenbush,zq@new.example\n")
    # then each namesake is a candidate under the cap, and none over it
    assert (job.created_count, job.queued_count) == (1, queued)
    assert DuplicatePair.objects.count() == queued


def test_a_typo_in_the_name_is_found_through_the_phone(rep, existing, tmp_path):
    # given a row with Ada's phone, her surname misspelt and another email
    job = run(rep, tmp_path, b"First Name,Last Name,Email,Phone\nAda,Lovleace,a.l@other.example,415.555.0100\n")
    # then it is queued against Ada, the evidence naming the near surname and the same phone
    pair = DuplicatePair.objects.get()
    assert (pair.contact_a_id, pair.contact_b_id) == (existing["ada"].pk, by_email("a.l@other.example").pk)
    assert (pair.evidence["fields"]["surname"]["level"], pair.evidence["fields"]["phone"]["label"]) == (2, "same")
    assert pair.probability >= 0.8
    assert (job.created_count, job.queued_count) == (1, 1)
