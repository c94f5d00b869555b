"""Import pages: upload, mapping preview, dry run, run, htmx progress partial, downloads, access."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from rapport.parties.models import Contact, ImportJob
from rapport.parties.services import contact_create

CSV = b"Given Name,Family Name,E-mail 1 - Value,Notes\nAda,Lovelace,ada@example.com,first\nBad,Row,nope,x\n"


@pytest.fixture(autouse=True)
def _import_dir(settings, tmp_path):
    settings.RAPPORT_IMPORT_DIR = tmp_path / "imports"


def upload(client: Client, data: bytes = CSV, kind: str = "contacts"):
    return client.post("/imports/new/", {"file": SimpleUploadedFile("g.csv", data), "kind": kind})


def test_list_page_shows_the_upload_form(rep, client_of):
    response = client_of(rep).get("/imports/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<input type="file" name="file" id="id_file" required>' in html
    assert 'name="kind"' in html


def test_upload_redirects_to_a_preview_with_mapping_and_samples(rep, client_of):
    client = client_of(rep)
    response = upload(client)
    job = ImportJob.objects.get()
    assert (response.status_code, response["Location"]) == (302, f"/imports/{job.pk}/")
    html = client.get(f"/imports/{job.pk}/").content.decode()
    assert '<span id="import-format">google</span>' in html
    assert '<option value="email" selected>' in html
    assert "Lovelace" in html and "nope" in html
    assert 'name="action" value="dry_run"' in html and 'name="action" value="run"' in html
    assert Contact.objects.count() == 0


def test_dry_run_then_run_from_the_form(rep, client_of, django_capture_on_commit_callbacks):
    client = client_of(rep)
    upload(client)
    job = ImportJob.objects.get()
    form = {
        "map_0": "first_name",
        "map_1": "last_name",
        "map_2": "email",
        "map_3": "",
        "match_key": "email",
        "mode": "upsert",
    }
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{job.pk}/", {**form, "action": "dry_run"})
    job.refresh_from_db()
    assert (job.status, job.created_count, job.error_count, Contact.objects.count()) == ("done", 1, 1, 0)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/imports/{job.pk}/", {**form, "action": "run"})
    assert response.status_code == 302
    assert list(Contact.objects.values_list("first_name", "last_name", "email")) == [
        ("Ada", "Lovelace", "ada@example.com")
    ]
    html = client.get(f"/imports/{job.pk}/").content.decode()
    assert '<div class="progress"' in html and '<span style="width:100%">' in html
    assert f'href="/imports/{job.pk}/errors/"' in html
    errors = client.get(f"/imports/{job.pk}/errors/")
    assert b"".join(errors.streaming_content).decode().splitlines()[1].startswith("3,E-mail 1 - Value,")


def test_running_job_partial_polls_itself(rep, client_of):
    client = client_of(rep)
    upload(client)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status="running", total_rows=10, processed_rows=4)
    response = client.get(f"/imports/{job.pk}/?partial=1", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert '<span style="width:40%">' in html
    assert "<html" not in html


def test_bad_mapping_is_shown_and_nothing_runs(rep, client_of):
    client = client_of(rep)
    upload(client)
    job = ImportJob.objects.get()
    response = client.post(
        f"/imports/{job.pk}/", {"map_0": "first_name", "match_key": "email", "mode": "upsert", "action": "run"}
    )
    assert response.status_code == 200
    assert "Matching on email needs a column mapped to email." in response.content.decode()
    assert ImportJob.objects.get().status == "uploaded"


def test_access(rep, other_rep, analyst, client_of):
    upload(client_of(rep))
    job = ImportJob.objects.get()
    assert Client().get("/imports/").status_code == 302
    assert client_of(other_rep).get(f"/imports/{job.pk}/").status_code == 404
    assert client_of(analyst).get("/imports/").status_code == 403
    assert upload(client_of(analyst)).status_code == 403
    assert ImportJob.objects.count() == 1


def test_export_view_streams_readable_contacts(rep, other_rep, client_of):
    contact_create(actor=rep, data={"first_name": "Mine"})
    contact_create(actor=other_rep, data={"first_name": "Theirs"})
    response = client_of(rep).get("/exports/contacts/?format=vcard")
    text = b"".join(response.streaming_content).decode()
    assert (response.status_code, text.count("BEGIN:VCARD"), "FN:Mine" in text) == (200, 1, True)
