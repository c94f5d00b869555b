"""Contact and account forms: create, edit, inline validation, optimistic concurrency, delete."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from rapport.core.choices import CustomFieldType
from rapport.core.models import AuditEvent, CustomFieldDefinition
from rapport.parties.models import Account, Contact

VALIDATE = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "party-form"}


def contact_post(**overrides):
    data = {
        "first_name": "Grace",
        "last_name": "Hopper",
        "title": "Rear Admiral",
        "lifecycle_stage": "customer",
        "email_0": "Grace@Navy.example",
        "email_0_kind": "work",
        "email_0_primary": "on",
        "email_1": "",
        "email_2": "",
        "phone_0": "(415) 555-0100",
        "phone_0_kind": "mobile",
        "phone_1": "",
        "phone_2": "",
        "addr_0_kind": "work",
        "addr_0_street": "1 Main St",
        "addr_0_city": "Arlington",
        "addr_0_country": "us",
        "addr_1_street": "",
        "addr_2_street": "",
        "tags": "navy, cobol",
    }
    data.update(overrides)
    return data


def test_create_contact_with_emails_phones_address_tags(rep, client_of):
    response = client_of(rep).post(reverse("contact_new"), contact_post(owner=rep.pk))
    contact = Contact.objects.get(last_name="Hopper")
    assert response.status_code == 302 and response["Location"] == reverse("contact_detail", args=[contact.pk])
    assert contact.email == "grace@navy.example"
    assert contact.phone == "+14155550100"
    assert sorted(t.name for t in contact.tags.all()) == ["cobol", "navy"]
    assert contact.addresses.get().country == "US"
    assert contact.owner == rep


def test_form_shows_three_blank_rows_plus_existing(rep, client_of, make_contact):
    contact = make_contact(rep, emails=["a@example.com", "b@example.com"])
    body = client_of(rep).get(reverse("contact_edit", args=[contact.pk])).content.decode()
    assert 'name="email_4"' in body and 'name="email_5"' not in body
    assert 'value="a@example.com"' in body
    assert f'name="version" value="{contact.version}"' in body


def test_validate_only_shows_errors_and_saves_nothing(rep, client_of):
    response = client_of(rep).post(
        reverse("contact_new"), contact_post(email_0="not-an-email", _validate="1"), **VALIDATE
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and 'id="party-form"' in body
    assert "not a valid email" in body
    assert 'id="field-email_0"' not in body or "has-error" in body
    assert not Contact.objects.exists()


def test_validate_only_of_a_valid_form_saves_nothing(rep, client_of):
    response = client_of(rep).post(reverse("contact_new"), contact_post(_validate="1"), **VALIDATE)
    assert response.status_code == 200
    assert "errorlist" not in response.content.decode()
    assert not Contact.objects.exists()
    assert not AuditEvent.objects.exists()


def test_invalid_submit_shows_errors_beside_fields(rep, client_of):
    response = client_of(rep).post(
        reverse("contact_new"), contact_post(first_name="", last_name="", email_0="", phone_0="12")
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert "Give at least a name or an email address." in body
    assert "not a valid phone number" in body
    assert not Contact.objects.exists()


def test_edit_contact_and_audit(rep, client_of, make_contact):
    contact = make_contact(rep, emails=["ada@example.com"])
    data = contact_post(first_name="Augusta", version=contact.version, owner=rep.pk)
    response = client_of(rep).post(reverse("contact_edit", args=[contact.pk]), data)
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.first_name == "Augusta" and contact.version == 2
    assert AuditEvent.objects.filter(object_id=contact.pk, action="update").exists()


def test_stale_version_shows_conflict_and_saves_nothing(rep, teammate, client_of, make_contact):
    contact = make_contact(rep)
    opened_version = contact.version
    # someone else saves first
    client_of(teammate).post(
        reverse("contact_edit", args=[contact.pk]),
        contact_post(first_name="First", version=opened_version, owner=rep.pk),
    )
    response = client_of(rep).post(
        reverse("contact_edit", args=[contact.pk]),
        contact_post(first_name="Second", version=opened_version, owner=rep.pk),
    )
    body = response.content.decode()
    assert response.status_code == 409
    assert "changed by someone else since you opened it" in body
    assert "Reload the current version" in body
    contact.refresh_from_db()
    assert contact.first_name == "First"


def test_custom_fields_get_typed_inputs_and_are_saved(rep, client_of):
    ct = ContentType.objects.get_for_model(Contact)
    for key, kind, choices in (
        ("size", CustomFieldType.CHOICE, ["s", "m"]),
        ("vip", CustomFieldType.BOOLEAN, []),
        ("score", CustomFieldType.NUMBER, []),
        ("since", CustomFieldType.DATE, []),
        ("nick", CustomFieldType.TEXT, []),
    ):
        CustomFieldDefinition.objects.create(
            content_type=ct, key=key, label=key.title(), field_type=kind, choices=choices
        )
    client = client_of(rep)
    body = client.get(reverse("contact_new")).content.decode()
    assert '<select name="cf_size"' in body and '<select name="cf_vip"' in body
    assert 'type="number" name="cf_score"' in body and 'type="date" name="cf_since"' in body
    data = contact_post(cf_size="m", cf_vip="true", cf_score="4.5", cf_since="2020-01-02", cf_nick="G")
    assert client.post(reverse("contact_new"), data).status_code == 302
    assert Contact.objects.get().custom == {
        "size": "m",
        "vip": True,
        "score": "4.5",
        "since": "2020-01-02",
        "nick": "G",
    }
    bad = client.post(reverse("contact_new"), contact_post(cf_score="abc", last_name="Other"))
    assert bad.status_code == 422 and "Score: not a number." in bad.content.decode()


def test_contact_account_role_and_reports_to(rep, client_of, make_account, make_contact):
    account = make_account(rep, name="Navy")
    boss = make_contact(rep, first_name="Boss", last_name="Person", account_id=account.pk)
    client = client_of(rep)
    response = client.post(
        reverse("contact_new"), contact_post(account=account.pk, account_role="Engineer", reports_to=boss.pk)
    )
    assert response.status_code == 302
    contact = Contact.objects.get(last_name="Hopper")
    assert contact.account == account and contact.reports_to == boss
    assert contact.memberships.get().role == "Engineer"


def test_delete_contact_with_confirmation(rep, client_of, make_contact):
    contact = make_contact(rep, first_name="Gone")
    client = client_of(rep)
    page = client.get(reverse("contact_delete", args=[contact.pk]))
    assert page.status_code == 200 and "Delete “Gone Lovelace”?" in page.content.decode()
    response = client.post(reverse("contact_delete", args=[contact.pk]), {"version": contact.version})
    assert response.status_code == 302 and response["Location"] == reverse("contact_list")
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_delete_with_stale_version_is_refused(rep, client_of, make_contact):
    contact = make_contact(rep)
    response = client_of(rep).post(reverse("contact_delete", args=[contact.pk]), {"version": contact.version + 5})
    assert response.status_code == 409
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_account_create_edit_delete(rep, client_of, make_account):
    parent = make_account(rep, name="Holding")
    client = client_of(rep)
    response = client.post(
        reverse("account_new"),
        {
            "name": "Acme",
            "website": "acme.example",
            "industry": "software",
            "annual_revenue": "1250000.50",
            "parent": parent.pk,
            "tags": "key",
            "owner": rep.pk,
        },
    )
    assert response.status_code == 302
    account = Account.objects.get(name="Acme")
    assert account.domain == "acme.example" and account.parent == parent and str(account.annual_revenue) == "1250000.50"
    detail = client.get(reverse("account_detail", args=[account.pk])).content.decode()
    assert "1,250,000.50 USD" in detail and "Holding" in detail
    stale = client.post(reverse("account_edit", args=[account.pk]), {"name": "Acme 2", "version": account.version + 1})
    assert stale.status_code == 409
    assert Account.objects.get(pk=account.pk).name == "Acme"
    ok = client.post(
        reverse("account_edit", args=[account.pk]), {"name": "Acme 2", "version": account.version, "owner": rep.pk}
    )
    assert ok.status_code == 302 and Account.objects.get(pk=account.pk).name == "Acme 2"
    missing_name = client.post(reverse("account_new"), {"name": ""})
    assert missing_name.status_code == 422 and "errorlist" in missing_name.content.decode()
    account.refresh_from_db()
    client.post(reverse("account_delete", args=[account.pk]), {"version": account.version})
    assert not Account.objects.filter(pk=account.pk).exists()


def test_analyst_cannot_post_the_form(rep, analyst, client_of, make_contact):
    contact = make_contact(rep)
    response = client_of(analyst).post(
        reverse("contact_edit", args=[contact.pk]), contact_post(first_name="Hacked", version=contact.version)
    )
    assert response.status_code == 403
    contact.refresh_from_db()
    assert contact.first_name == "Ada"
    assert client_of(analyst).post(reverse("contact_new"), contact_post()).status_code == 403
