"""Payment problems and contracts as churn features: invoices, payments and subscriptions reach the
warehouse (full build and incremental refresh), and the features are what stood at the cut-off —
nothing paid or ended after it is seen, so a past cut-off makes an honest training row."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from rapport.commerce import services_catalogue as catalogue
from rapport.commerce.services import invoice_create, payment_record, subscription_create
from rapport.insights.alerts import DRIVER_LABELS, suggested_action
from rapport.insights.scoring import CHURN_FEATURES
from rapport.insights.scoring_features import churn_features
from rapport.insights.warehouse import warehouse_build, warehouse_connect

pytestmark = pytest.mark.django_db(transaction=True)
D = dt.date


@pytest.fixture
def billed(sales, admin_user):
    """Acme: order 1 (180 EUR) invoiced on 2025-03-10, due 30 days later, paid 100 on 2025-05-01 and
    the rest on 2025-06-15; a subscription from 2025-01-01 to 2025-12-31 renewing on 2025-09-30."""
    o1 = sales["orders"][0]
    plan = catalogue.product_create(
        actor=admin_user, sku="SUB-1", name="Support plan", kind="subscription", tax_category="standard"
    )
    invoice = invoice_create(actor=admin_user, order=o1, issue_date=D(2025, 3, 10))
    assert invoice.due_date == D(2025, 4, 9) and invoice.total == 180
    payment_record(actor=admin_user, invoice=invoice, amount="100", currency="EUR", paid_on=D(2025, 5, 1))
    subscription_create(
        actor=admin_user,
        account=sales["acme"],
        product=plan,
        amount="20",
        currency="EUR",
        start_date=D(2025, 1, 1),
        end_date=D(2025, 12, 31),
        renewal_date=D(2025, 9, 30),
    )
    return {**sales, "invoice": invoice}


def _acme(end: dt.date, sales) -> dict:
    con = warehouse_connect()
    try:
        frame = churn_features(con, end=end, horizon_days=90)
    finally:
        con.close()
    return frame.loc[sales["acme"].pk].to_dict()


def test_overdue_invoices_and_contract_end_as_of_the_cut_off(billed, wh_path, admin_user):
    warehouse_build()
    before_due = _acme(D(2025, 4, 1), billed)
    assert (before_due["overdue_invoices"], before_due["days_overdue"]) == (0, 0)
    overdue = _acme(D(2025, 4, 30), billed)  # nothing paid yet, 21 days past due
    assert (overdue["overdue_invoices"], overdue["days_overdue"]) == (1, 21)
    part_paid = _acme(D(2025, 5, 15), billed)  # 100 of 180 paid: still open
    assert (part_paid["overdue_invoices"], part_paid["days_overdue"]) == (1, 36)
    assert part_paid["active_subscriptions"] == 1
    assert part_paid["days_to_contract_end"] == (D(2025, 9, 30) - D(2025, 5, 15)).days  # the renewal comes first

    # The rest is paid later: the refresh picks the payment up, and only cut-offs after it see it.
    payment_record(actor=admin_user, invoice=billed["invoice"], amount="80", currency="EUR", paid_on=D(2025, 6, 15))
    assert warehouse_build(incremental=True).extracted["stg_payment"] == 1
    assert _acme(D(2025, 5, 15), billed)["overdue_invoices"] == 1
    settled = _acme(D(2025, 6, 20), billed)
    assert (settled["overdue_invoices"], settled["days_overdue"]) == (0, 0)
    ended = _acme(D(2026, 1, 5), billed)  # after the subscription's end
    assert ended["active_subscriptions"] == 0 and math.isnan(ended["days_to_contract_end"])


def test_the_new_features_are_model_inputs_with_labels_and_actions():
    for name in ("overdue_invoices", "days_overdue", "active_subscriptions", "days_to_contract_end"):
        assert name in CHURN_FEATURES
        assert name in DRIVER_LABELS  # a written label for the alert, not the column name
    assert suggested_action(["+days_overdue"]) == "service"
    assert suggested_action(["+days_to_contract_end"]) == "call"
