"""Who may open which page: anonymous, other team, role without the right, allowed."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from rapport.core.choices import Visibility
from rapport.core.models import ObjectVisibility
from rapport.core.permissions import visibility_cache_clear
from rapport.parties.models import Contact

PAGES = [
    ("home", []),
    ("contact_list", []),
    ("account_list", []),
    ("contact_new", []),
    ("account_new", []),
    ("my_tasks", []),
    ("notifications", []),
    ("settings", []),
    ("search", []),
]


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_anonymous_is_sent_to_login(client, db, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


def test_anonymous_cannot_see_a_contact(client, rep, make_contact):
    contact = make_contact(rep)
    for name in ("contact_detail", "contact_edit", "contact_delete"):
        response = client.get(reverse(name, args=[contact.pk]))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_login_page_renders_with_its_field_names(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content and b'name="password"' in response.content


@pytest.mark.parametrize("name", ["contact_detail", "contact_edit", "contact_delete"])
def test_other_teams_contact_is_not_found(rep, other_rep, client_of, make_contact, name):
    contact = make_contact(rep, first_name="Secret")
    response = client_of(other_rep).get(reverse(name, args=[contact.pk]))
    assert response.status_code == 404
    assert b"Secret" not in response.content
    assert b"Not found" in response.content


def test_private_type_hides_a_teammates_contact(rep, teammate, client_of, make_contact):
    ObjectVisibility.objects.create(
        content_type=ContentType.objects.get_for_model(Contact), visibility=Visibility.PRIVATE
    )
    visibility_cache_clear()
    contact = make_contact(rep)
    assert client_of(teammate).get(reverse("contact_detail", args=[contact.pk])).status_code == 404
    assert client_of(rep).get(reverse("contact_detail", args=[contact.pk])).status_code == 200
    visibility_cache_clear()


def test_other_teams_account_is_not_found(rep, other_rep, client_of, make_account):
    account = make_account(rep)
    for name in ("account_detail", "account_edit", "account_delete"):
        assert client_of(other_rep).get(reverse(name, args=[account.pk])).status_code == 404


def test_analyst_may_read_but_not_edit_or_delete(rep, analyst, client_of, make_contact, make_account):
    contact = make_contact(rep)
    account = make_account(rep)
    client = client_of(analyst)
    assert client.get(reverse("contact_detail", args=[contact.pk])).status_code == 200
    assert client.get(reverse("account_detail", args=[account.pk])).status_code == 200
    for name, pk in (("contact_edit", contact.pk), ("contact_delete", contact.pk), ("account_edit", account.pk)):
        assert client.get(reverse(name, args=[pk])).status_code == 403
    response = client.post(reverse("contact_delete", args=[contact.pk]), {"version": contact.version})
    assert response.status_code == 403
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert client.get(reverse("contact_new")).status_code == 403
    detail = client.get(reverse("contact_detail", args=[contact.pk])).content.decode()
    assert reverse("contact_edit", args=[contact.pk]) not in detail
    assert 'id="note-form"' not in detail


def test_manager_may_edit_a_team_members_contact(rep, manager, client_of, make_contact):
    contact = make_contact(rep)
    assert client_of(manager).get(reverse("contact_edit", args=[contact.pk])).status_code == 200


def test_non_numeric_and_missing_ids_are_not_found(rep, client_of):
    client = client_of(rep)
    assert client.get("/contacts/999999/").status_code == 404
    assert client.get("/accounts/999999/").status_code == 404
    assert client.get("/contacts/abc/").status_code == 404
