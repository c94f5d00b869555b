"""Merging contacts who were both sent one campaign keeps one member per contact (the duplicate's
row is dropped into the merge record), and undo brings it back; an account merge moves members."""

from __future__ import annotations

from rapport.marketing.models import Campaign, CampaignMember
from rapport.parties.merge import contact_merge, contact_merge_undo
from rapport.parties.merge_accounts import account_merge, account_merge_undo
from rapport.parties.services import account_create, contact_create


def test_a_contact_merge_keeps_one_member_per_campaign_and_undo_restores_it(rep):
    account = account_create(actor=rep, data={"name": "Acme Ltd", "currency": "EUR"})
    ann = contact_create(actor=rep, data={"first_name": "Ann", "last_name": "Lee", "account_id": account.pk})
    copy = contact_create(actor=rep, data={"first_name": "Anne", "last_name": "Lee", "account_id": account.pk})
    both = Campaign.objects.create(name="Both", owner=rep)
    only_copy = Campaign.objects.create(name="Copy only", owner=rep)
    kept = CampaignMember.objects.create(campaign=both, account=account, contact=ann)
    dropped = CampaignMember.objects.create(campaign=both, account=account, contact=copy)
    moved = CampaignMember.objects.create(campaign=only_copy, account=account, contact=copy)
    merge = contact_merge(actor=rep, survivor=ann, duplicate=copy)
    assert sorted(CampaignMember.objects.values_list("pk", "contact_id")) == sorted(
        [(kept.pk, ann.pk), (moved.pk, ann.pk)])
    contact_merge_undo(actor=rep, merge=merge)
    assert sorted(CampaignMember.objects.values_list("pk", "contact_id")) == sorted(
        [(kept.pk, ann.pk), (dropped.pk, copy.pk), (moved.pk, copy.pk)])


def test_an_account_merge_moves_its_members(rep):
    survivor = account_create(actor=rep, data={"name": "Acme Ltd", "currency": "EUR"})
    duplicate = account_create(actor=rep, data={"name": "ACME Limited", "currency": "EUR"})
    member = CampaignMember.objects.create(campaign=Campaign.objects.create(name="C", owner=rep), account=duplicate)
    merge = account_merge(actor=rep, survivor=survivor, duplicate=duplicate)
    assert CampaignMember.objects.get(pk=member.pk).account_id == survivor.pk
    account_merge_undo(actor=rep, merge=merge)
    assert CampaignMember.objects.get(pk=member.pk).account_id == duplicate.pk
