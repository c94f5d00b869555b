"""Web pages of commerce: products, orders (lines, shipments, invoices), invoices with payments.

Reads go through ``commerce.selectors`` (already narrowed to what the user may see), writes
through the services; a refused write shows its reason on the page and changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapport.commerce import selectors, services
from rapport.commerce.choices import FulfilmentStatus, OrderStatus, PaymentStatus, ProductKind
from rapport.commerce.forms import PaymentForm, ShipmentForm
from rapport.commerce.models import Order, PriceBookEntry
from rapport.core import permissions
from rapport.core.errors import ValidationFailed
from rapport.core.pagination import keyset_page
from rapport.core.views import apply_field_errors, domain_view, htmx_partial

PAGE_SIZE = 50


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


def _paged(request: HttpRequest, queryset: QuerySet[Any], ordering: list[str]) -> dict[str, Any]:
    """One keyset page and the links of the list (a stale cursor falls back to the first page)."""
    cursor = request.GET.get("cursor") or None
    try:
        page = keyset_page(queryset, ordering=ordering, cursor=cursor, limit=PAGE_SIZE)
    except ValidationFailed:
        page = keyset_page(queryset, ordering=ordering, cursor=None, limit=PAGE_SIZE)
        cursor = None
    params = request.GET.copy()
    params.pop("cursor", None)
    query = params.urlencode()
    next_url = ""
    if page.next_cursor:
        next_url = f"?{query}&cursor={page.next_cursor}" if query else f"?cursor={page.next_cursor}"
    return {
        "rows": page.items,
        "query": query,
        "first_url": f"?{query}" if query else "?",
        "next_url": next_url,
        "is_first_page": cursor is None,
    }


def _list(request: HttpRequest, template: str, partial: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, partial if htmx_partial(request, "results") else template, context)


# --- products ------------------------------------------------------------------------------


@domain_view
@require_GET
def product_list_view(request: HttpRequest) -> HttpResponse:
    params = request.GET
    active = {"yes": True, "no": False}.get(params.get("active", ""))
    qs = selectors.product_list(
        actor=request.user, q=params.get("q", "")[:100], kind=params.get("kind", ""), active=active
    )
    context = {
        **_paged(request, qs, ["name"]),
        "kinds": ProductKind.choices,
        "params": params,
    }
    return _list(request, "commerce/product_list.html", "commerce/partials/product_results.html", context)


@domain_view
@require_GET
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = selectors.product_get(actor=request.user, product_id=pk)
    prices: list[PriceBookEntry] = []
    if request.user.has_perm("commerce.view_pricebook"):
        prices = list(
            PriceBookEntry.objects.filter(product=product)
            .select_related("price_book")
            .order_by("price_book__currency", "price_book__name", "min_quantity")
        )
    return render(
        request,
        "commerce/product_detail.html",
        {
            "product": product,
            "components": product.components.select_related("component"),
            "in_bundles": product.in_bundles.select_related("bundle"),
            "prices": prices,
        },
    )


# --- orders --------------------------------------------------------------------------------


@domain_view
@require_GET
def order_list_view(request: HttpRequest) -> HttpResponse:
    params = request.GET
    filters = selectors.OrderFilters(
        account_id=_int(params.get("account_id")),
        status=params.get("status", "") if params.get("status") in OrderStatus.values else "",
        fulfilment_status=params.get("fulfilment_status", "")
        if params.get("fulfilment_status") in FulfilmentStatus.values
        else "",
        q=params.get("q", "")[:100],
    )
    qs = selectors.order_list(actor=request.user, filters=filters).select_related("account", "owner")
    context = {
        **_paged(request, qs, ["-order_date"]),
        "filters": filters,
        "statuses": OrderStatus.choices,
        "fulfilment_statuses": FulfilmentStatus.choices,
    }
    return _list(request, "commerce/order_list.html", "commerce/partials/order_results.html", context)


def _order_context(request: HttpRequest, order: Order, **extra: Any) -> dict[str, Any]:
    lines = selectors.order_lines(order)
    for line in lines:
        line.to_ship = line.quantity - line.shipped if line.product.kind == ProductKind.GOODS else 0
    actor = request.user
    may_change = permissions.can_write(actor, order) and order.status == OrderStatus.OPEN
    return {
        "order": order,
        "lines": lines,
        "shipments": selectors.shipment_list(actor=actor, order=order).prefetch_related("lines__order_line__product"),
        "invoices": selectors.invoice_list(actor=actor, filters=selectors.InvoiceFilters(order_id=order.pk))
        .select_related("order")
        .order_by("issue_date", "id"),
        "can_ship": may_change and actor.has_perm("commerce.add_shipment") and any(ln.to_ship for ln in lines),
        "can_invoice": may_change
        and actor.has_perm("commerce.add_invoice")
        and any(ln.invoiced < ln.quantity for ln in lines),
        "shipment_form": extra.pop("shipment_form", None) or ShipmentForm(),
        **extra,
    }


@domain_view
@require_GET
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = selectors.order_get(actor=request.user, order_id=pk)
    return render(request, "commerce/order_detail.html", _order_context(request, order))


@domain_view
@require_POST
def order_ship_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Ship the quantities typed per line (``qty_<line id>``); blank or zero lines are left out."""
    order = selectors.order_get(actor=request.user, order_id=pk)
    form = ShipmentForm(request.POST)
    picks = [
        (int(key[4:]), value.strip())
        for key, value in request.POST.items()
        if key.startswith("qty_") and key[4:].isdigit() and value.strip() not in ("", "0")
    ]
    if form.is_valid():
        try:
            shipment = services.shipment_create(actor=request.user, order=order, lines=picks, **form.cleaned_data)
        except ValidationFailed as exc:
            apply_field_errors(form, ValidationFailed(exc.detail))
        else:
            messages.success(request, _("Shipment recorded."))
            return redirect(f"{order_url(order)}#shipment-{shipment.pk}")
    context = _order_context(request, order, shipment_form=form)
    return render(request, "commerce/order_detail.html", context, status=422)


