"""Opening and working cases through the services: the resolved/satisfaction invariants, the
contact-belongs-to-account rule, access, and optimistic concurrency. Refusals change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from rapport.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from rapport.core.models import AuditEvent
from rapport.parties.services import contact_update
from rapport.service.models import Case
from rapport.service.services import case_open, case_update


def _events(case: Case) -> list[AuditEvent]:
    ct = ContentType.objects.get_for_model(Case)
    return list(AuditEvent.objects.filter(content_type=ct, object_id=case.pk).order_by("id"))


def _work(actor, case: Case, **data) -> Case:
    return case_update(actor=actor, case=case, data=data, expected_version=case.version)


def _stored(case: Case) -> dict:
    return (
        Case.objects.filter(pk=case.pk)
        .values("status", "resolved_at", "satisfaction", "resolution", "subject", "version")
        .get()
    )


# --- opening -------------------------------------------------------------------------------


def test_open_sets_defaults_owner_team_and_audits(rep, team_a, account, contact) -> None:
    before = timezone.now()
    case = case_open(actor=rep, account=account, contact=contact, subject="  Printer jams  ", kind="problem")
    stored = Case.objects.get(pk=case.pk)
    assert (stored.subject, stored.kind, stored.channel, stored.priority, stored.status) == (
        "Printer jams", "problem", "email", "normal", "new",
    )  # fmt: skip
    assert (stored.owner_id, stored.team_id, stored.created_by_id, stored.contact_id) == (
        rep.pk, team_a.pk, rep.pk, contact.pk,
    )  # fmt: skip
    assert (stored.version, stored.resolved_at, stored.satisfaction) == (1, None, None)
    assert before <= stored.opened_at <= timezone.now()
    [event] = _events(case)
    assert (event.action, event.actor_id) == ("create", rep.pk)
    assert event.changes["subject"] == [None, "Printer jams"] and event.changes["account_id"] == [None, account.pk]


def test_open_for_another_owner_takes_that_owners_team(rep, other_rep, team_b, account) -> None:
    case = case_open(actor=rep, account=account, subject="Hand over", owner=other_rep)
    assert (case.owner_id, case.team_id, case.created_by_id) == (other_rep.pk, team_b.pk, rep.pk)


def test_open_keeps_a_past_opened_at(rep, account) -> None:
    when = timezone.now() - dt.timedelta(days=3)
    case = case_open(actor=rep, account=account, subject="Old mail", channel="letter", opened_at=when)
    assert Case.objects.get(pk=case.pk).opened_at == when


def test_contact_must_belong_to_the_account(rep, account, stranger) -> None:
    with pytest.raises(ValidationFailed) as caught:
        case_open(actor=rep, account=account, contact=stranger, subject="Who is this?")
    assert caught.value.field_errors == {"contact_id": ["Not a contact of this account."]}
    assert Case.objects.count() == 0


def test_a_former_member_still_belongs_through_the_membership(rep, account, contact) -> None:
    """The check is the membership, not the contact's current primary account."""
    from rapport.parties.services import account_create

    new_home = account_create(actor=rep, data={"name": "New Employer"})
    contact = contact_update(actor=rep, contact=contact, data={"account_id": new_home.pk}, expected_version=None)
    assert contact.account_id == new_home.pk
    case = case_open(actor=rep, account=account, contact=contact, subject="Still their customer")
    assert case.contact_id == contact.pk


def test_open_refuses_a_future_opened_at(rep, account) -> None:
    with pytest.raises(ValidationFailed) as caught:
        case_open(actor=rep, account=account, subject="Time travel", opened_at=timezone.now() + dt.timedelta(hours=1))
    assert list(caught.value.field_errors) == ["opened_at"]
    assert Case.objects.count() == 0


def test_open_refuses_an_opened_at_before_1900(rep, account) -> None:
    with pytest.raises(ValidationFailed) as caught:
        case_open(actor=rep, account=account, subject="Typo", opened_at=dt.datetime(1025, 3, 1, tzinfo=dt.UTC))
    assert caught.value.field_errors == {"opened_at": ["Before 1900."]}
    assert Case.objects.count() == 0


def test_a_naive_opened_at_is_read_in_the_current_time_zone(rep, account, settings) -> None:
    settings.TIME_ZONE = "Europe/Amsterdam"
    case = case_open(actor=rep, account=account, subject="Naive", opened_at=dt.datetime(2026, 6, 1, 12, 0))  # noqa: DTZ001
    assert Case.objects.get(pk=case.pk).opened_at == dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(("field", "value"), [("kind", "rant"), ("channel", "fax"), ("priority", "meh")])
def test_open_refuses_unknown_choices(rep, account, field, value) -> None:
    with pytest.raises(ValidationFailed) as caught:
        case_open(actor=rep, account=account, subject="Bad choice", **{field: value})
    assert list(caught.value.field_errors) == [field]
    assert Case.objects.count() == 0


def test_open_refuses_a_blank_subject(rep, account) -> None:
    with pytest.raises(ValidationFailed) as caught:
        case_open(actor=rep, account=account, subject="   ")
    assert list(caught.value.field_errors) == ["subject"]


def test_open_needs_the_add_permission(marketer, account) -> None:
    with pytest.raises(PermissionDenied):
        case_open(actor=marketer, account=account, subject="Not mine to open")
    assert Case.objects.count() == 0


def test_open_needs_read_access_to_the_account(other_rep, account) -> None:
    with pytest.raises(NotFound):
        case_open(actor=other_rep, account=account, subject="Not my customer")
    assert Case.objects.count() == 0


