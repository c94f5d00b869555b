"""Web pages of quotes: the staff list, detail (lines, totals, revisions, timeline), the builder
(new quote from an opportunity, or a revision of a quote), send, print and PDF; and the customer's
public page ``/q/<token>/`` (no login) to accept with a typed name or decline.

Writes go through ``services_quotes``; a refused write shows its reason beside the field it is
about (a line's quantity, the price book) and changes nothing. The public page is protected by
the signed token (a forged one is the same 404 as an unknown one), Django's CSRF check on its
POST, and a per-IP rate limit in the cache.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from rapport.commerce import selectors as commerce_selectors
from rapport.commerce.choices import DiscountKind
from rapport.commerce.models import PriceBook, Product
from rapport.commerce.views import _paged
from rapport.core import permissions
from rapport.core.errors import DomainError, NotFound, ValidationFailed
from rapport.core.views import apply_field_errors, domain_view, error_page, htmx_partial
from rapport.sales import selectors, selectors_quotes, services_quotes
from rapport.sales.models import Opportunity
from rapport.sales.models_quotes import Quote, QuoteStatus
from rapport.sales.quote_render import quote_pdf

# --- the builder form ------------------------------------------------------------------------


class QuoteHeaderForm(forms.Form):
    price_book = forms.ModelChoiceField(queryset=PriceBook.objects.none(), required=False, label="Price book",
                                        help_text="Blank: the best book for the customer in the quote's currency.")
    currency = forms.CharField(max_length=3, required=False, label="Currency",
                               help_text="Blank: the price book's, else the opportunity's.")
    valid_until = forms.DateField(required=False, label="Valid until", widget=forms.DateInput(attrs={"type": "date"}),
                                  help_text=f"Blank: {services_quotes.DEFAULT_VALIDITY_DAYS} days from today.")
    tax_country = forms.CharField(max_length=2, required=False, label="Tax country")
    notes = forms.CharField(required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 3}), label="Notes")
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["price_book"].queryset = commerce_selectors.price_book_list(actor=actor, active=True)  # type: ignore[attr-defined]


class QuoteLineForm(forms.Form):
    """One line; a row left blank is skipped. Quantities and prices are checked by the service
    (one rule for the page and the API), so a negative quantity comes back beside the field."""

    product = forms.ModelChoiceField(queryset=Product.objects.none(), label="Product")
    quantity = forms.DecimalField(label="Quantity", initial=1, widget=forms.TextInput(attrs={"inputmode": "decimal",
                                                                                             "size": 6}))
    unit_price = forms.DecimalField(required=False, label="Unit price",
                                    widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 8,
                                                                  "placeholder": "price book"}))
    discount_kind = forms.ChoiceField(required=False, label="Discount",
                                      choices=[("", "Price book's"), *DiscountKind.choices])
    discount_value = forms.DecimalField(required=False, label="Discount value",
                                        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 6}))
    description = forms.CharField(required=False, max_length=300, label="Description",
                                  widget=forms.TextInput(attrs={"placeholder": "product name"}))

    def __init__(self, *args: Any, products: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if products is not None:
            self.fields["product"].queryset = products  # type: ignore[attr-defined]


LineFormSet = forms.formset_factory(QuoteLineForm, extra=3, max_num=200, absolute_max=200)


def _line_formset(request: HttpRequest, initial: list[dict[str, Any]] | None = None) -> Any:
    products = commerce_selectors.product_list(actor=request.user, active=True).order_by("name")
    data = request.POST if request.method == "POST" else None
    return LineFormSet(data, initial=initial, prefix="lines", form_kwargs={"products": products})


def _filled(formset: Any) -> list[forms.Form]:
    """The posted rows that name a product, in order; each is then validated in full (a row with
    a product is never skipped as "unchanged", which a revision's pre-filled rows would be)."""
    rows = [f for f in formset.forms if f.data.get(f.add_prefix("product"))]
    for form in rows:
        form.empty_permitted = False
    return rows


def _specs(forms_: list[forms.Form]) -> list[services_quotes.QuoteLineSpec]:
    return [services_quotes.QuoteLineSpec(
        product=f.cleaned_data["product"], quantity=f.cleaned_data["quantity"],
        unit_price=f.cleaned_data.get("unit_price"), discount_kind=f.cleaned_data.get("discount_kind") or "",
        discount_value=f.cleaned_data.get("discount_value") or 0, description=f.cleaned_data.get("description") or "",
    ) for f in forms_]


def _show_errors(exc: ValidationFailed, header: QuoteHeaderForm, lines: list[forms.Form], formset: Any) -> None:
    """Put each of the service's field errors beside its field: ``lines.<i>.<field>`` on the i-th
    filled line, the rest on the header form (``price_book_id`` → ``price_book``)."""
    other: dict[str, list[str]] = {}
    for key, msgs in exc.field_errors.items():
        parts = key.split(".")
        if parts[0] == "lines" and len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) < len(lines):
            form = lines[int(parts[1])]
            name = parts[2].removesuffix("_id") if len(parts) > 2 else ""
            for msg in msgs:
                form.add_error(name if name in form.fields else None, msg)
        elif parts[0] == "lines":
            formset._non_form_errors = formset.error_class([*formset.non_form_errors(), *msgs])
        else:
            other[key] = msgs
    if other or not exc.field_errors:
        apply_field_errors(header, ValidationFailed(exc.detail, field_errors=other),
                           field_map={"price_book_id": "price_book"})
    elif exc.field_errors and not other:
        header.add_error(None, exc.detail)


