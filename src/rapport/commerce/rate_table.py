"""Converting SQL sums to the company currency without one query per sum.

Reports sum amounts in SQL grouped by currency (the sales metrics also by day, the board by
stage); each group is then converted here. :class:`RateTable` loads the exchange rates of the currencies involved once
and answers "the latest rate on or before this day" by bisection, with the same rule and the
same rounding as ``commerce.pricing.convert``: no rate is ``NoExchangeRate`` (422), never 1.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from rapport.commerce.models import ExchangeRate
from rapport.commerce.money import quantize
from rapport.commerce.pricing import NoExchangeRate, company_currency


class RateTable:
    def __init__(self, currencies: Iterable[str], until: dt.date) -> None:
        self.target = company_currency()
        wanted = sorted({c for c in currencies if c and c != self.target})
        self._days: dict[str, list[dt.date]] = {c: [] for c in wanted}
        self._rates: dict[str, list[Decimal]] = {c: [] for c in wanted}
        if wanted:
            rows = (ExchangeRate.objects.filter(currency__in=wanted, date__lte=until)
                    .order_by("currency", "date").values_list("currency", "date", "rate"))
            for currency, day, rate in rows:  # one row per currency and day with a rate: a small table
                self._days[currency].append(day)
                self._rates[currency].append(rate)

    def rate(self, currency: str, on: dt.date) -> Decimal:
        if currency == self.target:
            return Decimal(1)
        days = self._days.get(currency, [])
        at = bisect.bisect_right(days, on) - 1
        if at < 0:
            raise NoExchangeRate(
                f"No {currency} exchange rate on or before {on.isoformat()}.",
                field_errors={"currency": [f"Add a {currency} rate dated {on.isoformat()} or earlier."]},
            )
        return self._rates[currency][at]

    def convert(self, amount: Decimal | None, currency: str, on: dt.date) -> Decimal:
        """``amount`` of ``currency`` in the company currency at the rate of ``on``, rounded."""
        return quantize((amount or Decimal(0)) * self.rate(currency, on), self.target)
