"""Admin-defined custom fields: validated on write, filterable in lists and the API."""

from __future__ import annotations

import json

import pytest
from django.contrib.contenttypes.models import ContentType

from rapport.core.errors import ValidationFailed
from rapport.core.models import CustomFieldDefinition
from rapport.parties.models import Contact
from rapport.parties.services import contact_create


@pytest.fixture
def fields(db):
    ct = ContentType.objects.get_for_model(Contact)
    for key, kind, extra in [
        ("shoe_size", "number", {}),
        ("since", "date", {}),
        ("vip", "boolean", {}),
        ("segment", "choice", {"choices": ["smb", "enterprise"]}),
        ("nickname", "text", {}),
    ]:
        CustomFieldDefinition.objects.create(content_type=ct, key=key, label=key.title(), field_type=kind, **extra)


def test_values_are_parsed_by_type(rep, fields) -> None:
    contact = contact_create(
        actor=rep,
        data={
            "last_name": "C",
            "custom": {"shoe_size": "42.5", "since": "2020-01-31", "vip": "yes", "segment": "smb", "nickname": " Cee "},
        },
    )
    assert contact.custom == {
        "shoe_size": "42.5",
        "since": "2020-01-31",
        "vip": True,
        "segment": "smb",
        "nickname": "Cee",
    }


def test_bad_values_are_refused_with_every_error_and_nothing_written(rep, fields) -> None:
    with pytest.raises(ValidationFailed) as caught:
        contact_create(
            actor=rep,
            data={
                "last_name": "C",
                "custom": {"shoe_size": "big", "since": "31/01/2020", "segment": "huge", "colour": "red"},
            },
        )
    assert sorted(caught.value.field_errors) == ["custom.colour", "custom.segment", "custom.shoe_size", "custom.since"]
    assert Contact.objects.count() == 0


def test_required_field(rep, fields) -> None:
    CustomFieldDefinition.objects.filter(key="segment").update(required=True)
    with pytest.raises(ValidationFailed) as caught:
        contact_create(actor=rep, data={"last_name": "C"})
    assert list(caught.value.field_errors) == ["custom.segment"]


def test_api_filters_on_custom_fields(rep, fields, client_of) -> None:
    contact_create(actor=rep, data={"last_name": "Big", "custom": {"segment": "enterprise", "vip": True}})
    contact_create(actor=rep, data={"last_name": "Small", "custom": {"segment": "smb"}})
    client = client_of(rep)
    found = client.get("/api/v1/contacts?custom=segment:enterprise").json()["items"]
    vip = client.get("/api/v1/contacts?custom=vip:true").json()["items"]
    assert [c["last_name"] for c in found] == ["Big"]
    assert [c["last_name"] for c in vip] == ["Big"]
    assert client.get("/api/v1/contacts?custom=colour:red").status_code == 422
    patched = client.patch(
        f"/api/v1/contacts/{found[0]['id']}",
        data=json.dumps({"custom": {"shoe_size": 44}, "version": 1}),
        content_type="application/json",
    )
    assert patched.json()["custom"] == {"segment": "enterprise", "vip": True, "shoe_size": "44"}
