"""The demo's catalogue and order history: a few products and price books, then orders with
shipments, invoices and payments for a sample of the demo accounts, and some subscriptions.

Small by design (hundreds of orders, not millions), so it goes through the commerce services:
every total, tax, invoice number and status is what the product itself computes, and the rows
carry audit events like any other. Orders belong to their account's owner; payments are
recorded by the demo sales manager. Seeded: the same seed and day give the same rows.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.conf import settings
from django.db import connection

from rapport.commerce import services, services_catalogue
from rapport.commerce.models import (
    AccountPurchaseStats,
    BundleComponent,
    ExchangeRate,
    Invoice,
    InvoiceLine,
    NumberSequence,
    Order,
    OrderLine,
    Payment,
    PriceBook,
    PriceBookEntry,
    Product,
    Shipment,
    ShipmentLine,
    Subscription,
    TaxRate,
)
from rapport.core.models import User
from rapport.parties.models import Account

COMMERCE_MODELS = (
    AccountPurchaseStats,  # per-account summary of the orders below (commerce.purchase_stats)
    Payment,
    InvoiceLine,
    Invoice,
    ShipmentLine,
    Shipment,
    Subscription,
    OrderLine,
    Order,
    NumberSequence,
    PriceBookEntry,
    PriceBook,
    BundleComponent,
    Product,
    TaxRate,
    ExchangeRate,
)  # fmt: skip, children first

# sku, name, kind, unit, tax category, EUR list price
_CATALOGUE = (
    ("RPT-LIC", "Rapport seat licence", "subscription", "seat/month", "standard", "39.00"),
    ("RPT-SUP", "Premium support", "subscription", "month", "standard", "250.00"),
    ("ONB-DAY", "Onboarding workshop", "service", "day", "standard", "1200.00"),
    ("CON-HR", "Consulting", "service", "h", "standard", "140.00"),
    ("SCN-100", "Barcode scanner S100", "goods", "pcs", "standard", "189.00"),
    ("PRN-20", "Label printer P20", "goods", "pcs", "standard", "329.00"),
    ("LBL-ROLL", "Label roll (1,000)", "goods", "roll", "standard", "12.50"),
    ("MAN-PRT", "Printed user manual", "goods", "pcs", "reduced", "24.00"),
)
_USD_FACTOR = Decimal("1.08")
_RATES = {"USD": "0.92", "GBP": "1.17", "CHF": "1.04"}  # company-currency units per unit, for EUR companies


def commerce_reset() -> None:
    """Delete every commerce row (orders and invoices too): the demo's reset, children first."""
    if connection.vendor == "postgresql":
        tables = ", ".join(f'"{m._meta.db_table}"' for m in COMMERCE_MODELS)
        with connection.cursor() as cursor:
            # CASCADE: rows of upper apps that reference the catalogue (opportunity lines) go too.
            cursor.execute(f"TRUNCATE {tables} CASCADE")
        return
    with connection.cursor() as cursor:
        for model in COMMERCE_MODELS:
            cursor.execute(f'DELETE FROM "{model._meta.db_table}"')


def _catalogue(admin: User, today: dt.date) -> dict[str, Product]:
    if Product.objects.filter(sku=_CATALOGUE[0][0]).exists():  # a second run without --reset
        return {p.sku: p for p in Product.objects.filter(sku__in=[*(row[0] for row in _CATALOGUE), "KIT-START"])}
    services_catalogue.tax_rate_set(actor=admin, category="standard", rate="20", name="Standard rate")
    services_catalogue.tax_rate_set(actor=admin, category="reduced", rate="7", name="Reduced rate")
    services_catalogue.tax_rate_set(actor=admin, category="standard", country="DE", rate="19", name="MwSt")
    eur = services_catalogue.price_book_create(actor=admin, name="List prices EUR", currency="EUR")
    usd = services_catalogue.price_book_create(actor=admin, name="List prices USD", currency="USD")
    gold = services_catalogue.price_book_create(actor=admin, name="Gold customers EUR", currency="EUR", tier="gold")
    products = {}
    for sku, name, kind, unit, tax, price in _CATALOGUE:
        product = services_catalogue.product_create(
            actor=admin, sku=sku, name=name, kind=kind, unit=unit, tax_category=tax
        )
        products[sku] = product
        eur_price = Decimal(price)
        services_catalogue.price_book_entry_set(actor=admin, price_book=eur, product=product, unit_price=eur_price)
        services_catalogue.price_book_entry_set(
            actor=admin, price_book=usd, product=product, unit_price=(eur_price * _USD_FACTOR).quantize(Decimal("0.01"))
        )
        services_catalogue.price_book_entry_set(
            actor=admin,
            price_book=gold,
            product=product,
            unit_price=eur_price,
            discount_kind="percent",
            discount_value="8",
        )
    # Volume pricing on labels, and a starter kit sold as one bundle.
    services_catalogue.price_book_entry_set(
        actor=admin, price_book=eur, product=products["LBL-ROLL"], unit_price="10.90", min_quantity=50
    )
    products["KIT-START"] = services_catalogue.product_create(
        actor=admin,
        sku="KIT-START",
        name="Warehouse starter kit",
        tax_category="standard",
        components=[(products["SCN-100"], 2), (products["PRN-20"], 1), (products["LBL-ROLL"], 10)],
    )
    if str(settings.RAPPORT_COMPANY_CURRENCY).upper() == "EUR":
        for code, rate in _RATES.items():
            for months_back in (12, 6, 1):
                day = today - dt.timedelta(days=30 * months_back)
                services_catalogue.exchange_rate_set(actor=admin, currency=code, date=day, rate=rate)
    return products


