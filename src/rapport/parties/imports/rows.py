"""Per-row normalisation and validation: one file row → the values the engine writes, or errors.

Cells are stripped; an empty cell means "no value" (on update it leaves the stored value as it
is, so a sparse file never blanks data). Every bad cell of a row is reported (line, column,
reason), and a row with any error is rejected whole. The phone fast path gives exactly what
``normalize.phone_normalize`` gives for the shapes it accepts (tested), at a fraction of the cost.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from rapport.core.custom_fields import custom_value_parse
from rapport.core.models import CustomFieldDefinition
from rapport.parties.choices import Channel, CompanySize, ImportKind, Industry, LifecycleStage, Tier
from rapport.parties.imports.errors import RowError
from rapport.parties.imports.records import RAW_EXCERPT, Record
from rapport.parties.normalize import domain_from, email_normalize, phone_normalize

_MULTI = ":::"  # Google Contacts joins several values of one cell with " ::: "
_JUNK = re.compile(r"[\s().\-/]")
_NANP = re.compile(r"^\+1[2-9]\d{9}$")
_US_DIGITS = re.compile(r"^1?[2-9]\d{9}$")
_TAG_SPLIT = re.compile(r"[;,]")

CONTACT_LIMITS = {
    "first_name": 100,
    "last_name": 100,
    "title": 150,
    "language": 10,
    "time_zone": 64,
    "source": 50,
    "external_id": 100,
}
ACCOUNT_LIMITS = {"name": 200, "description": 100_000, "external_id": 100, "website": 300, "domain": 253}


def _choice_lookup(choices: Any) -> dict[str, str]:
    table = {}
    for value, label in choices.choices:
        table[str(value).lower()] = value
        table[str(label).lower()] = value
    return table


class PhoneNormalizer:
    """E.164 with a fast path for NANP numbers and a small per-import cache for the rest."""

    def __init__(self, region: str) -> None:
        self.region = region
        self._nanp = region in {"US", "CA"}
        self._cache: dict[str, str | ValueError] = {}

    def __call__(self, raw: str) -> str:
        text = raw.strip()
        if self._nanp or text.startswith("+1"):
            compact = _JUNK.sub("", text)
            if _NANP.match(compact):
                return compact
            if self._nanp and _US_DIGITS.match(compact):
                return "+1" + compact[-10:]
        cached = self._cache.get(text)
        if cached is None:
            try:
                cached = phone_normalize(text, self.region)
            except ValueError as exc:
                cached = exc
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[text] = cached
        if isinstance(cached, ValueError):
            raise cached
        return cached


def parse_date(text: str) -> dt.date | None:
    """ISO, YYYYMMDD, M/D/YYYY (Outlook), D.M.YYYY; Outlook's 0/0/00 and year-less --MM-DD are empty."""
    text = text.strip()
    if not text or text in {"0/0/00", "0/0/0000", "00.00.0000"} or text.startswith("--"):
        return None
    if len(text) >= 10 and text[4] == "-":
        return dt.date.fromisoformat(text[:10])
    if len(text) == 8 and text.isdigit():
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    if "/" in text:
        month, day, year = (int(p) for p in text.split("/"))
        return dt.date(year + (1900 if year < 100 else 0), month, day)
    if "." in text:
        day, month, year = (int(p) for p in text.split("."))
        return dt.date(year, month, day)
    raise ValueError("not a date")


@dataclass(slots=True)
class Prepared:
    """A valid row: what to set. ``key`` is the normalised match-key value."""

    line: int
    raw: str
    key: str
    scalars: dict[str, Any] = field(default_factory=dict)
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    company: str = ""
    tags: list[str] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)