@domain_view
@require_POST
def order_invoice_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Invoice everything on the order that is not invoiced yet."""
    order = selectors.order_get(actor=request.user, order_id=pk)
    try:
        invoice = services.invoice_create(actor=request.user, order=order)
    except ValidationFailed as exc:
        messages.error(request, exc.detail)
        return redirect(order_url(order))
    messages.success(request, _("Invoice %(number)s issued.") % {"number": invoice.number})
    return redirect("invoice_detail", pk=invoice.pk)


def order_url(order: Order) -> str:
    return reverse("order_detail", args=[order.pk])


# --- invoices ------------------------------------------------------------------------------


@domain_view
@require_GET
def invoice_list_view(request: HttpRequest) -> HttpResponse:
    params = request.GET
    overdue = {"yes": True, "no": False}.get(params.get("overdue", ""))
    status = params.get("payment_status", "")
    filters = selectors.InvoiceFilters(
        account_id=_int(params.get("account_id")),
        payment_status=status if status in PaymentStatus.values else "",
        overdue=overdue,
    )
    qs = selectors.invoice_list(actor=request.user, filters=filters).select_related("order", "order__account")
    context = {
        **_paged(request, qs, ["-issue_date"]),
        "filters": filters,
        "params": params,
        "payment_statuses": PaymentStatus.choices,
    }
    return _list(request, "commerce/invoice_list.html", "commerce/partials/invoice_results.html", context)


@domain_view
@require_http_methods(["GET", "POST"])
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The invoice with its lines and payments; POST records a payment."""
    invoice = selectors.invoice_get(actor=request.user, invoice_id=pk)
    can_pay = (
        request.user.has_perm("commerce.add_payment")
        and permissions.can_write(request.user, invoice.order)
        and invoice.payment_status != PaymentStatus.PAID
    )
    form = PaymentForm(initial={"amount": invoice.outstanding, "paid_on": timezone.localdate()})
    status = 200
    if request.method == "POST":
        form = PaymentForm(request.POST)
        if form.is_valid():
            try:
                services.payment_record(
                    actor=request.user, invoice=invoice, currency=invoice.currency, **form.cleaned_data
                )
            except ValidationFailed as exc:
                apply_field_errors(form, exc)
            else:
                messages.success(request, _("Payment recorded."))
                return redirect("invoice_detail", pk=invoice.pk)
        status = 422
    return render(
        request,
        "commerce/invoice_detail.html",
        {
            "invoice": invoice,
            "lines": invoice.lines.select_related("order_line__product").order_by("id"),
            "payments": selectors.payment_list(actor=request.user, invoice=invoice).order_by("paid_on", "id")
            if request.user.has_perm("commerce.view_payment")
            else [],
            "form": form,
            "can_pay": can_pay,
        },
        status=status,
    )
