"""The import engine end to end: file → job → contacts/accounts, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from rapport.core.choices import CustomFieldType
from rapport.core.models import AuditEvent, CustomFieldDefinition
from rapport.parties.choices import ImportStatus
from rapport.parties.imports.services import import_job_configure, import_job_create, import_run
from rapport.parties.models import Account, AccountMembership, Contact, ContactEmail, ContactPhone, ImportJob
from rapport.parties.services import contact_create, contact_search_text


@pytest.fixture(autouse=True)
def _import_dir(settings, tmp_path):
    settings.RAPPORT_IMPORT_DIR = tmp_path / "imports"


def run(
    actor,
    tmp_path: Path,
    data: bytes,
    *,
    kind="contacts",
    match_key="",
    mode="upsert",
    mapping=None,
    dry_run=False,
    name="file.csv",
) -> ImportJob:
    source = tmp_path / name
    source.write_bytes(data)
    job = import_job_create(actor=actor, kind=kind, path=source, original_name=name, mode=mode)
    if job.status == ImportStatus.FAILED:
        return job
    import_job_configure(actor=actor, job=job, mapping=mapping, match_key=match_key or job.match_key, mode=mode)
    return import_run(job_id=job.pk, dry_run=dry_run)


def errors_of(job: ImportJob) -> list[list[str]]:
    with open(job.error_file, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))[1:]


SIMPLE = (
    b"First Name,Last Name,Email,Phone,Company,Job Title,Birthday\n"
    b"Ada,Lovelace,ADA@Example.com,(415) 555-0100,Analytical Engines,Countess,1815-12-10\n"
    b"Alan,Turing,alan@example.org,+44 20 7946 0958,Bletchley,Cryptanalyst,\n"
)


def test_import_creates_contacts_with_children_search_text_account_and_audit(rep, tmp_path):
    # given a plain CSV with two people
    # when it is imported by the rep
    job = run(rep, tmp_path, SIMPLE)
    # then both contacts exist with normalised email/phone, account membership and audit
    assert (job.status, job.created_count, job.updated_count, job.error_count) == (ImportStatus.DONE, 2, 0, 0)
    ada = Contact.objects.get(last_name="Lovelace")
    assert (ada.email, ada.phone, ada.title, ada.birthday) == (
        "ada@example.com",
        "+14155550100",
        "Countess",
        dt.date(1815, 12, 10),
    )
    assert (ada.owner_id, ada.team_id, ada.created_by_id) == (rep.pk, rep.team_id, rep.pk)
    assert list(ada.emails.values_list("email", "is_primary")) == [("ada@example.com", True)]
    assert list(ada.phones.values_list("number", "is_primary")) == [("+14155550100", True)]
    assert ada.account.name == "Analytical Engines"
    assert list(AccountMembership.objects.filter(contact=ada).values_list("account__name", "is_primary")) == [
        ("Analytical Engines", True)
    ]
    assert ada.search_text == contact_search_text(ada, ["ada@example.com"], ["+14155550100"], "Analytical Engines")
    events = AuditEvent.objects.filter(context={"import_job": job.pk})
    assert events.filter(action="create", content_type__model="contact").count() == 2
    assert events.filter(action="create", content_type__model="account").count() == 2
    created = events.get(object_id=ada.pk, content_type__model="contact")
    assert created.changes["email"] == [None, "ada@example.com"]
    assert created.changes["birthday"] == [None, "1815-12-10"]


def test_reimport_of_the_same_file_changes_nothing(rep, tmp_path):
    # given a file already imported once
    run(rep, tmp_path, SIMPLE)
    audit_before = AuditEvent.objects.count()
    versions_before = list(Contact.objects.order_by("pk").values_list("pk", "version", "updated_at"))
    # when it is imported again
    job = run(rep, tmp_path, SIMPLE)
    # then every row is unchanged and nothing was written
    assert (job.created_count, job.updated_count, job.unchanged_count, job.error_count) == (0, 0, 2, 0)
    assert AuditEvent.objects.count() == audit_before
    assert list(Contact.objects.order_by("pk").values_list("pk", "version", "updated_at")) == versions_before
    assert Account.objects.count() == 2


def test_upsert_updates_only_changed_fields_and_audits_only_them(rep, tmp_path):
    # given an imported contact
    run(rep, tmp_path, SIMPLE)
    ada = Contact.objects.get(last_name="Lovelace")
    # when a file with a new title and an extra phone for her is imported in upsert mode
    job = run(rep, tmp_path, b"Email,Job Title,Phone\nada@example.com,Mathematician,415-555-0199\n")
    # then she is updated: title changed, phone added, primary phone unchanged, version +1
    ada.refresh_from_db()
    assert (job.updated_count, job.created_count, job.unchanged_count) == (1, 0, 0)
    assert (ada.title, ada.phone, ada.version) == ("Mathematician", "+14155550100", 2)
    assert sorted(ada.phones.values_list("number", flat=True)) == ["+14155550100", "+14155550199"]
    event = AuditEvent.objects.get(action="update", object_id=ada.pk)
    assert event.changes == {
        "title": ["Countess", "Mathematician"],
        "phones": [["+14155550100"], ["+14155550100", "+14155550199"]],
    }
    assert event.context == {"import_job": job.pk}


def test_create_only_mode_leaves_matches_as_they_are(rep, tmp_path):
    # given an imported contact
    run(rep, tmp_path, SIMPLE)
    # when a changed row for her comes in create-only mode with one new person
    job = run(rep, tmp_path, b"Email,Job Title\nada@example.com,Mathematician\nnew@example.com,Intern\n", mode="create")
    # then the match is unchanged and only the new person is created
    assert (job.created_count, job.updated_count, job.unchanged_count) == (1, 0, 1)
    assert Contact.objects.get(email="ada@example.com").title == "Countess"


def test_match_on_phone(rep, tmp_path):
    # given a contact with a phone
    contact_create(actor=rep, data={"first_name": "Pat", "phones": ["+14155550123"]})
    # when a file matches on phone in another format
    job = run(rep, tmp_path, b"Phone,Job Title\n(415) 555-0123,Boss\n", match_key="phone")
    # then that contact is updated
    assert (job.updated_count, job.created_count) == (1, 0)
    assert Contact.objects.get().title == "Boss"


def test_match_on_external_id_with_custom_field(rep, tmp_path):
    # given a number custom field and a contact with an external id
    CustomFieldDefinition.objects.create(
        content_type_id=__import__("django.contrib.contenttypes.models", fromlist=["ContentType"])
        .ContentType.objects.get_for_model(Contact)
        .pk,
        key="score",
        label="Score",
        field_type=CustomFieldType.NUMBER,
    )
    contact_create(actor=rep, data={"first_name": "Kim", "external_id": "X-1"})
    # when a file with the id and a score (plus one bad score) is imported
    job = run(
        rep,
        tmp_path,
        b"ID,First Name,Score\nX-1,Kim,42\nX-2,Lee,lots\n",
        match_key="external_id",
        mapping={"ID": "external_id", "First Name": "first_name", "Score": "custom.score"},
    )
    # then Kim gets the score and the bad row is rejected naming the column
    assert (job.updated_count, job.created_count, job.error_count) == (1, 0, 1)
    assert Contact.objects.get(external_id="X-1").custom == {"score": "42"}
    assert errors_of(job) == [["3", "Score", "Score: not a number.", "X-2,Lee,lots\n"]]
    assert not Contact.objects.filter(external_id="X-2").exists()


def test_in_file_duplicates_in_different_case_become_one_contact(rep, tmp_path):
    # given a file where the same email appears twice in different case
    data = b"First Name,Email,Phone\nZoe,zoe@example.com,4155550101\nZoe,ZOE@Example.COM,4155550102\n"
    # when imported
    job = run(rep, tmp_path, data)
    # then one contact with both phones
    assert (job.created_count, job.updated_count) == (1, 1)
    zoe = Contact.objects.get()
    assert sorted(zoe.phones.values_list("number", flat=True)) == ["+14155550101", "+14155550102"]
    assert ContactEmail.objects.count() == 1


def test_row_the_actor_may_not_change_is_rejected_not_changed(rep, other_rep, tmp_path):
    # given a contact of another team's rep
    theirs = contact_create(actor=other_rep, data={"first_name": "Sam", "emails": ["sam@example.com"]})
    # when the rep imports a change to it
    job = run(rep, tmp_path, b"Email,Job Title\nsam@example.com,CEO\n")
    # then the row is rejected with a clear reason and the contact is untouched
    theirs.refresh_from_db()
    assert (job.error_count, job.updated_count, theirs.title, theirs.version) == (1, 0, "", 1)
    assert errors_of(job)[0][:3] == ["2", "", f"It matches contact #{theirs.pk}, which you may see but not change."]


def test_dry_run_writes_nothing_but_reports_counts_and_errors(rep, tmp_path):
    # given a file with two good rows and one bad email
    data = SIMPLE + b"Bad,Row,not-an-email,,,,\n"
    # when dry-run
    job = run(rep, tmp_path, data, dry_run=True)
    # then counts and errors are reported and no contact/account/audit exists
    assert (job.status, job.created_count, job.error_count) == (ImportStatus.DONE, 2, 1)
    assert job.message == "Dry run: nothing was written."
    assert (Contact.objects.count(), Account.objects.count(), AuditEvent.objects.count()) == (0, 0, 0)
    assert errors_of(job)[0][:2] == ["4", "Email"]


def test_rows_without_the_match_key_are_rejected(rep, tmp_path):
    # given a row without an email when matching on email
    job = run(rep, tmp_path, b"First Name,Email\nNo,\nYes,yes@example.com\n")
    # then it is rejected, the other imported
    assert (job.created_count, job.error_count) == (1, 1)
    assert errors_of(job)[0][:3] == ["2", "Email", "No email to match on: the match-key cell is empty."]


def test_accounts_import_matches_on_name_case_insensitively_and_domain(rep, tmp_path):
    # given an account import
    data = b"Company,Website,Industry,Annual Revenue\nAcme,www.acme.com,Software,1000\nGlobex,globex.com,retail,\n"
    job = run(rep, tmp_path, data, kind="accounts", match_key="name")
    assert (job.created_count, job.error_count) == (2, 0)
    acme = Account.objects.get(name="Acme")
    assert (acme.domain, acme.website, acme.industry, str(acme.annual_revenue)) == (
        "acme.com",
        "https://www.acme.com",
        "software",
        "1000.00",
    )
    # when imported again in another case, and by domain with a change
    again = run(rep, tmp_path, data.replace(b"Acme,", b"ACME,"), kind="accounts", match_key="name")
    by_domain = run(rep, tmp_path, b"Name,Domain,Tier\nGlobex,globex.com,Gold\n", kind="accounts", match_key="domain")
    # then nothing changes the first time, one update the second
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 1, 1)
    assert Account.objects.get(pk=acme.pk).name == "ACME"
    assert (by_domain.updated_count, Account.objects.get(domain="globex.com").tier) == (1, "gold")
    assert Account.objects.count() == 2


def test_company_column_reuses_readable_account_case_insensitively(rep, tmp_path):
    # given an existing account
    run(rep, tmp_path, b"Name\nInitech\n", kind="accounts", match_key="name")
    # when contacts name it in another case
    run(rep, tmp_path, b"Email,Company\na@initech.com,INITECH\nb@initech.com,initech\n")
    # then they join it, no new account
    assert Account.objects.count() == 1
    assert set(Contact.objects.values_list("account__name", flat=True)) == {"Initech"}


def test_default_owner_and_team(rep, teammate, tmp_path):
    # given a job whose default owner is the teammate
    source = tmp_path / "f.csv"
    source.write_bytes(b"Email\nowned@example.com\n")
    job = import_job_create(actor=rep, kind="contacts", path=source, default_owner=teammate)
    # when run
    import_run(job_id=job.pk)
    # then the teammate owns the contact
    contact = Contact.objects.get()
    assert (contact.owner_id, contact.team_id, contact.created_by_id) == (teammate.pk, teammate.team_id, rep.pk)


def test_phone_rows_stay_consistent(rep, tmp_path):
    # given a file with two phones per person
    job = run(rep, tmp_path, b"Email,Mobile Phone,Business Phone\nx@example.com,4155550100,+1 212 555 0100\n")
    # then the primary phone is the first one
    assert job.created_count == 1
    assert list(ContactPhone.objects.order_by("-is_primary").values_list("number", "is_primary")) == [
        ("+14155550100", True),
        ("+12125550100", False),
    ]
