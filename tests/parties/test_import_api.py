"""The imports/exports API: jobs, errors download, streaming exports and the permission matrix."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from rapport.core.models import AuditEvent
from rapport.parties.models import Contact, ImportJob

CSV = b"First Name,Email\nAda,ada@example.com\nBad,nope\n"


@pytest.fixture(autouse=True)
def _import_dir(settings, tmp_path):
    settings.RAPPORT_IMPORT_DIR = tmp_path / "imports"


def post_import(client: Client, data: bytes = CSV, **fields):
    body = {"file": SimpleUploadedFile("people.csv", data, content_type="text/csv"), "kind": "contacts", **fields}
    return client.post("/api/v1/imports", body)


def test_post_import_runs_the_job_and_reports_counts(rep, client_of, django_capture_on_commit_callbacks):
    # given the rep's client
    client = client_of(rep)
    # when a file is posted (the task runs on commit, eagerly)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_import(client, match_key="email", mode="upsert", mapping=json.dumps({"Email": "email"}))
    # then 202 with a queued job, which the poll shows done
    assert response.status_code == 202
    job_id = response.json()["id"]
    body = client.get(f"/api/v1/imports/{job_id}").json()
    assert (body["status"], body["created"], body["rejected"], body["links"]["errors"]) == (
        "done",
        1,
        1,
        f"/api/v1/imports/{job_id}/errors",
    )
    # and the mapping named only Email, so the first name was ignored
    assert Contact.objects.get().first_name == ""
    errors = client.get(f"/api/v1/imports/{job_id}/errors")
    assert errors.status_code == 200
    assert b"".join(errors.streaming_content).decode().splitlines()[1].startswith("3,Email,")


def test_dry_run_then_start(rep, client_of, django_capture_on_commit_callbacks):
    client = client_of(rep)
    with django_capture_on_commit_callbacks(execute=True):
        job_id = post_import(client, dry_run="true").json()["id"]
    assert (Contact.objects.count(), ImportJob.objects.get(pk=job_id).created_count) == (0, 1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/imports/{job_id}/start", "{}", content_type="application/json")
    assert response.status_code == 202
    assert Contact.objects.count() == 1


def test_post_without_start_then_list(rep, client_of):
    client = client_of(rep)
    job_id = post_import(client, start="false").json()["id"]
    body = client.get("/api/v1/imports").json()
    assert [(j["id"], j["status"]) for j in body["items"]] == [(job_id, "uploaded")]


def test_bad_mapping_is_422_not_500(rep, client_of):
    client = client_of(rep)
    response = post_import(client, mapping="{not json")
    assert (response.status_code, response["Content-Type"]) == (422, "application/problem+json")
    response = post_import(client, mapping=json.dumps({"Nope": "email"}))
    assert response.status_code == 422
    assert response.json()["errors"]["mapping"] == ["The file has no column 'Nope'."]


def test_binary_upload_gives_a_failed_job_and_writes_nothing(rep, client_of):
    response = post_import(client_of(rep), data=b"\x00\x01\x02\x03" * 100)
    assert (response.status_code, response.json()["status"]) == (202, "failed")
    assert Contact.objects.count() == 0


def test_anonymous_gets_401(db):
    client = Client()
    assert post_import(client).status_code == 401
    assert client.get("/api/v1/imports").status_code == 401
    assert client.get("/api/v1/exports/contacts").status_code == 401


def test_role_without_the_right_gets_403_and_nothing_is_written(analyst, client_of):
    client = client_of(analyst)
    response = post_import(client)
    assert (response.status_code, response["Content-Type"]) == (403, "application/problem+json")
    assert client.get("/api/v1/imports").status_code == 403
    assert (ImportJob.objects.count(), Contact.objects.count(), AuditEvent.objects.count()) == (0, 0, 0)


def test_other_users_job_is_404_and_admin_sees_it(rep, other_rep, admin_user, client_of):
    job_id = post_import(client_of(rep), start="false").json()["id"]
    other = client_of(other_rep)
    assert other.get(f"/api/v1/imports/{job_id}").status_code == 404
    assert other.get(f"/api/v1/imports/{job_id}/errors").status_code == 404
    assert other.post(f"/api/v1/imports/{job_id}/start", "{}", content_type="application/json").status_code == 404
    assert other.get("/api/v1/imports").json()["items"] == []
    assert client_of(admin_user).get(f"/api/v1/imports/{job_id}").status_code == 200


def test_export_streams_only_readable_contacts(rep, other_rep, client_of):
    from rapport.parties.services import contact_create

    contact_create(actor=rep, data={"first_name": "Mine", "emails": ["=cmd@example.com"]} | {"emails": []})
    contact_create(actor=other_rep, data={"first_name": "Theirs"})
    response = client_of(rep).get("/api/v1/exports/contacts?format=csv")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="contacts.csv"'
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert [line.split(",")[1] for line in text.splitlines()[1:]] == ["Mine"]


def test_export_bad_format_is_422(rep, client_of):
    response = client_of(rep).get("/api/v1/exports/accounts?format=xls")
    assert (response.status_code, response.json()["errors"]) == (422, {"format": ["Use one of csv, vcard, parquet."]})
