"""Campaigns and their members through the services, on a real database."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType

from rapport.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from rapport.core.models import AuditEvent
from rapport.marketing import selectors
from rapport.marketing.models import Campaign, CampaignMember
from rapport.marketing.services import (
    campaign_create,
    campaign_members_add,
    campaign_response_record,
    campaign_update,
)
from rapport.parties.services import account_create, contact_create

from .conftest import SENT

HOUR = dt.timedelta(hours=1)


def _audits(model, pk=None) -> int:
    qs = AuditEvent.objects.filter(content_type=ContentType.objects.get_for_model(model))
    return qs.filter(object_id=pk).count() if pk is not None else qs.count()


def _times(member: CampaignMember) -> tuple:
    member.refresh_from_db()
    return member.opened_at, member.clicked_at, member.responded_at, member.unsubscribed_at


# --- campaigns -----------------------------------------------------------------------------


def test_campaign_create_is_owned_by_the_actor_and_audited(marketer, team_a) -> None:
    campaign = campaign_create(
        actor=marketer, name="Launch", channel="sms", starts_on=dt.date(2026, 7, 1), ends_on=dt.date(2026, 7, 31)
    )
    stored = Campaign.objects.get(pk=campaign.pk)
    assert (stored.name, stored.channel, stored.status, stored.owner_id, stored.team_id, stored.version) == (
        "Launch", "sms", "planned", marketer.pk, team_a.pk, 1,
    )  # fmt: skip
    assert stored.created_by_id == marketer.pk
    assert _audits(Campaign, campaign.pk) == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"channel": "pigeon"}, "channel"),
        ({"status": "paused"}, "status"),
        ({"name": ""}, "name"),
        ({"starts_on": dt.date(2026, 7, 2), "ends_on": dt.date(2026, 7, 1)}, "ends_on"),
    ],
)
def test_campaign_create_refuses_bad_values_and_writes_nothing(marketer, kwargs, field) -> None:
    with pytest.raises(ValidationFailed) as caught:
        campaign_create(actor=marketer, **{"name": "X", **kwargs})
    assert field in caught.value.field_errors
    assert Campaign.objects.count() == 0 and _audits(Campaign) == 0


def test_campaign_create_needs_the_add_permission(rep) -> None:
    with pytest.raises(PermissionDenied):
        campaign_create(actor=rep, name="Not mine")
    assert Campaign.objects.count() == 0


def test_campaign_update_changes_fields_and_bumps_the_version(marketer, campaign) -> None:
    campaign_update(actor=marketer, campaign=campaign, data={"status": "running", "name": "Summer"}, expected_version=1)
    stored = Campaign.objects.get(pk=campaign.pk)
    assert (stored.status, stored.name, stored.version) == ("running", "Summer", 2)
    event = AuditEvent.objects.get(object_id=campaign.pk, action="update")
    assert event.changes == {"name": ["Summer sale", "Summer"], "status": ["planned", "running"]}


def test_campaign_update_with_a_stale_version_is_a_conflict_and_changes_nothing(marketer, campaign) -> None:
    campaign_update(actor=marketer, campaign=campaign, data={"name": "First"}, expected_version=1)
    stale = Campaign.objects.get(pk=campaign.pk)
    stale.version = 1  # what a second writer read before the first change
    with pytest.raises(Conflict) as caught:
        campaign_update(actor=marketer, campaign=stale, data={"name": "Second"}, expected_version=1)
    assert caught.value.current_version == 2
    stored = Campaign.objects.get(pk=campaign.pk)
    assert (stored.name, stored.version) == ("First", 2)


def test_campaign_update_refuses_an_end_before_the_start(marketer, campaign) -> None:
    with pytest.raises(ValidationFailed) as caught:
        campaign_update(actor=marketer, campaign=campaign, data={"ends_on": dt.date(2026, 5, 1)}, expected_version=1)
    assert list(caught.value.field_errors) == ["ends_on"]
    assert Campaign.objects.get(pk=campaign.pk).ends_on is None


def test_campaign_update_by_a_reader_is_refused(rep, campaign) -> None:
    with pytest.raises(PermissionDenied):
        campaign_update(actor=rep, campaign=campaign, data={"name": "Mine now"}, expected_version=1)
    assert Campaign.objects.get(pk=campaign.pk).name == "Summer sale"


# --- members -------------------------------------------------------------------------------


def test_members_add_adds_each_recipient_once_and_skips_existing_ones(marketer, campaign, accounts, contact) -> None:
    added = campaign_members_add(
        actor=marketer,
        campaign=campaign,
        recipients=[(accounts[0], contact), (accounts[1], None), (accounts[1], None)],
        sent_at=SENT,
    )
    assert added == 2
    again = campaign_members_add(
        actor=marketer,
        campaign=campaign,
        recipients=[(accounts[0], contact), (accounts[1], None), (accounts[0], None), (accounts[2], None)],
        sent_at=SENT + HOUR,
    )
    assert again == 2  # the account-only member of account 0 and account 2; the others were members
    rows = list(CampaignMember.objects.filter(campaign=campaign).values_list("account_id", "contact_id", "sent_at"))
    assert len(rows) == 4 and set(rows) == {
        (accounts[0].pk, contact.pk, SENT),
        (accounts[1].pk, None, SENT),
        (accounts[0].pk, None, SENT + HOUR),
        (accounts[2].pk, None, SENT + HOUR),
    }  # fmt: skip
    assert _audits(CampaignMember) == 4


def test_members_add_in_batches(marketer, campaign, rep, monkeypatch) -> None:
    from rapport.marketing import services

    monkeypatch.setattr(services, "BATCH_SIZE", 2)
    many = [account_create(actor=rep, data={"name": f"Batch {i}"}) for i in range(5)]
    assert campaign_members_add(actor=marketer, campaign=campaign, recipients=[(a, None) for a in many]) == 5
    assert CampaignMember.objects.filter(campaign=campaign).count() == 5
    assert _audits(CampaignMember) == 5


def test_members_add_refuses_a_contact_of_another_account_and_writes_nothing(
    marketer, campaign, accounts, contact
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        campaign_members_add(
            actor=marketer, campaign=campaign, recipients=[(accounts[2], None), (accounts[1], contact)]
        )
    assert caught.value.field_errors == {"recipients.1.contact_id": ["This contact does not belong to the account."]}
    assert CampaignMember.objects.count() == 0


def test_members_add_accepts_a_contact_at_a_secondary_membership(marketer, campaign, rep, accounts) -> None:
    from rapport.parties.models import AccountMembership

    person = contact_create(actor=rep, data={"first_name": "Sam", "last_name": "Second", "account_id": accounts[0].pk})
    AccountMembership.objects.create(contact=person, account=accounts[1], role="advisor")
    assert campaign_members_add(actor=marketer, campaign=campaign, recipients=[(accounts[1], person)]) == 1


def test_members_add_refuses_an_account_the_actor_cannot_read(marketer, campaign, other_rep) -> None:
    hidden = account_create(actor=other_rep, data={"name": "Team B customer"})
    with pytest.raises(ValidationFailed) as caught:
        campaign_members_add(actor=marketer, campaign=campaign, recipients=[(hidden, None)])
    assert caught.value.field_errors == {"recipients.0.account_id": ["No such account."]}
    assert CampaignMember.objects.count() == 0


def test_members_add_needs_the_right_to_change_the_campaign(rep, other_marketer, campaign, accounts) -> None:
    with pytest.raises(PermissionDenied):
        campaign_members_add(actor=rep, campaign=campaign, recipients=[(accounts[0], None)])
    with pytest.raises(NotFound):
        campaign_members_add(actor=other_marketer, campaign=campaign, recipients=[(accounts[0], None)])
    assert CampaignMember.objects.count() == 0


# --- responses -----------------------------------------------------------------------------


def test_a_response_fills_in_the_open_and_the_click(marketer, members) -> None:
    member = members[0]
    at = SENT + 2 * HOUR
    recorded = campaign_response_record(actor=marketer, member=member, event="responded", at=at)
    assert recorded.version == 2
    assert _times(member) == (at, at, at, None)


def test_a_click_implies_an_open_but_keeps_an_earlier_one(marketer, members) -> None:
    member = members[0]
    campaign_response_record(actor=marketer, member=member, event="opened", at=SENT + HOUR)
    campaign_response_record(actor=marketer, member=member, event="clicked", at=SENT + 3 * HOUR)
    assert _times(member) == (SENT + HOUR, SENT + 3 * HOUR, None, None)


def test_an_unsubscribe_implies_nothing(marketer, members) -> None:
    member = members[1]
    campaign_response_record(actor=marketer, member=member, event="unsubscribed", at=SENT + HOUR)
    assert _times(member) == (None, None, None, SENT + HOUR)


def test_recording_an_event_twice_keeps_the_first_time(marketer, members) -> None:
    member = members[0]
    campaign_response_record(actor=marketer, member=member, event="clicked", at=SENT + HOUR)
    audits = _audits(CampaignMember, member.pk)
    again = campaign_response_record(actor=marketer, member=member, event="clicked", at=SENT + 5 * HOUR)
    assert again.version == 2  # nothing written the second time
    assert _times(member) == (SENT + HOUR, SENT + HOUR, None, None)
    assert _audits(CampaignMember, member.pk) == audits


def test_a_response_before_the_send_is_refused(marketer, members) -> None:
    member = members[0]
    with pytest.raises(ValidationFailed) as caught:
        campaign_response_record(actor=marketer, member=member, event="opened", at=SENT - HOUR)
    assert list(caught.value.field_errors) == ["at"]
    assert _times(member) == (None, None, None, None)
    assert CampaignMember.objects.get(pk=member.pk).version == 1


def test_an_unknown_event_is_refused(marketer, members) -> None:
    with pytest.raises(ValidationFailed) as caught:
        campaign_response_record(actor=marketer, member=members[0], event="forwarded", at=SENT + HOUR)
    assert list(caught.value.field_errors) == ["event"]
    assert _times(members[0]) == (None, None, None, None)


def test_a_naive_time_is_taken_as_utc(marketer, members) -> None:
    campaign_response_record(actor=marketer, member=members[0], event="opened", at=dt.datetime(2026, 6, 1, 10, 30))  # noqa: DTZ001
    assert _times(members[0])[0] == dt.datetime(2026, 6, 1, 10, 30, tzinfo=dt.UTC)


def test_recording_responses_needs_the_right_to_change_the_campaign(rep, other_marketer, members) -> None:
    with pytest.raises(PermissionDenied):
        campaign_response_record(actor=rep, member=members[0], event="opened", at=SENT + HOUR)
    with pytest.raises(NotFound):
        campaign_response_record(actor=other_marketer, member=members[0], event="opened", at=SENT + HOUR)
    assert _times(members[0]) == (None, None, None, None)


# --- reads ---------------------------------------------------------------------------------


def test_stats_count_each_funnel_step(marketer, rep, campaign, members) -> None:
    campaign_response_record(actor=marketer, member=members[0], event="responded", at=SENT + HOUR)
    campaign_response_record(actor=marketer, member=members[1], event="opened", at=SENT + HOUR)
    campaign_response_record(actor=marketer, member=members[2], event="unsubscribed", at=SENT + HOUR)
    stats = selectors.campaign_stats(actor=rep, campaign=campaign)
    assert (stats.members, stats.sent, stats.opened, stats.clicked, stats.responded, stats.unsubscribed) == (
        3, 3, 2, 1, 1, 1,
    )  # fmt: skip
    assert (stats.open_rate, stats.click_rate, stats.response_rate, stats.unsubscribe_rate) == (
        0.6667, 0.3333, 0.3333, 0.3333,
    )  # fmt: skip
    assert stats.click_to_open_rate == 0.5


def test_stats_of_an_empty_campaign_are_zero(marketer, campaign) -> None:
    stats = selectors.campaign_stats(actor=marketer, campaign=campaign)
    assert (stats.members, stats.sent, stats.opened, stats.open_rate, stats.click_to_open_rate) == (0, 0, 0, 0.0, 0.0)


def test_stats_are_one_query(marketer, campaign, members, django_assert_num_queries) -> None:
    selectors.campaign_stats(actor=marketer, campaign=campaign)  # warms the visibility cache and the perms
    with django_assert_num_queries(1):
        selectors.campaign_stats(actor=marketer, campaign=campaign)


def test_members_follow_their_campaign(marketer, other_marketer, rep, other_rep, campaign, members) -> None:
    ids = sorted(m.pk for m in members)
    assert sorted(selectors.campaign_member_list(actor=rep, campaign=campaign).values_list("pk", flat=True)) == ids
    assert list(selectors.campaign_member_list(actor=other_rep, campaign=campaign)) == []
    assert selectors.campaign_member_get(actor=rep, member_id=ids[0]).pk == ids[0]
    with pytest.raises(NotFound):
        selectors.campaign_member_get(actor=other_marketer, member_id=ids[0])
    with pytest.raises(NotFound):
        selectors.campaign_get(actor=other_rep, campaign_id=campaign.pk)


def test_campaign_list_filters_by_status_and_refuses_an_unknown_one(marketer, campaign) -> None:
    running = campaign_create(actor=marketer, name="Running", status="running")
    assert list(selectors.campaign_list(actor=marketer, status="running")) == [running]
    assert sorted(c.pk for c in selectors.campaign_list(actor=marketer)) == sorted([campaign.pk, running.pk])
    with pytest.raises(ValidationFailed):
        selectors.campaign_list(actor=marketer, status="paused")
