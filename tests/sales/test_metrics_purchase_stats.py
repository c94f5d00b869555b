"""The customer figures read the per-account purchase summary and the scope's short cut of the
row rule: both must give the answers of the definitions, including after a merge and for a
team the actor may not read whole."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from rapport.commerce import services_catalogue as catalogue
from rapport.commerce.models import Order
from rapport.commerce.services import LineSpec, order_create_from_lines
from rapport.core.choices import Visibility
from rapport.core.models import ObjectVisibility
from rapport.core.permissions import readable, visibility_cache_clear
from rapport.parties.merge_accounts import account_merge, account_merge_undo
from rapport.parties.services import account_create
from rapport.sales.metrics_customers import new_customers, new_customers_series, prospective_customers
from rapport.sales.metrics_deals import TOTAL
from rapport.sales.metrics_scope import Scope, owned, period_resolve
from rapport.sales.models import Opportunity
from rapport.sales.services import opportunity_create

pytestmark = pytest.mark.django_db
ALL = Scope()


@pytest.fixture
def widget(admin_user):
    return catalogue.product_create(actor=admin_user, sku="W-1", name="Widget", tax_category="")


def _order(actor, account, widget, day: dt.date) -> Order:
    return order_create_from_lines(actor=actor, account=account, currency="EUR", order_date=day,
                                   lines=[LineSpec(product=widget, quantity=1, unit_price="5")])


def test_a_merge_makes_a_new_customer_old_and_its_undo_new_again(rep, widget, stages) -> None:
    month = period_resolve("month", day=timezone.localdate())
    fresh = account_create(actor=rep, data={"name": "Buyer"})
    old = account_create(actor=rep, data={"name": "Buyer (old record)"})
    _order(rep, fresh, widget, month.start)
    _order(rep, old, widget, month.start - dt.timedelta(days=400))  # bought long ago under the other record
    assert new_customers(actor=rep, scope=ALL, period=month) == {TOTAL: 1}
    merge = account_merge(actor=rep, survivor=fresh, duplicate=old)
    assert new_customers(actor=rep, scope=ALL, period=month) == {TOTAL: 0}
    assert new_customers_series(actor=rep, scope=ALL, periods=month.back(2)) == [0, 0]
    account_merge_undo(actor=rep, merge=merge)
    assert new_customers(actor=rep, scope=ALL, period=month) == {TOTAL: 1}
    assert new_customers_series(actor=rep, scope=ALL, periods=month.back(2)) == [0, 1]


def test_a_prospect_that_orders_is_no_longer_one(rep, widget, stages) -> None:
    account = account_create(actor=rep, data={"name": "Prospect"})
    opportunity_create(actor=rep, account=account, name="Deal", amount="10", stage=stages["meeting"])
    assert prospective_customers(actor=rep, scope=ALL) == {TOTAL: 1}
    _order(rep, account, widget, timezone.localdate())
    assert prospective_customers(actor=rep, scope=ALL) == {TOTAL: 0}


def _ids(qs) -> set[int]:
    return set(qs.values_list("pk", flat=True))


def test_the_team_scope_short_cut_selects_exactly_what_the_row_rule_does(
    rep, teammate, other_rep, manager, team_a, team_b, stages
) -> None:
    for owner in (rep, teammate, other_rep, manager):
        account = account_create(actor=owner, data={"name": f"Acct {owner.username}"})
        opportunity_create(actor=owner, account=account, name=f"Deal {owner.username}", amount="1",
                           stage=stages["meeting"])
    deals = Opportunity.objects.all()
    cases = [(manager, Scope(team_id=team_a.pk)), (rep, Scope(team_id=team_a.pk)), (rep, Scope(owner_id=rep.pk)),
             (teammate, Scope(owner_id=rep.pk)), (other_rep, Scope(team_id=team_a.pk))]
    for actor, scope in cases:
        expected = _ids(scope.narrow(readable(actor, deals)))
        assert _ids(owned(actor, deals, scope)) == expected, (actor.username, scope)
    assert _ids(owned(other_rep, deals, Scope(team_id=team_a.pk))) == set()  # not their team: nothing
    # A private type: a member no longer reads the team's rows, so the short cut must not apply.
    ObjectVisibility.objects.create(content_type=ContentType.objects.get_for_model(Opportunity),
                                    visibility=Visibility.PRIVATE)
    visibility_cache_clear()
    try:
        mine = _ids(owned(rep, deals, Scope(team_id=team_a.pk)))
        assert mine == _ids(Opportunity.objects.filter(owner=rep))
        assert len(_ids(owned(manager, deals, Scope(team_id=team_a.pk)))) == 3  # a manager still reads the team
    finally:
        visibility_cache_clear()
