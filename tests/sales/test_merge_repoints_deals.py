"""Merging parties moves the sales rows that refer to them (generically), and undo moves them back."""

from __future__ import annotations

from rapport.parties.merge import contact_merge, contact_merge_undo
from rapport.parties.merge_accounts import account_merge, account_merge_undo
from rapport.parties.services import account_create, contact_create
from rapport.sales.models import Opportunity
from rapport.sales.services import opportunity_create


def test_an_account_merge_moves_its_opportunities_and_undo_returns_them(rep):
    survivor = account_create(actor=rep, data={"name": "Acme Ltd", "currency": "EUR"})
    duplicate = account_create(actor=rep, data={"name": "ACME Limited", "currency": "EUR"})
    kept = opportunity_create(actor=rep, account=survivor, name="Kept")
    moved = opportunity_create(actor=rep, account=duplicate, name="Moved")
    merge = account_merge(actor=rep, survivor=survivor, duplicate=duplicate)
    assert set(Opportunity.objects.filter(account=survivor).values_list("pk", flat=True)) == {kept.pk, moved.pk}
    account_merge_undo(actor=rep, merge=merge)
    assert Opportunity.objects.get(pk=moved.pk).account_id == duplicate.pk
    assert Opportunity.objects.get(pk=kept.pk).account_id == survivor.pk


def test_a_contact_merge_moves_the_deal_contact(rep):
    account = account_create(actor=rep, data={"name": "Acme Ltd", "currency": "EUR"})
    ann = contact_create(actor=rep, data={"first_name": "Ann", "last_name": "Lee", "account_id": account.pk})
    copy = contact_create(actor=rep, data={"first_name": "Anne", "last_name": "Lee", "account_id": account.pk})
    deal = opportunity_create(actor=rep, account=account, contact=copy, name="Deal")
    merge = contact_merge(actor=rep, survivor=ann, duplicate=copy)
    assert Opportunity.objects.get(pk=deal.pk).contact_id == ann.pk
    contact_merge_undo(actor=rep, merge=merge)
    assert Opportunity.objects.get(pk=deal.pk).contact_id == copy.pk