def _builder(request: HttpRequest, *, opportunity: Opportunity, quote: Quote | None) -> HttpResponse:
    """The builder: a new quote for ``opportunity``, or (``quote`` given) its next revision."""
    if quote is None:
        permissions.require_model_perm(request.user, Quote, "add")
        permissions.check_write(request.user, opportunity)
        initial_header: dict[str, Any] = {}
        initial_lines = None
    else:
        permissions.check_write(request.user, quote)
        initial_header = {"price_book": quote.price_book_id, "currency": quote.currency,
                          "tax_country": quote.tax_country, "notes": quote.notes, "version": quote.version}
        initial_lines = [{"product": ln.product_id, "quantity": ln.quantity, "unit_price": ln.unit_price,
                          "discount_kind": ln.discount_kind, "discount_value": ln.discount_value or None,
                          "description": ln.description} for ln in quote.lines.all()]
    header = QuoteHeaderForm(request.POST or None, actor=request.user, initial=initial_header)
    formset = _line_formset(request, initial_lines)
    if request.method == "POST":
        lines = _filled(formset)
        lines_ok = all(f.is_valid() for f in lines)
        if header.is_valid() and lines_ok and formset.management_form.is_valid():
            data = header.cleaned_data
            fields = {"price_book": data["price_book"], "currency": data["currency"] or "",
                      "valid_until": data["valid_until"], "tax_country": data["tax_country"], "notes": data["notes"]}
            try:
                if quote is None:
                    made = services_quotes.quote_create(actor=request.user, opportunity=opportunity,
                                                        lines=_specs(lines), **fields)
                    messages.success(request, f"Quote {made} drafted.")
                else:
                    if not fields["currency"]:
                        fields.pop("currency")
                    made = services_quotes.quote_revise(actor=request.user, quote=quote, lines=_specs(lines),
                                                        expected_version=data.get("version"), **fields)
                    messages.success(request, f"Revision {made.revision} of {made.number} drafted.")
                return redirect("quote_detail", made.pk)
            except ValidationFailed as exc:
                _show_errors(exc, header, lines, formset)
            except DomainError as exc:
                header.add_error(None, exc.detail)
        if not lines:
            header.add_error(None, "Add at least one line.")
    return render(request, "sales/quote_form.html", {
        "opportunity": opportunity, "quote": quote, "header": header, "formset": formset})


@domain_view
@require_http_methods(["GET", "POST"])
def quote_create_view(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    opportunity = selectors.opportunity_get(actor=request.user, pk=opportunity_id)
    return _builder(request, opportunity=opportunity, quote=None)


@domain_view
@require_http_methods(["GET", "POST"])
def quote_revise_view(request: HttpRequest, pk: int) -> HttpResponse:
    quote = selectors_quotes.quote_get(actor=request.user, pk=pk)
    if quote.status in (QuoteStatus.ACCEPTED, QuoteStatus.DECLINED, QuoteStatus.SUPERSEDED):
        messages.error(request, f"Quote {quote} is {quote.get_status_display().lower()}; it cannot be revised.")
        return redirect("quote_detail", pk)
    return _builder(request, opportunity=quote.opportunity, quote=quote)


# --- list, detail, print, PDF ----------------------------------------------------------------


@domain_view
@require_GET
def quote_list_view(request: HttpRequest) -> HttpResponse:
    params = request.GET
    filters = {k: params.get(k, "")[:100] for k in ("status", "owner", "account", "opportunity", "q", "current")}
    try:
        qs = selectors_quotes.quote_list(actor=request.user, filters=filters)
    except ValidationFailed:
        qs = selectors_quotes.quote_list(actor=request.user, filters={})
    qs = qs.select_related("opportunity", "account").only(*selectors_quotes.LIST_COLUMNS)
    context = {**_paged(request, qs, ["-created_at"]), "params": params, "statuses": QuoteStatus.choices}
    template = "sales/partials/quote_results.html" if htmx_partial(request, "results") else "sales/quote_list.html"
    return render(request, template, context)


@domain_view
@require_GET
def quote_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    quote = selectors_quotes.quote_get(actor=request.user, pk=pk)
    can_write = permissions.can_write(request.user, quote) and request.user.has_perm("sales.change_quote")
    open_ = quote.status in (QuoteStatus.DRAFT, QuoteStatus.SENT) and quote.valid_until >= timezone.localdate()
    context = {
        "quote": quote, "lines": list(quote.lines.select_related("product")),
        "versions": selectors_quotes.quote_versions(actor=request.user, quote=quote),
        "timeline": selectors_quotes.quote_timeline(quote),
        "can_revise": can_write and quote.status in (QuoteStatus.DRAFT, QuoteStatus.SENT, QuoteStatus.EXPIRED),
        "can_send": can_write and open_,
        "acceptance_url": services_quotes.acceptance_url(quote) if quote.status != QuoteStatus.DRAFT else "",
    }
    return render(request, "sales/quote_detail.html", context)


@domain_view
@require_GET
def quote_print_view(request: HttpRequest, pk: int) -> HttpResponse:
    quote = selectors_quotes.quote_get(actor=request.user, pk=pk)
    return render(request, "sales/quote_print.html", {"quote": quote, "lines": list(quote.lines.all()),
                                                      "seller": _seller_name()})


@domain_view
@require_GET
def quote_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    quote = selectors_quotes.quote_get(actor=request.user, pk=pk)
    response = HttpResponse(quote_pdf(quote), content_type="application/pdf")
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{quote.number}-v{quote.revision}.pdf"'
    return response


class SendForm(forms.Form):
    to = forms.EmailField(label="Recipient", max_length=254)
    message = forms.CharField(label="Message", required=False, max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 5}))


