"""Money: a Decimal amount with an ISO 4217 currency, and the rounding rules every total obeys.

Rules (one place, so that an order, its invoices and a report agree to the cent):

* amounts are ``Decimal``, never ``float``; a float passed in is refused rather than guessed at;
* a stored or shown amount is quantised to its currency's minor unit (2 for EUR, 0 for JPY,
  3 for KWD) with ROUND_HALF_UP, the rounding commercial invoices use;
* unit prices keep up to ``UNIT_PRICE_PLACES`` decimals (a price per API call can be 0.0125);
  only line amounts and totals are quantised, each line on its own, and a total is the sum of
  its rounded lines (so an invoice's lines always add up to its total);
* two amounts in different currencies never add: ``CurrencyMismatch``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from rapport.core.errors import ValidationFailed

UNIT_PRICE_PLACES = 4
QUANTITY_PLACES = 3
QUANTITY_DIGITS = 11  # the quantity columns: 14 digits, 3 after the point

# Active ISO 4217 codes whose minor unit is not 2 decimals.
_MINOR_UNITS_EXCEPTIONS = {
    **dict.fromkeys(
        (
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    "CLF": 4,
    "UYW": 4,
}
# Active ISO 4217 currency codes (funds and precious metals left out: nobody invoices in XAU).
_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN
    BZD CAD CDF CHF CLF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL
    GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW
    KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN
    NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK
    SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYI UYU
    UYW UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
"""
CURRENCIES = frozenset(_CODES.split())


class CurrencyMismatch(ValidationFailed):
    slug = "currency-mismatch"
    title = "The currencies do not match"


def minor_units(currency: str) -> int:
    return _MINOR_UNITS_EXCEPTIONS.get(currency, 2)


def currency_clean(value: Any, *, field: str = "currency") -> str:
    """An upper-case ISO 4217 code, or ``ValidationFailed`` naming ``field``."""
    code = str(value or "").strip().upper()
    if code not in CURRENCIES:
        raise ValidationFailed(
            f"{value!r} is not an ISO 4217 currency code.",
            field_errors={field: ["Use a three-letter ISO 4217 code such as EUR or USD."]},
        )
    return code


def decimal_clean(
    value: Any,
    *,
    field: str,
    places: int | None = None,
    positive: bool = False,
    allow_zero: bool = True,
    int_digits: int = 15,
) -> Decimal:
    """A finite Decimal from a Decimal, int or numeric string (never a float), below
    ``10 ** int_digits`` so that it fits its column and arithmetic on it stays exact."""
    if isinstance(value, float | bool):
        raise ValidationFailed(f"{field} must be a decimal, not a float.", field_errors={field: ["Send a string."]})
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"{value!r} is not a number.", field_errors={field: ["Not a number."]}) from None
    if not number.is_finite():
        raise ValidationFailed(f"{field} must be a finite number.", field_errors={field: ["Not a number."]})
    if abs(number) >= Decimal(10) ** int_digits:
        raise ValidationFailed(
            f"{field} is too large.", field_errors={field: [f"At most {int_digits} digits before the point."]}
        )
    if places is not None and number != number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):
        raise ValidationFailed(
            f"{field} has more than {places} decimals.", field_errors={field: [f"At most {places} decimals."]}
        )
    if number < 0 or (positive and number == 0) or (not allow_zero and number == 0):
        what = "greater than zero" if positive or not allow_zero else "zero or more"
        raise ValidationFailed(f"{field} must be {what} (got {number}).", field_errors={field: [f"Must be {what}."]})
    return number


def quantize(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half-up to the minor unit of ``currency``."""
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Money:
    """An amount in one currency. Arithmetic keeps full precision; ``rounded`` quantises."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError("Money.amount must be a Decimal")

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"Cannot combine {self.currency} with {other.currency}.")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def rounded(self) -> Money:
        return Money(quantize(self.amount, self.currency), self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    def __str__(self) -> str:
        return f"{quantize(self.amount, self.currency):,} {self.currency}"
