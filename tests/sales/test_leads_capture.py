"""Leads arriving by themselves: the public web form (honeypot, rate limit, double opt-in over real
SMTP), inbound email (API and `rapport inbound-lead`), and CSV import (API, page and CLI)."""

from __future__ import annotations

import io
import json
import sys

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from tests.conftest import client_for

from rapport.sales import webforms
from rapport.sales.models import Lead
from rapport.sales.models_leads import AssignmentRule, LeadEvent, LeadScoringRule, WebForm
from rapport.sales.services_leads import setup_create

PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def form(manager, rep):
    return setup_create(actor=manager, model=WebForm, data={
        "name": "Contact us", "fields": ["first_name", "last_name", "email", "company", "country", "marketing_consent"],
        "required": ["email"], "source": "website", "campaign": "spring-2026", "thank_you_text": "Thanks <b>!</b>",
        "owner_id": rep.pk})


def _submit(form, **data):
    return Client(REMOTE_ADDR="203.0.113.9").post(f"/f/{form.public_key}/", data=data)


def test_submission_creates_a_scored_assigned_lead_with_source_and_campaign(form, manager, teammate) -> None:
    setup_create(actor=manager, model=AssignmentRule, data={"name": "FR", "countries": "FR", "strategy": "user",
                                                            "user_id": teammate.pk})
    setup_create(actor=manager, model=LeadScoringRule, data={
        "name": "Form", "kind": "engagement", "field": "web_form", "operator": "any", "points": 25})
    response = _submit(form, first_name="Marie", last_name="Curie", email="MARIE@Radium.example", country="fr",
                       title="ignored: not a field of this form")
    assert response.status_code == 200
    assert b"Thanks &lt;b&gt;!&lt;/b&gt;" in response.content  # the admin's text is escaped
    lead = Lead.objects.get()
    assert (lead.email, lead.source, lead.campaign, lead.title) == ("marie@radium.example", "website",
                                                                     "spring-2026", "")
    assert lead.owner == teammate and lead.score == 25
    assert LeadEvent.objects.filter(lead=lead, kind="web_form").count() == 1
    assert WebForm.objects.get(pk=form.pk).submissions == 1


def test_no_rule_falls_back_to_the_forms_owner(form, rep) -> None:
    _submit(form, email="a@b.example")
    assert Lead.objects.get().owner == rep


def test_honeypot_is_accepted_and_dropped(form) -> None:
    response = _submit(form, email="bot@spam.example", **{webforms.HONEYPOT: "http://spam"})
    assert response.status_code == 200
    assert Lead.objects.count() == 0


