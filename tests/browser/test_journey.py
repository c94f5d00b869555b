"""A sales rep's day in a real browser: sign in, import, search with a typo, 360° page, note, access."""

from __future__ import annotations

import re

import pytest
from tests.browser.conftest import login
from tests.conftest import PASSWORD

from rapport.parties.models import Contact
from rapport.parties.services import contact_create

pytestmark = pytest.mark.browser

CSV = (
    "first_name,last_name,email,phone\n"
    "Katherine,Johnson,katherine.johnson@nasa.example,+1 757 555 0101\n"
    "Dorothy,Vaughan,dorothy.vaughan@nasa.example,+1 757 555 0102\n"
    "Mary,Jackson,mary.jackson@nasa.example,+1 757 555 0103\n"
)


def test_sales_rep_journey(live_server, transactional_db, page, rep, other_rep, tmp_path):
    # given another team's contact the rep must not see
    hidden = contact_create(actor=other_rep, data={"first_name": "Hidden", "last_name": "Person"})
    base = live_server.url

    # the rep signs in and lands on the dashboard
    login(page, base, rep.username, PASSWORD)
    assert page.locator("h1").inner_text().startswith("Hello")

    # imports a small CSV through the import UI
    csv_file = tmp_path / "nasa.csv"
    csv_file.write_text(CSV, encoding="utf-8")
    page.click("nav.mainnav >> text=Imports")
    page.set_input_files("input[type=file][name=file]", str(csv_file))
    page.select_option("select[name=kind]", "contacts")
    page.click("#id_upload")
    page.wait_for_url(re.compile(r"/imports/\d+/$"))
    page.click("button[name=action][value=run]")
    page.wait_for_function(
        "() => (document.querySelector('#import-status')?.textContent || '').trim().toLowerCase() === 'done'",
        timeout=30_000,
    )
    assert Contact.objects.filter(email="katherine.johnson@nasa.example", owner=rep).exists()

    # searches with a typo in the top search box and sees the contact
    page.fill("header .search input[name=q]", "katherin jonson")
    page.press("header .search input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"/search/\?q="))
    result = page.locator("#search-contacts a", has_text="Katherine Johnson")
    result.wait_for()

    # opens the 360° page
    result.click()
    page.wait_for_url(re.compile(r"/contacts/\d+/$"))
    assert page.locator("h1").inner_text() == "Katherine Johnson"
    assert page.locator("#profile").inner_text().count("katherine.johnson@nasa.example") == 1

    # adds a note and sees it on the timeline
    page.fill("#note-form textarea[name=body]", "Called about the Mercury programme <b>follow-up</b>")
    page.click("#note-form button[type=submit]")
    page.wait_for_url(re.compile(r"/contacts/\d+/(#timeline)?$"))
    note = page.locator("#timeline-list li.kind-note").first
    assert "Called about the Mercury programme <b>follow-up</b>" in note.inner_text()

    # filters the list to find the other imported contacts (htmx swaps the table)
    page.goto(f"{base}/contacts/")
    page.fill("#f-q", "vaughan")
    page.wait_for_function("() => !document.querySelector('#results').textContent.includes('Mary Jackson')")
    assert "Dorothy Vaughan" in page.locator("#results").inner_text()
    assert "q=vaughan" in page.url

    # another team's contact is not found
    response = page.goto(f"{base}/contacts/{hidden.pk}/")
    assert response is not None and response.status == 404
    assert "Not found" in page.locator("h1").inner_text()
    assert "Hidden" not in page.content()


def test_inline_validation_and_conflict_in_the_browser(live_server, transactional_db, page, rep):
    base = live_server.url
    login(page, base, rep.username, PASSWORD)
    page.goto(f"{base}/contacts/new/")
    page.fill("#id_email_0", "not-an-email")
    page.press("#id_email_0", "Tab")
    error = page.locator("#party-form .errorlist", has_text="not a valid email")
    error.wait_for()
    assert page.url == f"{base}/contacts/new/"
    assert not Contact.objects.exists()
    # fix it and save for real
    page.fill("#id_first_name", "Valid")
    page.fill("#id_email_0", "valid@example.com")
    page.press("#id_email_0", "Tab")
    page.wait_for_function("() => !document.querySelector('#party-form .errorlist')")
    page.click("#party-form button[type=submit]")
    page.wait_for_url(re.compile(r"/contacts/\d+/$"))
    contact = Contact.objects.get()
    assert contact.email == "valid@example.com"

    # a stale edit shows the conflict message and keeps the other change
    page.goto(f"{base}/contacts/{contact.pk}/edit/")
    from rapport.parties.services import contact_update

    contact_update(actor=rep, contact=contact, data={"title": "Changed elsewhere"}, expected_version=contact.version)
    page.fill("#id_title", "Mine")
    page.click("#party-form button[type=submit]")
    page.locator(".conflict").wait_for()
    assert "changed by someone else since you opened it" in page.locator(".conflict").inner_text()
    contact.refresh_from_db()
    assert contact.title == "Changed elsewhere"