def test_an_agent_of_the_team_opens_cases_for_its_accounts(agent, team_a, account, contact) -> None:
    case = case_open(actor=agent, account=account, contact=contact, subject="Called in", channel="phone")
    assert (case.owner_id, case.team_id, case.channel) == (agent.pk, team_a.pk, "phone")


# --- resolved_at ---------------------------------------------------------------------------


def test_resolving_stamps_resolved_at_closing_keeps_it_reopening_clears_it(rep, case) -> None:
    before = timezone.now()
    _work(rep, case, status="open")
    assert _stored(case)["resolved_at"] is None
    _work(rep, case, status="resolved", resolution="Replaced the roller")
    resolved_at = _stored(case)["resolved_at"]
    assert resolved_at is not None and before <= resolved_at <= timezone.now()
    assert case.resolved_at == resolved_at

    _work(rep, case, status="closed", satisfaction=4)
    assert (_stored(case)["resolved_at"], _stored(case)["satisfaction"]) == (resolved_at, 4)

    _work(rep, case, status="open")
    stored = _stored(case)
    assert (stored["status"], stored["resolved_at"], stored["satisfaction"]) == ("open", None, None)
    assert stored["version"] == 5
    assert stored["resolution"] == "Replaced the roller"


def test_closing_straight_from_new_stamps_resolved_at(rep, case) -> None:
    _work(rep, case, status="closed")
    assert _stored(case)["resolved_at"] is not None


def test_changes_that_keep_the_status_leave_resolved_at_alone(rep, case) -> None:
    _work(rep, case, status="resolved")
    resolved_at = _stored(case)["resolved_at"]
    _work(rep, case, priority="high", subject="Printer jams (model X)")
    assert _stored(case)["resolved_at"] == resolved_at


def test_the_update_is_audited_with_the_derived_fields(rep, case) -> None:
    _work(rep, case, status="resolved")
    event = _events(case)[-1]
    assert event.action == "update"
    assert event.changes["status"] == ["new", "resolved"]
    assert event.changes["resolved_at"][0] is None and event.changes["resolved_at"][1] is not None


def test_resolved_at_cannot_be_set_by_hand(rep, case) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _work(rep, case, resolved_at=timezone.now())
    assert caught.value.field_errors == {"resolved_at": ["Cannot be changed."]}
    assert _stored(case)["version"] == 1


# --- satisfaction --------------------------------------------------------------------------


def test_satisfaction_is_refused_on_a_case_that_is_not_done(rep, case) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _work(rep, case, satisfaction=5)
    assert caught.value.field_errors == {"satisfaction": ["Only for a resolved or closed case."]}
    assert (_stored(case)["satisfaction"], _stored(case)["version"]) == (None, 1)


def test_satisfaction_with_the_resolution_is_accepted(rep, case) -> None:
    _work(rep, case, status="resolved", satisfaction=2)
    assert (_stored(case)["status"], _stored(case)["satisfaction"]) == ("resolved", 2)


def test_satisfaction_is_refused_when_the_same_change_reopens(rep, case) -> None:
    _work(rep, case, status="resolved", satisfaction=3)
    with pytest.raises(ValidationFailed) as caught:
        _work(rep, case, status="open", satisfaction=4)
    assert list(caught.value.field_errors) == ["satisfaction"]
    stored = _stored(case)
    assert (stored["status"], stored["satisfaction"], stored["version"]) == ("resolved", 3, 2)


@pytest.mark.parametrize("value", [0, 6, -1, True])
def test_satisfaction_must_be_one_to_five(rep, case, value) -> None:
    _work(rep, case, status="resolved")
    with pytest.raises(ValidationFailed) as caught:
        _work(rep, case, satisfaction=value)
    assert caught.value.field_errors == {"satisfaction": ["Between 1 and 5."]}
    assert (_stored(case)["satisfaction"], _stored(case)["version"]) == (None, 2)


# --- the rest of an update -----------------------------------------------------------------


def test_a_stale_version_is_a_conflict_and_changes_nothing(rep, teammate, case) -> None:
    stale = Case.objects.get(pk=case.pk)
    _work(teammate, case, priority="urgent")
    with pytest.raises(Conflict) as caught:
        case_update(actor=rep, case=stale, data={"status": "resolved"}, expected_version=1)
    assert caught.value.current_version == 2
    stored = _stored(case)
    assert (stored["status"], stored["resolved_at"], stored["version"]) == ("new", None, 2)


def test_a_new_owner_brings_their_team(rep, other_rep, team_b, case) -> None:
    _work(rep, case, owner_id=other_rep.pk)
    stored = Case.objects.get(pk=case.pk)
    assert (stored.owner_id, stored.team_id) == (other_rep.pk, team_b.pk)


@pytest.mark.parametrize("owner_id", [None, 999_999])
def test_the_owner_must_be_an_active_user(rep, case, owner_id) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _work(rep, case, owner_id=owner_id)
    assert list(caught.value.field_errors) == ["owner_id"]
    assert Case.objects.get(pk=case.pk).owner_id == rep.pk


def test_an_unknown_status_is_refused(rep, case) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _work(rep, case, status="solved")
    assert list(caught.value.field_errors) == ["status"]
    assert _stored(case)["status"] == "new"


def test_an_analyst_may_not_change_a_case(analyst, case) -> None:
    with pytest.raises(PermissionDenied):
        _work(analyst, case, priority="low")
    assert _stored(case)["version"] == 1


def test_another_team_may_not_change_a_case(other_rep, case) -> None:
    with pytest.raises(PermissionDenied):
        _work(other_rep, case, priority="low")
    assert _stored(case)["version"] == 1


def test_a_teams_agent_works_the_reps_case(agent, case) -> None:
    _work(agent, case, status="resolved", satisfaction=5)
    assert (_stored(case)["status"], _stored(case)["satisfaction"]) == ("resolved", 5)