def _lines(rng: random.Random, products: dict[str, Product]) -> list[services.LineSpec]:
    goods = ["SCN-100", "PRN-20", "LBL-ROLL", "MAN-PRT", "KIT-START"]
    lines = [
        services.LineSpec(
            product=products[sku], quantity=rng.choice([1, 2, 3, 5, 10, 60] if sku == "LBL-ROLL" else [1, 2, 3, 5])
        )
        for sku in rng.sample(goods, rng.randint(1, 3))
    ]
    if rng.random() < 0.5:
        lines.append(services.LineSpec(product=products["ONB-DAY"], quantity=rng.choice([1, 2])))
    if rng.random() < 0.2:
        lines.append(
            services.LineSpec(
                product=products["CON-HR"],
                quantity=rng.choice(["4", "7.5", "16"]),
                discount_kind="percent",
                discount_value="10",
            )
        )
    return lines


def commerce_generate(*, seed: int, today: dt.date, orders: int) -> int:
    """Up to ``orders`` orders over the demo accounts with a sales owner; returns how many."""
    admin = User.objects.get(username="admin")
    payer = User.objects.get(username="manager")
    products = _catalogue(admin, today)
    rng = random.Random(seed)
    accounts = list(
        Account.objects.filter(owner__groups__name__in=["sales_rep", "sales_manager"])
        .select_related("owner")
        .order_by("id")[:orders]
    )
    made = 0
    for account in accounts:
        for _ in range(rng.choice([1, 2, 2, 3])):
            if made >= orders:
                return made
            _order_history(rng, account, products, payer, today)
            made += 1
        if rng.random() < 0.3 and account.owner is not None:
            services.subscription_create(
                actor=account.owner,
                account=account,
                product=products["RPT-LIC"],
                amount=str(39 * rng.choice([5, 10, 25])),
                currency="EUR",
                start_date=today - dt.timedelta(days=rng.randint(30, 700)),
                billing_period=rng.choice(["monthly", "monthly", "yearly"]),
                renewal_date=today + dt.timedelta(days=rng.randint(10, 360)),
            )
    return made


def _order_history(
    rng: random.Random, account: Account, products: dict[str, Product], payer: User, today: dt.date
) -> None:
    """One order and what followed it: shipped (fully or partly), invoiced, paid, or overdue."""
    owner = account.owner
    placed = max(account.created_at.date(), today - dt.timedelta(days=rng.randint(3, 400)))
    order = services.order_create_from_lines(
        actor=owner, account=account, currency="EUR", lines=_lines(rng, products), order_date=placed,
        payment_terms_days=rng.choice([14, 30, 30, 60]), source_reference=f"quote:{rng.randint(1000, 9999)}",
    )  # fmt: skip
    lines = list(order.lines.select_related("product"))
    goods = [line for line in lines if line.product.kind == "goods"]
    stage = rng.random()
    if goods and stage > 0.15:
        partial = stage < 0.3
        picks = [(line.pk, line.quantity if not partial else max(Decimal(1), line.quantity // 2)) for line in goods]
        services.shipment_create(
            actor=owner,
            order=order,
            lines=picks,
            carrier=rng.choice(["DHL", "UPS", "DPD", "FedEx"]),
            tracking_number=f"{rng.randint(10**9, 10**10 - 1)}",
            shipped_at=dt.datetime.combine(placed + dt.timedelta(days=2), dt.time(10), tzinfo=dt.UTC),
        )
    if stage > 0.2:
        issued = min(today, placed + dt.timedelta(days=3))
        invoice = services.invoice_create(actor=owner, order=order, issue_date=issued)
        paid_roll = rng.random()
        if paid_roll < 0.65:
            services.payment_record(
                actor=payer,
                invoice=invoice,
                amount=invoice.total,
                currency=invoice.currency,
                paid_on=min(today, max(issued, invoice.due_date - dt.timedelta(days=rng.randint(0, 10)))),
            )
        elif paid_roll < 0.8:
            half = (invoice.total / 2).quantize(Decimal("0.01"))
            services.payment_record(
                actor=payer,
                invoice=invoice,
                amount=half,
                currency=invoice.currency,
                paid_on=min(today, issued + dt.timedelta(days=7)),
            )