@domain_view
@require_http_methods(["GET", "POST"])
def quote_send_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Email the quote (PDF attached, signed acceptance link) to the recipient, by default the
    deal's contact. The mail goes after the commit (``quote_send``)."""
    quote = selectors_quotes.quote_get(actor=request.user, pk=pk)
    permissions.check_write(request.user, quote)
    default_to = quote.sent_to or (quote.contact.email if quote.contact and quote.contact.email else "")
    form = SendForm(request.POST or None, initial={"to": default_to})
    if request.method == "POST" and form.is_valid():
        try:
            services_quotes.quote_send(actor=request.user, quote=quote, to=form.cleaned_data["to"],
                                       message=form.cleaned_data["message"])
        except ValidationFailed as exc:
            apply_field_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.detail)
        else:
            messages.success(request, f"Quote {quote} sent to {form.cleaned_data['to']}.")
            return redirect("quote_detail", pk)
    return render(request, "sales/quote_send.html", {"quote": quote, "form": form})


def _seller_name() -> str:
    return str(settings.RAPPORT_COMPANY_NAME or "Rapport")


# --- the customer's page ---------------------------------------------------------------------

PUBLIC_RATE_WINDOW = 600
PUBLIC_RATE_LIMIT = 60  # page views and answers per IP per window: plenty for a person, not for a guesser


def _throttled(request: HttpRequest) -> bool:
    """Count this request against the client IP; True once it is over the limit. ``add`` then
    ``incr`` is atomic on shared caches, so concurrent workers do not lose counts."""
    key = f"quote-public:{request.META.get('REMOTE_ADDR', '') or 'unknown'}"
    cache.add(key, 0, PUBLIC_RATE_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, PUBLIC_RATE_WINDOW)
        count = 1
    return count > PUBLIC_RATE_LIMIT


@require_http_methods(["GET", "POST"])
def quote_public_view(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's page: the quote, and Accept (typed name) / Decline while it is open."""
    if _throttled(request):
        response = render(request, "sales/quote_public.html", {"throttled": True}, status=429)
        response["Retry-After"] = str(PUBLIC_RATE_WINDOW)
        return response
    try:
        quote = selectors_quotes.quote_public_get(token)
    except NotFound as exc:
        return error_page(request, exc, 404)
    error = ""
    if request.method == "POST":
        decision = request.POST.get("decision", "")
        name = request.POST.get("name", "")[:400]
        ip = request.META.get("REMOTE_ADDR") or None
        try:
            if decision == "accept":
                quote = services_quotes.quote_accept(quote=quote, name=name, ip=ip)
            elif decision == "decline":
                quote = services_quotes.quote_decline(quote=quote, name=name, ip=ip)
            else:
                raise ValidationFailed("Choose Accept or Decline.")
            return redirect("quote_public", token)
        except DomainError as exc:
            error = exc.detail
            quote = Quote.objects.select_related("account").get(pk=quote.pk)
    today = timezone.localdate()
    return render(request, "sales/quote_public.html", {
        "quote": quote, "lines": list(quote.lines.all()), "state": selectors_quotes.quote_public_state(quote, today),
        "error": error, "seller": _seller_name(), "order_number": quote.order.number if quote.order_id else "",
        "posted_name": request.POST.get("name", "")[:200] if request.method == "POST" else "",
    }, status=422 if error else 200)
