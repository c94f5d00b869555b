"""Helpers for the identity tests: contacts with a full history, and snapshots of everything about them."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile

from rapport.activities.services import attachment_add, interaction_record, note_add, task_create
from rapport.core.models import User
from rapport.parties.merge import _dump
from rapport.parties.models import Contact, ContactMerge
from rapport.parties.services import contact_create


@pytest.fixture
def make_contact():
    def _make(actor: User, **data: Any) -> Contact:
        data.setdefault("first_name", "Ada")
        data.setdefault("last_name", "Lovelace")
        return contact_create(actor=actor, data=data)

    return _make


@pytest.fixture
def with_history(settings, tmp_path):
    """Give a contact one interaction, note, task and attachment; returns them."""
    settings.MEDIA_ROOT = str(tmp_path / "media")

    def _add(actor: User, contact: Contact, label: str) -> dict[str, Any]:
        return {
            "interaction": interaction_record(actor=actor, channel="email", contact=contact, subject=f"{label} mail"),
            "note": note_add(actor=actor, contact=contact, body=f"{label} note"),
            "task": task_create(actor=actor, contact=contact, title=f"{label} task"),
            "attachment": attachment_add(
                actor=actor, contact=contact, upload=SimpleUploadedFile(f"{label}.txt", b"hello")
            ),
        }

    return _add


def world(*contact_ids: int) -> dict[str, Any]:
    """Every row of every table that is, or points at, one of ``contact_ids`` (sorted, full columns)."""
    out: dict[str, Any] = {
        "contacts": sorted((_dump(c) for c in Contact.objects.filter(pk__in=contact_ids)), key=lambda r: r["id"])
    }
    for model in apps.get_models(include_auto_created=True):
        if model is ContactMerge:
            continue  # the merge record itself
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is Contact and field.db_constraint:
                rows = model._base_manager.filter(**{f"{field.attname}__in": contact_ids})
                key = f"{model._meta.label_lower}.{field.name}"
                out[key] = sorted((_dump(r) for r in rows), key=lambda r: r[model._meta.pk.attname])
    return out


def without(data: dict[str, Any], contact_id: int, *names: str) -> dict[str, Any]:
    """``world`` with some columns of one contact left out (what a merge and its undo must change)."""
    copy = dict(data)
    for key in [k for k in data if k == "contacts" or k.startswith("parties.contact.")]:
        copy[key] = [
            {k: v for k, v in row.items() if not (row["id"] == contact_id and k in names)} for row in data[key]
        ]
    return copy


def unstamped(data: dict[str, Any]) -> dict[str, Any]:
    """``world``-like data without ``updated_at``: a merge and its undo stamp every row they re-point
    (so that readers of changed rows see both moves); everything else about those rows must come
    back exactly. (The restored duplicate's own stamp is checked separately: it returns as it was.)"""
    return {key: [{k: v for k, v in row.items() if k != "updated_at"} for row in rows] for key, rows in data.items()}
