"""Screenshots for the README: only when RAPPORT_SCREENSHOTS=1 (writes docs/screenshots/*.png)."""

from __future__ import annotations

import datetime as dt
import os
import random
import re
from pathlib import Path

import pytest
from django.utils import timezone
from tests.browser.conftest import login
from tests.conftest import PASSWORD

from rapport.activities.services import interaction_record, note_add, task_create
from rapport.parties.identity_batch import dedupe_run
from rapport.parties.services import account_create, contact_create

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(os.environ.get("RAPPORT_SCREENSHOTS") != "1", reason="set RAPPORT_SCREENSHOTS=1 to write them"),
]
OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

FIRST = ["Amelia", "Bruno", "Chiara", "Dmitri", "Elif", "Farah", "Gustav", "Hana", "Ivan", "Jun", "Kemal", "Lena"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Schulz", "Haddad", "Novak", "Rossi", "Kowalski", "Silva"]
COMPANIES = [
    ("Northwind Traders", "retail", "gold"),
    ("Globex Engineering", "manufacturing", "platinum"),
    ("Initech Software", "software", "iron"),
    ("Umbrella Health", "healthcare", "gold"),
    ("Stark Logistics", "transport", "lead"),
]
ROLES = ["Head of Procurement", "CFO", "Operations Manager", "IT Director", "Buyer", "CEO"]


def _data(rep, teammate) -> object:
    rng = random.Random(7)
    accounts = [
        account_create(
            actor=rep,
            data={
                "name": name,
                "website": f"https://{name.split()[0].lower()}.example",
                "industry": industry,
                "tier": tier,
                "size": "251-1000",
                "annual_revenue": str(rng.randint(2, 90) * 1_000_000),
                "tags": ["key-account"] if tier in {"gold", "platinum"} else [],
            },
        )
        for name, industry, tier in COMPANIES
    ]
    contacts = []
    for i in range(32):
        first, last = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
        account = accounts[i % len(accounts)]
        contacts.append(
            contact_create(
                actor=rep if i % 3 else teammate,
                data={
                    "first_name": first,
                    "last_name": last,
                    "title": ROLES[i % len(ROLES)],
                    "emails": [f"{first}.{last}{i}@{account.domain}".lower()],
                    "phones": [f"+1 415 555 {1000 + i:04d}"],
                    "account_id": account.pk,
                    "account_role": ROLES[i % len(ROLES)],
                    "lifecycle_stage": ["customer", "prospect", "customer", "former_customer"][i % 4],
                    "tags": [["vip"], ["newsletter"], [], ["vip", "event-2024"]][i % 4],
                    "source": ["web", "event", "referral"][i % 3],
                },
            )
        )
    star = contacts[1]
    contact_create(
        actor=rep,
        data={
            "first_name": "Noah",
            "last_name": "Berg",
            "title": "Procurement Analyst",
            "account_id": star.account_id,
            "reports_to_id": star.pk,
            "emails": ["noah.berg@globex.example"],
        },
    )
    now = timezone.now()
    for days, channel, direction, subject, outcome in (
        (1, "email", "inbound", "Re: Renewal quote for 2025", ""),
        (3, "phone", "outbound", "Discovery call about the logistics module", "interested"),
        (6, "in_person", "outbound", "Site visit in Rotterdam", "completed"),
        (12, "chat", "inbound", "Question about invoice INV-2231", "completed"),
    ):
        interaction_record(
            actor=rep,
            contact=star,
            channel=channel,
            direction=direction,
            subject=subject,
            body="Discussed volumes for next quarter and the new SLA." if channel != "chat" else "",
            occurred_at=now - dt.timedelta(days=days, hours=2),
            duration_seconds=1800 if channel == "phone" else None,
            outcome=outcome,
        )
    note_add(actor=rep, contact=star, body="Prefers calls before 10am. Budget owner for the EMEA rollout.")
    task_create(actor=rep, contact=star, title="Send revised quote", priority="high", due_at=now - dt.timedelta(days=1))
    task_create(actor=rep, contact=star, title="Book follow-up demo", due_at=now + dt.timedelta(days=4))
    return star


def test_screenshots(live_server, transactional_db, browser, rep, teammate, tmp_path):
    OUT.mkdir(parents=True, exist_ok=True)
    star = _data(rep, teammate)
    base = live_server.url
    context = browser.new_context(viewport={"width": 1360, "height": 900}, device_scale_factor=1, locale="en-US")
    page = context.new_page()
    login(page, base, rep.username, PASSWORD)
    page.screenshot(path=str(OUT / "home.png"), full_page=True)

    page.goto(f"{base}/contacts/?sort=name")
    page.screenshot(path=str(OUT / "contact-list.png"), full_page=False)

    page.goto(f"{base}/contacts/{star.pk}/")
    page.screenshot(path=str(OUT / "contact-360.png"), full_page=True)

    page.goto(f"{base}/accounts/{star.account_id}/")
    page.screenshot(path=str(OUT / "account-360.png"), full_page=True)

    page.goto(f"{base}/contacts/{star.pk}/edit/")
    page.screenshot(path=str(OUT / "contact-form.png"), full_page=False)

    csv_file = tmp_path / "leads.csv"
    csv_file.write_text(
        "First Name,Last Name,E-mail Address,Company\n"
        "Sofia,Lind,sofia.lind@example.com,Northwind Traders\n"
        "Omar,Haddad,not-an-email,Globex Engineering\n"
        "Yuki,Sato,yuki.sato@example.com,Initech Software\n",
        encoding="utf-8",
    )
    page.goto(f"{base}/imports/")
    page.set_input_files("input[type=file][name=file]", str(csv_file))
    page.click("#id_upload")
    page.wait_for_url(re.compile(r"/imports/\d+/$"))
    page.screenshot(path=str(OUT / "import-mapping.png"), full_page=True)
    page.click("button[name=action][value=run]")
    page.wait_for_function(
        "() => (document.querySelector('#import-status')?.textContent || '').trim().toLowerCase() === 'done'"
    )
    page.screenshot(path=str(OUT / "import-done.png"), full_page=True)

    # The same people arriving again through other channels, with typos and another format.
    for first, last, email, phone_number in (
        ("Chiara", "Schultz", "chiara.schulz2@initech.example", "(415) 555-1002"),
        ("Dimitri", "Lindqvist", "", "415.555.1003"),
        ("Bruno", "Rosi", "bruno.rossi@mail.example", "+14155551001"),
    ):
        contact_create(actor=rep, data={
            "first_name": first, "last_name": last, "source": "event",
            "emails": [email] if email else [], "phones": [phone_number] if phone_number else [],
        })
    dedupe_run(actor=rep, auto_merge_at=0.9999, review_at=0.3)
    page.goto(f"{base}/contacts/duplicates/")
    page.screenshot(path=str(OUT / "duplicates-queue.png"), full_page=True)
    page.click("a[href*='/contacts/duplicates/']:not([href$='/duplicates/'])")
    page.wait_for_url(re.compile(r"/contacts/duplicates/\d+/$"))
    # Tall enough for the whole pair: in a full-page shot the sticky action bar would cover a row.
    page.set_viewport_size({"width": 1360, "height": 1250})
    page.screenshot(path=str(OUT / "duplicates-pair.png"), full_page=True)
    page.set_viewport_size({"width": 1360, "height": 900})

    # A new contact that already exists: the form warns while it is being typed.
    page.goto(f"{base}/contacts/new/")
    page.fill("input[name=first_name]", "Chiara")
    page.fill("input[name=last_name]", "Schulz")
    page.fill("input[name=email_0]", "Chiara.Schulz2@initech.example")
    page.locator("input[name=email_0]").dispatch_event("change")
    page.locator("[data-duplicates]").wait_for()
    page.screenshot(path=str(OUT / "duplicate-warning.png"), full_page=False)

    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    mobile = phone.new_page()
    login(mobile, base, rep.username, PASSWORD)
    mobile.goto(f"{base}/contacts/")
    mobile.screenshot(path=str(OUT / "contact-list-mobile.png"), full_page=False)
    phone.close()
    context.close()
    assert (OUT / "contact-list.png").stat().st_size > 10_000
