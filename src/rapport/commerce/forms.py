"""Forms of the commerce pages. They collect input; the services decide what is valid."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.commerce.choices import PaymentMethod


class ShipmentForm(forms.Form):
    """Carrier and tracking number; quantities arrive as ``qty_<order line id>`` fields."""

    carrier = forms.CharField(label=_("Carrier"), max_length=100, required=False)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=100, required=False)


class PaymentForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount"), max_digits=19, decimal_places=4, min_value=0)
    paid_on = forms.DateField(label=_("Paid on"), widget=forms.DateInput(attrs={"type": "date"}))
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices)
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)
