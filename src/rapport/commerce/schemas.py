"""Request and response bodies of the commerce API.

Amounts and quantities travel as decimal strings ("12.50") or integers, never as JSON floats:
a float cannot hold 0.1 exactly, so one is refused rather than rounded behind the caller's back.
Responses carry amounts as strings.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from ninja import Schema
from pydantic import Field, StrictInt

from rapport.core.schemas import Id, InSchema, Version

DecimalText = Annotated[str, Field(pattern=r"^\s*-?\d{1,15}(\.\d{1,10})?\s*$", max_length=30, examples=["12.50"])]
Number = StrictInt | DecimalText
Currency = Annotated[str, Field(min_length=3, max_length=3, examples=["EUR"])]
Country = Annotated[str, Field(max_length=2)]
Text100 = Annotated[str, Field(max_length=100)]
Text200 = Annotated[str, Field(max_length=200)]
Text300 = Annotated[str, Field(max_length=300)]
Slug = Annotated[str, Field(max_length=40, pattern=r"^[-a-zA-Z0-9_]*$")]
Kind = Annotated[str, Field(max_length=12)]


# --- catalogue -----------------------------------------------------------------------------


class ComponentIn(InSchema):
    product_id: Id
    quantity: Number


class ProductIn(InSchema):
    sku: Annotated[str, Field(min_length=1, max_length=64)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=10_000)] = ""
    kind: Kind = "goods"
    unit: Annotated[str, Field(max_length=20)] = "pcs"
    active: bool = True
    tax_category: Slug = ""
    components: list[ComponentIn] = Field(default_factory=list, max_length=100)


class ProductPatchIn(InSchema):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    description: Annotated[str, Field(max_length=10_000)] | None = None
    kind: Kind | None = None
    unit: Annotated[str, Field(max_length=20)] | None = None
    active: bool | None = None
    tax_category: Slug | None = None
    version: Version | None = None


class ComponentOut(Schema):
    product_id: int
    sku: str
    quantity: Decimal


class ProductOut(Schema):
    id: int
    sku: str
    name: str
    description: str
    kind: str
    unit: str
    active: bool
    tax_category: str
    components: list[ComponentOut]
    version: int


class ProductPage(Schema):
    items: list[ProductOut]
    next: str | None


class TaxRateIn(InSchema):
    category: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[-a-zA-Z0-9_]+$")]
    country: Country = ""
    rate: Number
    name: Text100 = ""


class TaxRateOut(Schema):
    id: int
    category: str
    country: str
    name: str
    rate: Decimal


class TaxRatePage(Schema):
    items: list[TaxRateOut]
    next: str | None


class PriceBookIn(InSchema):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    currency: Currency
    tier: Annotated[str, Field(max_length=10)] = ""
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    active: bool = True


class PriceBookPatchIn(InSchema):
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    tier: Annotated[str, Field(max_length=10)] | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    active: bool | None = None
    version: Version | None = None


class PriceEntryIn(InSchema):
    product_id: Id
    unit_price: Number
    min_quantity: Number = 1
    discount_kind: Annotated[str, Field(max_length=8)] = ""
    discount_value: Number = 0


class PriceEntryOut(Schema):
    id: int
    product_id: int
    min_quantity: Decimal
    unit_price: Decimal
    discount_kind: str
    discount_value: Decimal


class PriceBookOut(Schema):
    id: int
    name: str
    currency: str
    tier: str
    valid_from: dt.date | None
    valid_until: dt.date | None
    active: bool
    version: int


class PriceBookDetailOut(PriceBookOut):
    entries: list[PriceEntryOut]


class PriceBookPage(Schema):
    items: list[PriceBookOut]
    next: str | None


class PriceOut(Schema):
    product_id: int
    currency: str
    unit_price: Decimal
    discount_kind: str
    discount_value: Decimal
    price_book_id: int
    entry_id: int | None
    min_quantity: Decimal


class ExchangeRateIn(InSchema):
    currency: Currency
    date: dt.date
    rate: Number


class ExchangeRateOut(Schema):
    id: int
    currency: str
    date: dt.date
    rate: Decimal


class ExchangeRatePage(Schema):
    items: list[ExchangeRateOut]
    next: str | None


class ConversionOut(Schema):
    amount: Decimal
    currency: str
    converted: Decimal
    to_currency: str
    date: dt.date


# --- orders --------------------------------------------------------------------------------


class OrderLineIn(InSchema):
    product_id: Id
    quantity: Number
    unit_price: Number | None = Field(None, description="Omit to take the price book's price")
    discount_kind: Annotated[str, Field(max_length=8)] = ""
    discount_value: Number = 0
    description: Text300 = ""


class OrderIn(InSchema):
    account_id: Id
    contact_id: Id | None = None
    currency: Currency
    price_book_id: Id | None = None
    order_date: dt.date | None = None
    tax_country: Country = ""
    payment_terms_days: Annotated[int, Field(ge=0, le=3650)] = 30
    source_reference: Text100 = ""
    notes: Annotated[str, Field(max_length=10_000)] = ""
    lines: list[OrderLineIn] = Field(min_length=1, max_length=500)


class OrderPatchIn(InSchema):
    contact_id: Id | None = None
    notes: Annotated[str, Field(max_length=10_000)] | None = None
    payment_terms_days: Annotated[int, Field(ge=0, le=3650)] | None = None
    version: Version | None = None


class VersionIn(InSchema):
    version: Version | None = None


class OrderLineOut(Schema):
    id: int
    position: int
    product_id: int
    sku: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_kind: str
    discount_value: Decimal
    discount_amount: Decimal
    tax_rate: Decimal
    net: Decimal
    tax: Decimal
    total: Decimal
    shipped: Decimal
    invoiced: Decimal


class OrderListItem(Schema):
    id: int
    number: str
    account_id: int
    contact_id: int | None
    owner_id: int | None
    team_id: int | None
    currency: str
    order_date: dt.date
    status: str
    fulfilment_status: str
    total: Decimal
    invoiced_total: Decimal
    source_reference: str
    version: int


class OrderOut(OrderListItem):
    price_book_id: int | None
    tax_country: str
    payment_terms_days: int
    notes: str
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    lines: list[OrderLineOut]


class OrderPage(Schema):
    items: list[OrderListItem]
    next: str | None


class PickIn(InSchema):
    order_line_id: Id
    quantity: Number


class ShipmentIn(InSchema):
    lines: list[PickIn] = Field(min_length=1, max_length=500)
    carrier: Text100 = ""
    tracking_number: Text100 = ""
    shipped_at: dt.datetime | None = None


class PickOut(Schema):
    order_line_id: int
    quantity: Decimal


class ShipmentOut(Schema):
    id: int
    order_id: int
    carrier: str
    tracking_number: str
    shipped_at: dt.datetime
    lines: list[PickOut]


class ShipmentPage(Schema):
    items: list[ShipmentOut]
    next: str | None


class InvoiceIn(InSchema):
    lines: list[PickIn] | None = Field(None, max_length=500, description="Omit to invoice all that is left")
    issue_date: dt.date | None = None


class InvoiceLineOut(Schema):
    order_line_id: int
    quantity: Decimal
    net: Decimal
    tax: Decimal
    total: Decimal


class InvoiceListItem(Schema):
    id: int
    number: str
    order_id: int
    account_id: int
    currency: str
    issue_date: dt.date
    due_date: dt.date
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    amount_paid: Decimal
    outstanding: Decimal
    payment_status: str
    overdue: bool
    version: int


class InvoiceOut(InvoiceListItem):
    lines: list[InvoiceLineOut]


class InvoicePage(Schema):
    items: list[InvoiceListItem]
    next: str | None


class PaymentIn(InSchema):
    amount: Number
    currency: Currency
    paid_on: dt.date | None = None
    method: Annotated[str, Field(max_length=16)] = "bank_transfer"
    reference: Text100 = ""


class PaymentOut(Schema):
    id: int
    invoice_id: int
    amount: Decimal
    currency: str
    paid_on: dt.date
    method: str
    reference: str


class PaymentPage(Schema):
    items: list[PaymentOut]
    next: str | None


# --- subscriptions -------------------------------------------------------------------------


class SubscriptionIn(InSchema):
    account_id: Id
    product_id: Id
    order_id: Id | None = None
    amount: Number
    currency: Currency
    billing_period: Annotated[str, Field(max_length=10)] = "monthly"
    start_date: dt.date
    end_date: dt.date | None = None
    renewal_date: dt.date | None = None


class SubscriptionPatchIn(InSchema):
    amount: Number | None = None
    billing_period: Annotated[str, Field(max_length=10)] | None = None
    end_date: dt.date | None = None
    renewal_date: dt.date | None = None
    status: Annotated[str, Field(max_length=10)] | None = None
    cancelled_on: dt.date | None = None
    cancellation_reason: Annotated[str, Field(max_length=12)] | None = None
    cancellation_comment: Annotated[str, Field(max_length=5000)] | None = None
    version: Version | None = None


class SubscriptionOut(Schema):
    id: int
    account_id: int
    product_id: int
    order_id: int | None
    owner_id: int | None
    team_id: int | None
    amount: Decimal
    currency: str
    billing_period: str
    start_date: dt.date
    end_date: dt.date | None
    renewal_date: dt.date | None
    status: str
    cancelled_on: dt.date | None
    cancellation_reason: str
    cancellation_comment: str
    version: int


class SubscriptionPage(Schema):
    items: list[SubscriptionOut]
    next: str | None


class RecurringRevenueOut(Schema):
    account_id: int
    account_name: str
    currency: str
    mrr: Decimal
    arr: Decimal
    subscriptions: int


class RecurringRevenueList(Schema):
    date: dt.date
    currency: str
    items: list[RecurringRevenueOut]