class RowParser:
    """Turns records into ``Prepared`` rows for one kind, mapping and match key."""

    def __init__(
        self,
        *,
        kind: str,
        header: list[str],
        mapping: dict[str, str],
        match_key: str,
        custom_definitions: list[CustomFieldDefinition],
    ) -> None:
        self.kind = kind
        self.match_key = match_key
        index = {name: i for i, name in enumerate(header)}
        self.columns = [(index[col], col, fld) for col, fld in mapping.items() if fld and col in index]
        self.custom_defs = {d.key: d for d in custom_definitions}
        self.phone = PhoneNormalizer(settings.RAPPORT_DEFAULT_PHONE_REGION)
        self._stages = _choice_lookup(LifecycleStage)
        self._channels = _choice_lookup(Channel)
        self._industries = _choice_lookup(Industry)
        self._sizes = _choice_lookup(CompanySize)
        self._tiers = _choice_lookup(Tier)

    def parse(self, record: Record) -> tuple[Prepared | None, list[RowError]]:
        if record.error is not None:
            return None, [record.error]
        cells = record.cells or []
        errors: list[RowError] = []
        row = Prepared(line=record.line, raw=record.raw, key="")
        handler = self._contact_cell if self.kind == ImportKind.CONTACTS else self._account_cell
        for i, column, fld in self.columns:
            value = cells[i].strip()
            if not value:
                continue
            try:
                handler(row, fld, value)
            except ValueError as exc:
                errors.append(RowError(record.line, column, str(exc), record.raw[:RAW_EXCERPT]))
        if not errors:
            problem = self._finish(row)
            if problem:
                column, reason = problem
                errors.append(RowError(record.line, column, reason, record.raw[:RAW_EXCERPT]))
        if errors:
            return None, errors
        return row, []

    # --- contacts --------------------------------------------------------------------------

    def _contact_cell(self, row: Prepared, fld: str, value: str) -> None:
        if fld in CONTACT_LIMITS:
            if len(value) > CONTACT_LIMITS[fld]:
                raise ValueError(f"At most {CONTACT_LIMITS[fld]} characters (found {len(value)}).")
            row.scalars[fld] = value
        elif fld.startswith("email"):
            for part in value.split(_MULTI):
                if part.strip():
                    try:
                        email = email_normalize(part)
                    except ValueError as exc:
                        raise ValueError(f"{part.strip()!r} is not a valid email address ({exc}).") from None
                    if email not in row.emails:
                        row.emails.append(email)
        elif fld.startswith("phone"):
            for part in value.split(_MULTI):
                if part.strip():
                    try:
                        number = self.phone(part)
                    except ValueError as exc:
                        raise ValueError(f"{part.strip()!r} is not a valid phone number ({exc}).") from None
                    if number not in row.phones:
                        row.phones.append(number)
        elif fld == "full_name":
            first, _sep, last = value.rpartition(" ")
            if len(first) > 100 or len(last) > 100:
                raise ValueError("At most 100 characters per name part.")
            row.scalars.setdefault("first_name", first)
            row.scalars.setdefault("last_name", last)
        elif fld == "company":
            if len(value) > 200:
                raise ValueError("A company name has at most 200 characters.")
            row.company = value.split(_MULTI)[0].strip()
        elif fld == "birthday":
            try:
                birthday = parse_date(value)
            except (ValueError, TypeError):
                raise ValueError(f"{value!r} is not a date (use YYYY-MM-DD).") from None
            if birthday is not None:
                row.scalars["birthday"] = birthday
        elif fld == "lifecycle_stage":
            row.scalars[fld] = self._choice(self._stages, value)
        elif fld == "preferred_channel":
            row.scalars[fld] = self._choice(self._channels, value)
        elif fld == "tags":
            self._tags(row, value)
        elif fld.startswith("custom."):
            self._custom(row, fld, value)

    # --- accounts --------------------------------------------------------------------------

    def _account_cell(self, row: Prepared, fld: str, value: str) -> None:
        if fld in ("name", "description", "external_id"):
            if len(value) > ACCOUNT_LIMITS[fld]:
                raise ValueError(f"At most {ACCOUNT_LIMITS[fld]} characters (found {len(value)}).")
            row.scalars[fld] = value
        elif fld == "website":
            url = value if "://" in value else "https://" + value
            if len(url) > 300 or not domain_from(url):
                raise ValueError(f"{value!r} is not a web address.")
            row.scalars["website"] = url
            row.scalars.setdefault("domain", domain_from(url))
        elif fld == "domain":
            domain = domain_from(value)
            if not domain or "." not in domain:
                raise ValueError(f"{value!r} is not a domain.")
            row.scalars["domain"] = domain
        elif fld == "industry":
            row.scalars[fld] = self._choice(self._industries, value)
        elif fld == "size":
            row.scalars[fld] = self._choice(self._sizes, value)
        elif fld == "tier":
            row.scalars[fld] = self._choice(self._tiers, value)
        elif fld == "annual_revenue":
            try:
                number = decimal.Decimal(value.replace(",", ""))
            except decimal.InvalidOperation:
                raise ValueError(f"{value!r} is not a number.") from None
            if not number.is_finite() or number < 0 or number >= decimal.Decimal(10) ** 16:
                raise ValueError(f"{value!r} is not a valid revenue.")
            row.scalars[fld] = number.quantize(decimal.Decimal("0.01"))
        elif fld == "currency":
            if len(value) != 3 or not value.isalpha():
                raise ValueError("Use a three-letter ISO 4217 code.")
            row.scalars[fld] = value.upper()
        elif fld == "phone":
            try:
                row.scalars["phone"] = self.phone(value)
            except ValueError as exc:
                raise ValueError(f"{value!r} is not a valid phone number ({exc}).") from None
        elif fld == "tags":
            self._tags(row, value)
        elif fld.startswith("custom."):
            self._custom(row, fld, value)

    # --- shared ----------------------------------------------------------------------------

    @staticmethod
    def _choice(table: dict[str, str], value: str) -> str:
        found = table.get(value.lower())
        if found is None:
            raise ValueError(f"{value!r} is not one of: {', '.join(sorted(set(table.values())))}.")
        return found

    @staticmethod
    def _tags(row: Prepared, value: str) -> None:
        for name in _TAG_SPLIT.split(value):
            name = name.strip()[:50]
            if name and name not in row.tags:
                row.tags.append(name)

    def _custom(self, row: Prepared, fld: str, value: str) -> None:
        definition = self.custom_defs[fld.split(".", 1)[1]]
        try:
            parsed = custom_value_parse(definition, value)
        except ValueError as exc:
            raise ValueError(f"{definition.label}: {exc}.") from None
        if parsed is not None:
            row.custom[definition.key] = parsed

    def _finish(self, row: Prepared) -> tuple[str, str] | None:
        """Row-level rules: a contact needs a name or an email; the match key must have a value."""
        key = self.match_key
        if self.kind == ImportKind.CONTACTS:
            if key == "email":
                row.key = row.emails[0] if row.emails else ""
            elif key == "phone":
                row.key = row.phones[0] if row.phones else ""
            else:
                row.key = row.scalars.get("external_id", "")
        else:
            if not row.scalars.get("name"):
                return "", "The row has no account name."
            if key == "name":
                row.key = row.scalars["name"].lower()
            elif key == "domain":
                row.key = row.scalars.get("domain", "")
            else:
                row.key = row.scalars.get("external_id", "")
        if not row.key:
            return self._column_of(key), f"No {key.replace('_', ' ')} to match on: the match-key cell is empty."
        return None

    def _column_of(self, fld: str) -> str:
        for _i, column, mapped in self.columns:
            if mapped == fld or (fld == "domain" and mapped == "website"):
                return column
        return ""
