"""Contact and account lists: search, filters, sorting, keyset pages, htmx partials, bulk actions, saved views."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rapport.core.choices import CustomFieldType
from rapport.core.models import CustomFieldDefinition, SavedView
from rapport.parties.models import Account, Contact

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}


def test_contact_list_shows_readable_contacts_only(rep, other_rep, client_of, make_contact):
    make_contact(rep, first_name="Mine", last_name="One")
    make_contact(other_rep, first_name="Theirs", last_name="Two")
    response = client_of(rep).get(reverse("contact_list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Mine One" in body
    assert "Theirs Two" not in body
    assert "1 shown" in body


def test_typo_tolerant_search_in_the_list(rep, client_of, make_contact):
    make_contact(rep, first_name="Margaret", last_name="Hamilton")
    make_contact(rep, first_name="Grace", last_name="Hopper")
    body = client_of(rep).get(reverse("contact_list"), {"q": "hamiltn"}).content.decode()
    assert "Margaret Hamilton" in body
    assert "Grace Hopper" not in body


def test_filter_by_stage_and_tag(rep, client_of, make_contact):
    make_contact(rep, first_name="Cus", last_name="Tomer", lifecycle_stage="customer", tags=["vip"])
    make_contact(rep, first_name="Pro", last_name="Spect", lifecycle_stage="prospect")
    client = client_of(rep)
    body = client.get(reverse("contact_list"), {"lifecycle_stage": "customer"}).content.decode()
    assert "Cus Tomer" in body and "Pro Spect" not in body
    body = client.get(reverse("contact_list"), {"tag": "vip"}).content.decode()
    assert "Cus Tomer" in body and "Pro Spect" not in body


def test_custom_choice_field_is_a_filter(rep, client_of, make_contact):
    CustomFieldDefinition.objects.create(
        content_type=ContentType.objects.get_for_model(Contact),
        key="segment",
        label="Segment",
        field_type=CustomFieldType.CHOICE,
        choices=["smb", "enterprise"],
    )
    make_contact(rep, first_name="Big", last_name="Co", custom={"segment": "enterprise"})
    make_contact(rep, first_name="Small", last_name="Co", custom={"segment": "smb"})
    client = client_of(rep)
    page = client.get(reverse("contact_list")).content.decode()
    assert 'name="cf_segment"' in page
    body = client.get(reverse("contact_list"), {"cf_segment": "enterprise"}).content.decode()
    assert "Big Co" in body and "Small Co" not in body


def test_htmx_request_gets_only_the_table_partial(rep, client_of, make_contact):
    make_contact(rep, first_name="Partial", last_name="Person")
    response = client_of(rep).get(reverse("contact_list"), {"sort": "-name"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert "<table" in body and "Partial Person" in body
    assert 'name="sort" value="-name"' in body


def test_keyset_pages_show_more_without_counting(rep, client_of, make_contact):
    for i in range(53):
        make_contact(rep, first_name="P", last_name=f"Person{i:02d}")
    client = client_of(rep)
    with CaptureQueriesContext(connection) as queries:
        first = client.get(reverse("contact_list"), {"sort": "name"})
    body = first.content.decode()
    assert "50 shown" in body and "more…" in body
    assert "Person00" in body and "Person49" in body and "Person50" not in body
    assert not any("COUNT(" in q["sql"].upper() and "parties_contact" in q["sql"] for q in queries.captured_queries)
    assert not any("OFFSET" in q["sql"].upper() for q in queries.captured_queries)
    cursor = first.context["page"].next_cursor
    second = client.get(reverse("contact_list"), {"sort": "name", "cursor": cursor}).content.decode()
    assert "3 shown" in second and "Person50" in second and "Person52" in second and "Person49" not in second
    assert "First" in second


def test_list_selects_only_the_shown_columns(rep, client_of, make_contact):
    make_contact(rep, title="Secret title")
    with CaptureQueriesContext(connection) as queries:
        client_of(rep).get(reverse("contact_list"))
    list_sql = [q["sql"] for q in queries.captured_queries if "ORDER BY" in q["sql"] and "parties_contact" in q["sql"]]
    assert list_sql
    assert '"title"' not in list_sql[-1] and "search_text" not in list_sql[-1]


def test_bad_cursor_and_unknown_sort_fall_back_to_the_first_page(rep, client_of, make_contact):
    make_contact(rep, first_name="Still", last_name="Here")
    body = client_of(rep).get(reverse("contact_list"), {"cursor": "garbage", "sort": "title"}).content.decode()
    assert "Still Here" in body
    assert "no longer valid" in body


def test_user_content_is_escaped_in_the_list(rep, client_of, make_contact):
    make_contact(rep, first_name="<script>alert(1)</script>", last_name="X", tags=["<b>t</b>"])
    body = client_of(rep).get(reverse("contact_list")).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<b>t</b>" not in body


def test_bulk_assign_tag_and_delete(rep, teammate, client_of, make_contact):
    a = make_contact(rep, first_name="A", last_name="A")
    b = make_contact(rep, first_name="B", last_name="B")
    client = client_of(rep)
    url = reverse("contact_bulk")
    back = reverse("contact_list") + "?lifecycle_stage=prospect"
    response = client.post(url, {"action": "assign", "owner": teammate.pk, "ids": [a.pk, b.pk], "next": back})
    assert response.status_code == 302 and response["Location"] == back
    assert set(Contact.objects.filter(pk__in=[a.pk, b.pk]).values_list("owner_id", flat=True)) == {teammate.pk}
    client.post(url, {"action": "tag", "tag": "hot", "ids": [a.pk]})
    assert [t.name for t in Contact.objects.get(pk=a.pk).tags.all()] == ["hot"]
    client.post(url, {"action": "delete", "ids": [a.pk, b.pk]})
    assert not Contact.objects.filter(pk__in=[a.pk, b.pk]).exists()


def test_bulk_on_records_of_another_team_changes_nothing(rep, other_rep, client_of, make_contact):
    mine = make_contact(rep)
    theirs = make_contact(other_rep)
    response = client_of(rep).post(reverse("contact_bulk"), {"action": "delete", "ids": [mine.pk, theirs.pk]})
    assert response.status_code == 302
    assert Contact.objects.filter(pk__in=[mine.pk, theirs.pk]).count() == 2


def test_analyst_bulk_delete_is_forbidden(rep, analyst, client_of, make_contact):
    contact = make_contact(rep)
    response = client_of(analyst).post(reverse("contact_bulk"), {"action": "delete", "ids": [contact.pk]})
    assert response.status_code == 403
    assert Contact.objects.filter(pk=contact.pk).exists()
    body = client_of(analyst).get(reverse("contact_list")).content.decode()
    assert 'id="bulk-form"' not in body


def test_saved_views_private_shared_and_delete_own(rep, teammate, client_of):
    client = client_of(rep)
    response = client.post(
        reverse("contact_view_save"),
        {"name": "Customers", "query": "lifecycle_stage=customer&cursor=abc", "is_shared": "on"},
    )
    assert response.status_code == 302
    view = SavedView.objects.get(name="Customers")
    assert view.query == "lifecycle_stage=customer" and view.is_shared and view.user == rep
    client.post(reverse("contact_view_save"), {"name": "Mine only", "query": "lifecycle_stage=prospect"})
    own_page = client.get(reverse("contact_list")).content.decode()
    assert "Customers" in own_page and "Mine only" in own_page and "?lifecycle_stage=customer" in own_page
    other_page = client_of(teammate).get(reverse("contact_list")).content.decode()
    assert "Customers" in other_page and "Mine only" not in other_page
    # someone else's shared view is not theirs to delete
    assert client_of(teammate).post(reverse("contact_view_delete", args=[view.pk])).status_code == 404
    assert SavedView.objects.filter(pk=view.pk).exists()
    client.post(reverse("contact_view_delete", args=[view.pk]))
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_account_list_filters_and_bulk_tag(rep, client_of, make_account):
    soft = make_account(rep, name="Softy", industry="software", tier="gold")
    make_account(rep, name="Farmy", industry="agriculture")
    client = client_of(rep)
    body = client.get(reverse("account_list"), {"industry": "software"}).content.decode()
    assert "Softy" in body and "Farmy" not in body
    partial = client.get(reverse("account_list"), {"sort": "-updated"}, **HTMX).content.decode()
    assert "<html" not in partial and "Farmy" in partial
    client.post(reverse("account_bulk"), {"action": "tag", "tag": "key", "ids": [soft.pk]})
    assert [t.name for t in Account.objects.get(pk=soft.pk).tags.all()] == ["key"]


def test_global_search_with_a_typo(rep, other_rep, client_of, make_contact, make_account):
    make_contact(rep, first_name="Johanna", last_name="Smithers")
    make_contact(other_rep, first_name="Johanna", last_name="Smithson")
    make_account(rep, name="Smithers Industries")
    response = client_of(rep).get(reverse("search"), {"q": "johana smithrs"})
    body = response.content.decode()
    assert "Johanna Smithers" in body
    assert "Smithson" not in body
