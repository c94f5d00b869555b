"""Merging two contacts: what moves, what survives, who may, and exact undo."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from rapport.activities.models import Attachment, Interaction, Note, Task
from rapport.activities.services import note_add
from rapport.core.audit import audit_history
from rapport.core.choices import Role
from rapport.core.errors import Conflict, PermissionDenied, ValidationFailed
from rapport.parties.merge import MergeAlreadyUndone, contact_merge, contact_merge_plan, contact_merge_undo
from rapport.parties.models import AccountMembership, Contact, ContactMerge
from rapport.parties.services import account_create, contact_update

from .conftest import unstamped, without, world


def _pair(rep, make_contact):
    acme = account_create(actor=rep, data={"name": "Acme"})
    globex = account_create(actor=rep, data={"name": "Globex"})
    survivor = make_contact(
        rep,
        first_name="Ada",
        last_name="Lovelace",
        title="",
        source="import",
        emails=["ada@acme.test", "ada@home.test"],
        phones=["+14155550100"],
        addresses=[{"street": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}],
        tags=["vip"],
        account_id=acme.pk,
    )
    duplicate = make_contact(
        rep,
        first_name="Ada",
        last_name="Lovelace-King",
        title="Countess",
        birthday="1815-12-10",
        emails=["ADA@home.test", "countess@babbage.test"],
        phones=["(415) 555-0100", "+14155550199"],
        addresses=[
            {"street": "1  main st", "city": "springfield", "postal_code": "12345", "country": "us"},
            {"street": "12 St James's Square", "city": "London", "country": "GB", "kind": "home"},
        ],
        tags=["vip", "math"],
        account_id=globex.pk,
    )
    return survivor, duplicate, acme, globex


def test_merge_moves_every_related_row_to_the_survivor(rep, make_contact, with_history):
    # given two contacts with a full timeline each, and a third who reports to the duplicate
    survivor, duplicate, _acme, _globex = _pair(rep, make_contact)
    mine = with_history(rep, survivor, "survivor")
    theirs = with_history(rep, duplicate, "duplicate")
    report = make_contact(rep, first_name="Charles", last_name="Babbage", reports_to_id=duplicate.pk)
    # when
    merge = contact_merge(actor=rep, survivor=survivor, duplicate=duplicate)
    # then the duplicate is gone and every row that pointed at it points at the survivor
    assert not Contact.objects.filter(pk=duplicate.pk).exists()
    for model in (Interaction, Note, Task, Attachment):
        assert sorted(model.objects.filter(contact=survivor).values_list("pk", flat=True)) == sorted(
            [mine[model._meta.model_name].pk, theirs[model._meta.model_name].pk]
        )
    report.refresh_from_db()
    assert report.reports_to_id == survivor.pk
    moved = {entry["model"]: entry["pks"] for entry in merge.repointed}
    assert moved == {
        "activities.interaction": [theirs["interaction"].pk],
        "activities.note": [theirs["note"].pk],
        "activities.task": [theirs["task"].pk],
        "activities.attachment": [theirs["attachment"].pk],
        "parties.contact": [report.pk],
    }
    assert merge.duplicate_id == duplicate.pk and merge.survivor_id == survivor.pk


def test_merge_keeps_every_email_phone_address_tag_and_membership(rep, make_contact):
    # given
    survivor, duplicate, acme, globex = _pair(rep, make_contact)
    # when
    merge = contact_merge(actor=rep, survivor=survivor, duplicate=duplicate)
    # then the survivor has every value once, its own primary values still primary
    survivor.refresh_from_db()
    assert list(survivor.emails.values_list("email", "is_primary")) == [
        ("ada@acme.test", True),
        ("ada@home.test", False),
        ("countess@babbage.test", False),
    ]
    assert list(survivor.phones.values_list("number", "is_primary")) == [
        ("+14155550100", True),
        ("+14155550199", False),
    ]
    assert [(a.street, a.city) for a in survivor.addresses.all()] == [
        ("1 Main St", "Springfield"),
        ("12 St James's Square", "London"),
    ]
    assert sorted(survivor.tags.values_list("name", flat=True)) == ["math", "vip"]
    assert list(AccountMembership.objects.filter(contact=survivor).values_list("account_id", "is_primary")) == [
        (acme.pk, True),
        (globex.pk, False),
    ]
    assert (survivor.email, survivor.phone, survivor.account_id) == ("ada@acme.test", "+14155550100", acme.pk)
    assert merge.added["emails"] == ["countess@babbage.test"]
    assert merge.added["phones"] == ["+14155550199"]
    assert "countess@babbage.test" in survivor.search_text


def test_survivorship_rules_fill_empty_fields_and_prefer_the_recent_title(rep, make_contact):
    # given a survivor without title or birthday, and a duplicate edited later
    survivor, duplicate, _acme, _globex = _pair(rep, make_contact)
    contact_update(actor=rep, contact=survivor, data={"title": "Analyst"}, expected_version=None)
    duplicate = contact_update(actor=rep, contact=duplicate, data={"title": "Countess"}, expected_version=None)
    survivor.refresh_from_db()
    # when
    plan = {item.name: item for item in contact_merge_plan(survivor=survivor, duplicate=duplicate)}
    merge = contact_merge(actor=rep, survivor=survivor, duplicate=duplicate)
    # then
    assert (plan["title"].rule, plan["title"].default) == ("recent", "duplicate")
    assert (plan["last_name"].rule, plan["last_name"].default) == ("trusted", "survivor")
    assert plan["birthday"].default == "duplicate"
    survivor.refresh_from_db()
    assert survivor.title == "Countess"
    assert survivor.last_name == "Lovelace"
    assert survivor.birthday == dt.date(1815, 12, 10)
    assert merge.survivor_changes == {"title": ["Analyst", "Countess"], "birthday": [None, "1815-12-10"]}


@override_settings(RAPPORT_MERGE_TRUSTED_SOURCES=["sales", "import"])
def test_a_trusted_source_wins_names(rep, make_contact):
    # given the duplicate came from a more trusted source
    survivor = make_contact(rep, first_name="Ada", last_name="Lovelac", source="import")
    duplicate = make_contact(rep, first_name="Ada", last_name="Lovelace", source="sales")
    # when
    contact_merge(actor=rep, survivor=survivor, duplicate=duplicate)
    # then
    survivor.refresh_from_db()
    assert (survivor.last_name, survivor.source) == ("Lovelace", "import")


def test_field_choices_override_the_rules(rep, make_contact):
    # given
    survivor, duplicate, _acme, _globex = _pair(rep, make_contact)
    # when the reviewer keeps the duplicate's surname and the survivor's empty title
    contact_merge(
        actor=rep,
        survivor=survivor,
        duplicate=duplicate,
        field_choices={"last_name": "duplicate", "title": "survivor", "birthday": "survivor"},
    )
    # then
    survivor.refresh_from_db()
    assert (survivor.last_name, survivor.title, survivor.birthday) == ("Lovelace-King", "", None)


def test_unknown_field_choices_are_refused_and_nothing_changes(rep, make_contact):
    # given
    survivor, duplicate, _acme, _globex = _pair(rep, make_contact)
    before = world(survivor.pk, duplicate.pk)
    # when
    with pytest.raises(ValidationFailed) as caught:
        contact_merge(
            actor=rep, survivor=survivor, duplicate=duplicate, field_choices={"owner": "duplicate", "title": "both"}
        )
    # then
    assert caught.value.field_errors == {
        "field_choices.owner": ["No such field to merge."],
        "field_choices.title": ["Use “survivor” or “duplicate”."],
    }
    assert world(survivor.pk, duplicate.pk) == before
    assert ContactMerge.objects.count() == 0


def test_merge_is_audited_on_the_survivor_with_before_and_after(rep, make_contact):
    # given
    survivor, duplicate, _acme, _globex = _pair(rep, make_contact)
    # when
    merge = contact_merge(actor=rep, survivor=survivor, duplicate=duplicate)
    # then
    event = audit_history(survivor)[0]
    assert event.action == "merge"
    assert event.actor_id == rep.pk
    assert event.changes["title"] == ["", "Countess"]
    assert event.changes["birthday"] == [None, "1815-12-10"]
    assert event.changes["emails"] == [
        ["ada@acme.test", "ada@home.test"],
        ["ada@acme.test", "ada@home.test", "countess@babbage.test"],
    ]
    assert event.changes["merged_contact"] == [None, f"Ada Lovelace-King (#{duplicate.pk})"]
    assert event.context["merge_id"] == merge.pk


def test_stale_versions_are_refused_and_nothing_changes(rep, make_contact, with_history):
    # given the duplicate was edited after the reviewer looked at it
    survivor, duplicate, _acme, _globex = _pair(rep, make_contact)
    with_history(rep, duplicate, "d")
    seen = duplicate.version
    contact_update(actor=rep, contact=Contact.objects.get(pk=duplicate.pk), data={"title": "X"}, expected_version=None)
    before = world(survivor.pk, duplicate.pk)
    # when / then: either version stale is refused
    with pytest.raises(Conflict) as caught:
        contact_merge(
            actor=rep, survivor=survivor, duplicate=duplicate, survivor_version=survivor.version,
            duplicate_version=seen,
        )
    assert caught.value.current_version == seen + 1
    with pytest.raises(Conflict):
        contact_merge(
            actor=rep, survivor=survivor, duplicate=duplicate, survivor_version=survivor.version - 1 or 99,
            duplicate_version=seen + 1,
        )
    assert world(survivor.pk, duplicate.pk) == before
    assert ContactMerge.objects.count() == 0


@pytest.mark.parametrize("role", [Role.ANALYST, Role.MARKETER, Role.SERVICE_AGENT])
def test_roles_without_the_merge_right_may_not_merge(rep, make_user, team_a, make_contact, role):
    # given
    survivor, duplicate, _acme, _globex = _pair(rep, make_contact)
    user = make_user(role, team_a)
    # when / then
    with pytest.raises(PermissionDenied):
        contact_merge(actor=user, survivor=survivor, duplicate=duplicate)
    assert Contact.objects.filter(pk=duplicate.pk).exists()


def test_a_rep_may_not_merge_a_contact_of_another_team(rep, other_rep, make_contact):
    # given
    mine = make_contact(rep, first_name="Ada")
    theirs = make_contact(other_rep, first_name="Ada")
    # when / then
    with pytest.raises(PermissionDenied):
        contact_merge(actor=rep, survivor=mine, duplicate=theirs)
    assert Contact.objects.filter(pk=theirs.pk).exists()


@pytest.mark.parametrize("role", [Role.SALES_MANAGER, Role.SERVICE_MANAGER, Role.SALES_REP])
def test_roles_with_the_merge_right_may_merge_their_teams_contacts(rep, make_user, team_a, make_contact, role):
    # given
    survivor, duplicate, _acme, _globex = _pair(rep, make_contact)
    user = make_user(role, team_a)
    # when
    merge = contact_merge(actor=user, survivor=survivor, duplicate=duplicate)
    # then
    assert merge.actor_id == user.pk


def test_a_contact_cannot_be_merged_with_itself(rep, make_contact):
    contact = make_contact(rep)
    with pytest.raises(ValidationFailed):
        contact_merge(actor=rep, survivor=contact, duplicate=contact)


# --- undo ---------------------------------------------------------------------------------------


def test_undo_restores_both_contacts_and_every_related_row_exactly(rep, make_contact, with_history):
    # given two contacts with histories, a report of the duplicate, and the survivor reporting to it
    survivor, duplicate, _acme, _globex = _pair(rep, make_contact)
    with_history(rep, survivor, "s")
    with_history(rep, duplicate, "d")
    make_contact(rep, first_name="Charles", reports_to_id=duplicate.pk)
    survivor = contact_update(
        actor=rep, contact=survivor, data={"reports_to_id": duplicate.pk, "custom": {}}, expected_version=None
    )
    version = survivor.version
    before = world(survivor.pk, duplicate.pk)
    merge = contact_merge(actor=rep, survivor=survivor, duplicate=duplicate)
    # when
    restored = contact_merge_undo(actor=rep, merge=merge)
    # then everything is as before, but the survivor's version moved on (twice)
    after = world(survivor.pk, duplicate.pk)
    assert unstamped(without(after, survivor.pk, "version")) == unstamped(without(before, survivor.pk, "version"))
    assert [c for c in after["contacts"] if c["id"] == duplicate.pk] == [
        c for c in before["contacts"] if c["id"] == duplicate.pk]  # the duplicate returns whole, stamp and all
    assert Contact.objects.get(pk=survivor.pk).version == version + 2
    assert restored.pk == duplicate.pk and restored.version == duplicate.version
    merge.refresh_from_db()
    assert merge.undo_report == {"kept": {}, "lost": [], "stayed": {}}
    assert audit_history(survivor)[0].action == "restore"


def test_a_merge_and_its_undo_stamp_the_rows_they_re_point(rep, make_contact):
    # given a note on the duplicate
    survivor, duplicate, _acme, _globex = _pair(rep, make_contact)
    note = note_add(actor=rep, body="Called", contact=duplicate)
    stamped = Note.objects.get(pk=note.pk).updated_at
    # when merged, then undone
    merge = contact_merge(actor=rep, survivor=survivor, duplicate=duplicate)
    moved = Note.objects.get(pk=note.pk)
    contact_merge_undo(actor=rep, merge=merge)
    back = Note.objects.get(pk=note.pk)
    # then each move changed the row's updated_at (the warehouse's refresh reads rows changed since)
    assert moved.contact_id == survivor.pk and moved.updated_at > stamped
    assert back.contact_id == duplicate.pk and back.updated_at > moved.updated_at


def test_undo_keeps_unrelated_later_edits_of_the_survivor(rep, make_contact):
    # given a merge, then an edit of a field the merge did not touch
    survivor, duplicate, _acme, _globex = _pair(rep, make_contact)
    merge = contact_merge(actor=rep, survivor=survivor, duplicate=duplicate)
    survivor = contact_update(
        actor=rep, contact=Contact.objects.get(pk=survivor.pk), data={"language": "fr"}, expected_version=None
    )
    # when
    contact_merge_undo(actor=rep, merge=merge)
    # then the later edit survives and the merged fields are back
    survivor.refresh_from_db()
    assert (survivor.language, survivor.title, survivor.birthday) == ("fr", "", None)
    assert list(survivor.emails.values_list("email", flat=True)) == ["ada@acme.test", "ada@home.test"]


def test_undo_keeps_a_later_edit_of_a_merged_field_and_says_so(rep, make_contact):
    # given a merge that set the title, then someone changed the title again
    survivor, duplicate, _acme, _globex = _pair(rep, make_contact)
    merge = contact_merge(actor=rep, survivor=survivor, duplicate=duplicate)
    contact_update(
        actor=rep, contact=Contact.objects.get(pk=survivor.pk), data={"title": "Programmer"}, expected_version=None
    )
    # when
    contact_merge_undo(actor=rep, merge=merge)
    # then the later title is kept and reported; the birthday the merge set is undone
    survivor.refresh_from_db()
    assert (survivor.title, survivor.birthday) == ("Programmer", None)
    merge.refresh_from_db()
    assert merge.undo_report["kept"] == {"title": {"before": "", "merged": "Countess", "current": "Programmer"}}
    assert Contact.objects.get(pk=duplicate.pk).title == "Countess"


def test_undo_twice_is_refused(rep, make_contact):
    # given
    survivor, duplicate, _acme, _globex = _pair(rep, make_contact)
    merge = contact_merge(actor=rep, survivor=survivor, duplicate=duplicate)
    contact_merge_undo(actor=rep, merge=merge)
    before = world(survivor.pk, duplicate.pk)
    # when / then
    with pytest.raises(MergeAlreadyUndone):
        contact_merge_undo(actor=rep, merge=merge)
    assert world(survivor.pk, duplicate.pk) == before


def test_rows_added_after_the_merge_stay_with_the_survivor_on_undo(rep, make_contact, with_history):
    # given a merge, then a new note on the survivor
    survivor, duplicate, _acme, _globex = _pair(rep, make_contact)
    moved = with_history(rep, duplicate, "d")
    merge = contact_merge(actor=rep, survivor=survivor, duplicate=duplicate)
    later = with_history(rep, Contact.objects.get(pk=survivor.pk), "later")
    # when
    contact_merge_undo(actor=rep, merge=merge)
    # then
    assert Note.objects.get(pk=later["note"].pk).contact_id == survivor.pk
    assert Note.objects.get(pk=moved["note"].pk).contact_id == duplicate.pk


def test_a_merge_of_a_merged_survivor_undoes_in_any_order(rep, make_contact, with_history):
    # given a into b, then b into c
    a = make_contact(rep, first_name="A")
    b = make_contact(rep, first_name="B")
    c = make_contact(rep, first_name="C")
    history = with_history(rep, a, "a")
    first = contact_merge(actor=rep, survivor=b, duplicate=a)
    second = contact_merge(actor=rep, survivor=c, duplicate=Contact.objects.get(pk=b.pk))
    assert Note.objects.get(pk=history["note"].pk).contact_id == c.pk
    # when the later merge is undone, then the earlier one
    contact_merge_undo(actor=rep, merge=second)
    assert Note.objects.get(pk=history["note"].pk).contact_id == b.pk
    first.refresh_from_db()
    contact_merge_undo(actor=rep, merge=first)
    # then
    assert sorted(Contact.objects.values_list("first_name", flat=True)) == ["A", "B", "C"]
    assert Note.objects.get(pk=history["note"].pk).contact_id == a.pk