def test_missing_required_field_and_unknown_form(form) -> None:
    response = Client().post(f"/f/{form.public_key}/", data={"first_name": "X"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 422 and response["Content-Type"] == PROBLEM
    assert response.json()["errors"] == {"email": ["Required."]}
    assert Client().post("/f/nope/", data={"email": "a@b.example"}).status_code == 404
    assert Lead.objects.count() == 0


def test_rate_limit_per_ip(form, monkeypatch) -> None:
    monkeypatch.setattr(webforms, "RATE_PER_IP", 3)
    codes = [_submit(form, email=f"p{i}@b.example").status_code for i in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert Lead.objects.count() == 3
    # another address still gets through
    assert Client(REMOTE_ADDR="198.51.100.1").post(f"/f/{form.public_key}/", data={"email": "z@b.example"}
                                                   ).status_code == 200


def test_rate_limit_per_form(form, monkeypatch) -> None:
    monkeypatch.setattr(webforms, "RATE_PER_FORM", 2)
    codes = [Client(REMOTE_ADDR=f"192.0.2.{i}").post(f"/f/{form.public_key}/", data={"email": f"{i}@b.example"}
                                                     ).status_code for i in range(3)]
    assert codes == [200, 200, 429]


def test_redirect_and_hosted_page_and_closed_form(form, manager) -> None:
    WebForm.objects.filter(pk=form.pk).update(redirect_url="https://example.com/thanks")
    assert _submit(form, email="r@b.example")["Location"] == "https://example.com/thanks"
    page = Client().get(f"/f/{form.public_key}/")
    assert page.status_code == 200 and webforms.HONEYPOT.encode() in page.content
    WebForm.objects.filter(pk=form.pk).update(is_active=False)
    assert _submit(form, email="c@b.example").status_code == 404


def test_embed_snippet_posts_to_the_public_endpoint(form) -> None:
    snippet = webforms.embed_snippet(form)
    assert f"/f/{form.public_key}/" in snippet and 'name="email"' in snippet and "required" in snippet
    assert f'name="{webforms.HONEYPOT}"' in snippet and 'name="title"' not in snippet


def test_bad_form_definitions_are_refused(manager) -> None:
    from rapport.core.errors import ValidationFailed

    for fields, required in ((["first_name"], []), (["email", "salary"], []), (["email"], ["phone"])):
        with pytest.raises(ValidationFailed):
            setup_create(actor=manager, model=WebForm, data={"name": "x", "fields": fields, "required": required})


@pytest.mark.django_db(transaction=True)
def test_double_opt_in_mails_a_signed_link_that_confirms_consent(manager, rep, smtp, settings) -> None:
    settings.RAPPORT_BASE_URL = "http://testserver"
    form = setup_create(actor=manager, model=WebForm, data={
        "name": "Newsletter", "fields": ["email", "marketing_consent"], "required": ["email"],
        "double_opt_in": True, "owner_id": rep.pk})
    _submit(form, email="opt@in.example", marketing_consent="1")
    lead = Lead.objects.get()
    assert not lead.marketing_consent and lead.consent_confirmed_at is None
    messages = [m.content for m in smtp.messages if "opt@in.example" in m.content and "confirm" in m.content.lower()]
    assert len(messages) == 1
    link = next(word for word in messages[0].split() if "/f/confirm/" in word)
    path = link.removeprefix("http://testserver")
    tampered = path[:-3] + ("xyz" if not path.endswith("xyz/") else "abc") + "/"
    assert Client().get(tampered).status_code == 404
    assert Client().get(path).status_code == 200
    lead.refresh_from_db()
    assert lead.marketing_consent and lead.consent_confirmed_at is not None
    assert Client().get(path).status_code == 200  # idempotent
    assert LeadEvent.objects.filter(lead=lead, kind="opt_in").count() == 1


MESSAGE = b"""From: "Grace Hopper" <Grace@Navy.example>
To: sales@rapport.example
Subject: Pricing for 200 seats
Message-ID: <abc@navy.example>
Content-Type: text/plain; charset=utf-8

Hello, could you send a quote?
"""


def test_inbound_email_api_makes_a_lead_with_the_mail_on_its_timeline(rep) -> None:
    response = client_for(rep).post("/api/v1/leads/inbound-email?campaign=fair", data=MESSAGE,
                                    content_type="message/rfc822")
    assert response.status_code == 201, response.content
    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name, lead.email, lead.source, lead.campaign) == (
        "Grace", "Hopper", "grace@navy.example", "email", "fair")
    event = LeadEvent.objects.get(lead=lead, kind="inbound")
    assert event.subject == "Pricing for 200 seats" and "send a quote" in event.body


def test_inbound_email_refuses_junk_and_anonymous(rep) -> None:
    response = client_for(rep).post("/api/v1/leads/inbound-email", data=b"Subject: hi\n\nno sender\n",
                                    content_type="message/rfc822")
    assert response.status_code == 422 and response["Content-Type"] == PROBLEM
    assert client_for(None).post("/api/v1/leads/inbound-email", data=MESSAGE,
                                 content_type="message/rfc822").status_code == 401
    assert Lead.objects.count() == 0


def test_inbound_lead_command_reads_stdin(rep, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(MESSAGE)))
    out = io.StringIO()
    call_command("rapport_inbound_lead", "--as", "rep", stdout=out)
    assert "grace@navy.example" in out.getvalue()
    assert Lead.objects.get().owner == rep


CSV = ("First Name,Last Name,E-mail,Company,Employees,Country\n"
       "Ada,Byron,ada@example.org,Engines,50,GB\n"
       "Bad,Row,not-an-email,X,,GB\n"
       "Alan,Turing,alan@example.org,Bletchley,lots,GB\n"
       "Grace,Hopper,grace@example.org,Navy,10000,US\n")


def test_csv_import_api_reports_bad_rows_by_line(rep) -> None:
    response = client_for(rep).post("/api/v1/leads/import?campaign=fair", data=CSV.encode(), content_type="text/csv")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["created"] == 2
    assert [(e["line"], sorted(e["errors"])) for e in body["errors"]] == [(3, ["email"]), (4, ["employees"])]
    assert set(Lead.objects.values_list("email", "source", "campaign")) == {
        ("ada@example.org", "import", "fair"), ("grace@example.org", "import", "fair")}


def test_csv_import_page_and_cli(rep, tmp_path) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    page = client_for(rep).post("/leads/import/", data={"file": SimpleUploadedFile("l.csv", CSV.encode()),
                                                        "source": "fair"})
    assert page.status_code == 200 and b"line 3" in page.content
    assert Lead.objects.filter(source="fair").count() == 2
    path = tmp_path / "leads.csv"
    path.write_text(CSV.replace("ada@", "ada2@").replace("grace@", "grace2@"))
    out, err = io.StringIO(), io.StringIO()
    call_command("rapport_import_leads", str(path), "--as", "rep", stdout=out, stderr=err)
    assert "2 leads imported, 2 rows rejected" in out.getvalue() and "line 4: employees" in err.getvalue()


def test_csv_without_lead_columns_is_refused(rep) -> None:
    response = client_for(rep).post("/api/v1/leads/import", data=b"foo,bar\n1,2\n", content_type="text/csv")
    assert response.status_code == 422 and response["Content-Type"] == PROBLEM
    assert json.loads(response.content)["errors"]["file"]


def test_rapport_cli_routes_import_leads_and_inbound_lead(monkeypatch) -> None:
    from rapport import cli

    calls: list[list[str]] = []
    monkeypatch.setattr(cli, "_manage", lambda argv: calls.append(argv))
    cli.main(["import", "leads", "f.csv", "--campaign", "x"])
    cli.main(["inbound-lead", "--as", "rep"])
    cli.main(["import", "contacts", "c.csv"])
    assert calls == [["rapport_import_leads", "f.csv", "--campaign", "x"], ["rapport_inbound_lead", "--as", "rep"],
                     ["rapport_import", "contacts", "c.csv"]]


@pytest.mark.parametrize("raw", [b"\xff\xfe\x00garbage", b"From: <>\n\n", b"From: nobody\n\nhi", b" \n"])
def test_inbound_junk_is_422_never_500(rep, raw) -> None:
    response = client_for(rep).post("/api/v1/leads/inbound-email", data=raw, content_type="message/rfc822")
    assert response.status_code == 422 and response["Content-Type"] == PROBLEM
    assert Lead.objects.count() == 0


def test_import_junk_bytes_is_422(rep) -> None:
    response = client_for(rep).post("/api/v1/leads/import", data=b"\xff\xfe\x00\x01", content_type="text/csv")
    assert response.status_code == 422 and response["Content-Type"] == PROBLEM
