"""Merging two accounts: what moves, what survives, the hierarchy, who may, and exact undo."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps

from rapport.activities.models import Interaction, Note, Task
from rapport.activities.services import interaction_record, note_add, task_create
from rapport.core.audit import audit_history
from rapport.core.choices import Role
from rapport.core.errors import Conflict, PermissionDenied, ValidationFailed
from rapport.parties.merge_accounts import account_merge, account_merge_get, account_merge_plan, account_merge_undo
from rapport.parties.merge_engine import MergeAlreadyUndone, dump
from rapport.parties.models import Account, AccountMembership, AccountMerge, Contact
from rapport.parties.services import account_create, account_update, contact_create, contact_update

from .conftest import unstamped


def account_world(*account_ids: int) -> dict[str, Any]:
    """Every row of every table that is, or points at, one of ``account_ids`` (sorted, full columns)."""
    out: dict[str, Any] = {
        "accounts": sorted((dump(a) for a in Account.objects.filter(pk__in=account_ids)), key=lambda r: r["id"])
    }
    for model in apps.get_models(include_auto_created=True):
        if model is AccountMerge:
            continue  # the merge record itself
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is Account and field.db_constraint:
                rows = model._base_manager.filter(**{f"{field.attname}__in": account_ids})
                key = f"{model._meta.label_lower}.{field.name}"
                out[key] = sorted((dump(r) for r in rows), key=lambda r: r[model._meta.pk.attname])
    return out


def _without_survivor_bookkeeping(data: dict[str, Any], account_id: int) -> dict[str, Any]:
    copy = dict(data)
    copy["accounts"] = [{k: v for k, v in row.items() if not (row["id"] == account_id and k in (
        "version", "updated_at"))} for row in data["accounts"]]
    return copy


@pytest.fixture
def companies(rep):
    """Acme Ltd (survivor) and ACME Limited (duplicate), each with contacts, a child and a timeline."""
    survivor = account_create(actor=rep, data={
        "name": "Acme Ltd", "website": "https://www.acme.test", "industry": "", "tags": ["key"],
        "addresses": [{"street": "1 High St", "city": "Leeds", "postal_code": "LS1 1AA", "country": "GB"}],
    })
    duplicate = account_create(actor=rep, data={
        "name": "ACME Limited", "website": "acme.test", "phone": "+442079460018", "description": "Widgets",
        "tags": ["key", "north"],
        "addresses": [
            {"street": "1 high st", "city": "leeds", "postal_code": "ls1 1aa", "country": "gb"},
            {"street": "9 Dock Rd", "city": "Hull", "postal_code": "HU1 2BB", "country": "GB", "kind": "billing"},
        ],
    })
    ada = contact_create(actor=rep, data={"first_name": "Ada", "last_name": "Byron", "account_id": survivor.pk})
    bob = contact_create(actor=rep, data={"first_name": "Bob", "last_name": "Stone", "account_id": duplicate.pk})
    # Cy is a member of both, primary at the duplicate: after the merge he keeps one membership, primary.
    cy = contact_create(actor=rep, data={"first_name": "Cy", "last_name": "Young", "account_id": survivor.pk})
    cy = contact_update(actor=rep, contact=cy, data={"account_id": duplicate.pk}, expected_version=None)
    child = account_create(actor=rep, data={"name": "Acme Leeds", "parent_id": duplicate.pk})
    timeline = {
        "interaction": interaction_record(actor=rep, channel="email", account=duplicate, subject="Order"),
        "note": note_add(actor=rep, account=duplicate, body="Good payer"),
        "task": task_create(actor=rep, account=duplicate, title="Renew"),
    }
    return {"survivor": survivor, "duplicate": duplicate, "ada": ada, "bob": bob, "cy": cy, "child": child,
            "timeline": timeline}


def test_merge_moves_contacts_memberships_children_and_timeline(rep, companies):
    survivor, duplicate = companies["survivor"], companies["duplicate"]
    # when
    merge = account_merge(actor=rep, survivor=survivor, duplicate=duplicate)
    # then the duplicate is gone and everything that pointed at it points at the survivor
    assert not Account.objects.filter(pk=duplicate.pk).exists()
    for model, row in ((Interaction, "interaction"), (Note, "note"), (Task, "task")):
        assert model.objects.get(pk=companies["timeline"][row].pk).account_id == survivor.pk
    assert Contact.objects.get(pk=companies["bob"].pk).account_id == survivor.pk
    assert Account.objects.get(pk=companies["child"].pk).parent_id == survivor.pk
    # Cy: his membership of the duplicate was dropped (he had one of the survivor), the survivor's is primary
    cy = Contact.objects.get(pk=companies["cy"].pk)
    assert cy.account_id == survivor.pk
    assert list(AccountMembership.objects.filter(contact=cy).values_list("account_id", "is_primary")) == [
        (survivor.pk, True)]
    assert [entry["model"] for entry in merge.dropped] == ["parties.accountmembership"]
    assert "acme" in Contact.objects.get(pk=companies["bob"].pk).search_text
    moved = {entry["model"] for entry in merge.repointed}
    assert {"parties.contact", "parties.accountmembership", "parties.account", "activities.interaction",
            "activities.note", "activities.task"} <= moved


def test_merge_keeps_every_address_and_tag_once_and_fills_empty_fields(rep, companies):
    survivor, duplicate = companies["survivor"], companies["duplicate"]
    merge = account_merge(actor=rep, survivor=survivor, duplicate=duplicate)
    survivor.refresh_from_db()
    assert [(a.street, a.city) for a in survivor.addresses.all()] == [("1 High St", "Leeds"), ("9 Dock Rd", "Hull")]
    assert sorted(survivor.tags.values_list("name", flat=True)) == ["key", "north"]
    assert (survivor.name, survivor.phone, survivor.description) == ("Acme Ltd", "+442079460018", "Widgets")
    assert merge.survivor_changes == {"phone": ["", "+442079460018"], "description": ["", "Widgets"]}
    assert audit_history(survivor)[0].action == "merge"
    assert audit_history(survivor)[0].changes["merged_account"][1].endswith(f"(#{duplicate.pk})")


def test_field_choices_pick_the_duplicates_value(rep, companies):
    survivor, duplicate = companies["survivor"], companies["duplicate"]
    plan = {item.name: item for item in account_merge_plan(survivor=survivor, duplicate=duplicate)}
    assert plan["name"].default == "survivor" and plan["description"].default == "duplicate"
    account_merge(actor=rep, survivor=survivor, duplicate=duplicate, field_choices={"name": "duplicate"})
    assert Account.objects.get(pk=survivor.pk).name == "ACME Limited"


def test_a_survivor_below_the_duplicate_takes_the_duplicates_parent(rep, companies):
    survivor, duplicate = companies["survivor"], companies["duplicate"]
    holding = account_create(actor=rep, data={"name": "Acme Holdings"})
    account_update(actor=rep, account=duplicate, data={"parent_id": holding.pk}, expected_version=None)
    survivor = account_update(actor=rep, account=survivor, data={"parent_id": duplicate.pk}, expected_version=None)
    merge = account_merge(actor=rep, survivor=survivor, duplicate=Account.objects.get(pk=duplicate.pk))
    assert Account.objects.get(pk=survivor.pk).parent_id == holding.pk
    # and undo puts the survivor back below the restored duplicate
    account_merge_undo(actor=rep, merge=merge)
    assert Account.objects.get(pk=survivor.pk).parent_id == duplicate.pk


def test_a_duplicate_below_the_survivor_does_not_become_its_parent(rep, companies):
    survivor, duplicate = companies["survivor"], companies["duplicate"]
    duplicate = account_update(actor=rep, account=duplicate, data={"parent_id": survivor.pk}, expected_version=None)
    account_merge(actor=rep, survivor=Account.objects.get(pk=survivor.pk), duplicate=duplicate)
    assert Account.objects.get(pk=survivor.pk).parent_id is None


def test_a_merge_that_would_make_a_hierarchy_loop_is_refused_and_changes_nothing(rep, companies):
    # given the survivor sits below the duplicate's child: merging would make it its own grandparent
    survivor, duplicate, child = companies["survivor"], companies["duplicate"], companies["child"]
    survivor = account_update(actor=rep, account=survivor, data={"parent_id": child.pk}, expected_version=None)
    before = account_world(survivor.pk, duplicate.pk, child.pk)
    with pytest.raises(ValidationFailed) as caught:
        account_merge(actor=rep, survivor=survivor, duplicate=duplicate)
    assert "field_choices.parent" in caught.value.field_errors
    assert account_world(survivor.pk, duplicate.pk, child.pk) == before
    assert not AccountMerge.objects.exists()


def test_merging_an_account_with_itself_or_a_stale_version_is_refused(rep, companies):
    survivor, duplicate = companies["survivor"], companies["duplicate"]
    with pytest.raises(ValidationFailed):
        account_merge(actor=rep, survivor=survivor, duplicate=survivor)
    with pytest.raises(Conflict):
        account_merge(actor=rep, survivor=survivor, duplicate=duplicate, duplicate_version=duplicate.version - 1)
    assert Account.objects.filter(pk=duplicate.pk).exists()


def test_merging_needs_the_merge_right_and_the_right_to_change_both(rep, other_rep, make_user, team_a, companies):
    survivor, duplicate = companies["survivor"], companies["duplicate"]
    marketer = make_user(Role.MARKETER, team_a)  # may change accounts, may not merge them
    with pytest.raises(PermissionDenied):
        account_merge(actor=marketer, survivor=survivor, duplicate=duplicate)
    theirs = account_create(actor=other_rep, data={"name": "Acme Ltd"})
    with pytest.raises(PermissionDenied):
        account_merge(actor=rep, survivor=survivor, duplicate=theirs)
    assert Account.objects.filter(pk=theirs.pk).exists() and Account.objects.filter(pk=duplicate.pk).exists()


# --- undo ---------------------------------------------------------------------------------------


def test_undo_restores_both_accounts_and_every_related_row_exactly(rep, companies):
    survivor, duplicate, child = companies["survivor"], companies["duplicate"], companies["child"]
    version = survivor.version
    ids = (survivor.pk, duplicate.pk, child.pk)
    before = account_world(*ids)
    contacts_before = [dump(c) for c in Contact.objects.order_by("pk")]
    merge = account_merge(actor=rep, survivor=survivor, duplicate=duplicate)
    # when
    restored = account_merge_undo(actor=rep, merge=merge)
    # then everything is as before, but the survivor's version moved on (twice)
    after = account_world(*ids)
    assert unstamped(_without_survivor_bookkeeping(after, survivor.pk)) == unstamped(
        _without_survivor_bookkeeping(before, survivor.pk))
    assert [a for a in after["accounts"] if a["id"] == duplicate.pk] == [
        a for a in before["accounts"] if a["id"] == duplicate.pk]  # the duplicate returns whole, stamp and all
    # Contacts whose primary account was re-pointed carry the merge's and the undo's stamps.
    assert unstamped({"c": [dump(c) for c in Contact.objects.order_by("pk")]}) == unstamped({"c": contacts_before})
    assert Account.objects.get(pk=survivor.pk).version == version + 2
    assert restored.pk == duplicate.pk and restored.version == duplicate.version
    merge.refresh_from_db()
    assert merge.undo_report == {"kept": {}, "lost": [], "stayed": {}}
    assert audit_history(survivor)[0].action == "restore"


def test_undo_is_exact_after_later_edits_of_unrelated_survivor_fields(rep, companies):
    survivor, duplicate = companies["survivor"], companies["duplicate"]
    merge = account_merge(actor=rep, survivor=survivor, duplicate=duplicate)
    account_update(actor=rep, account=Account.objects.get(pk=survivor.pk), data={"tier": "gold"},
                   expected_version=None)
    account_merge_undo(actor=rep, merge=merge)
    survivor.refresh_from_db()
    assert (survivor.tier, survivor.phone, survivor.description) == ("gold", "", "")
    assert [a.street for a in survivor.addresses.all()] == ["1 High St"]
    assert list(survivor.tags.values_list("name", flat=True)) == ["key"]
    merge.refresh_from_db()
    assert merge.undo_report["kept"] == {}


def test_undo_keeps_a_later_edit_of_a_merged_field_and_says_so(rep, companies):
    survivor, duplicate = companies["survivor"], companies["duplicate"]
    merge = account_merge(actor=rep, survivor=survivor, duplicate=duplicate)
    account_update(actor=rep, account=Account.objects.get(pk=survivor.pk), data={"description": "Gadgets"},
                   expected_version=None)
    account_merge_undo(actor=rep, merge=merge)
    merge.refresh_from_db()
    assert merge.undo_report["kept"] == {"description": {"before": "", "merged": "Widgets", "current": "Gadgets"}}
    assert Account.objects.get(pk=survivor.pk).description == "Gadgets"
    assert Account.objects.get(pk=duplicate.pk).description == "Widgets"


def test_undo_twice_is_refused_and_the_merge_can_be_read_only_by_mergers(rep, analyst, companies):
    survivor, duplicate = companies["survivor"], companies["duplicate"]
    merge = account_merge(actor=rep, survivor=survivor, duplicate=duplicate)
    assert account_merge_get(actor=rep, merge_id=merge.pk) == merge
    with pytest.raises(PermissionDenied):
        account_merge_get(actor=analyst, merge_id=merge.pk)
    account_merge_undo(actor=rep, merge=merge)
    before = account_world(survivor.pk, duplicate.pk)
    with pytest.raises(MergeAlreadyUndone):
        account_merge_undo(actor=rep, merge=merge)
    assert account_world(survivor.pk, duplicate.pk) == before
