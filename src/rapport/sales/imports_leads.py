"""Leads from a CSV file: every good row becomes a lead (scored, assigned); bad rows are listed by line.

The header names lead fields (``first_name``, ``email``, ``company``, ...; case and spaces do not
matter, and a few common spellings are understood). Each row is written in its own savepoint, so
one bad row never undoes the others, and the report says which line failed and why (line 1 is
the header, so the first data row is line 2).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.db import transaction

from rapport.core import permissions
from rapport.core.errors import DomainError, ValidationFailed
from rapport.core.models import User
from rapport.sales.models import Lead
from rapport.sales.services_leads import EDITABLE, lead_create

ALIASES = {"firstname": "first_name", "first": "first_name", "given_name": "first_name", "lastname": "last_name",
           "last": "last_name", "surname": "last_name", "family_name": "last_name", "e_mail": "email",
           "email_address": "email", "telephone": "phone", "phone_number": "phone", "organisation": "company",
           "organization": "company", "account": "company", "job_title": "title", "zip": "postal_code",
           "postcode": "postal_code", "zip_code": "postal_code", "state": "region", "size": "employees"}
MAX_ROWS = 100_000


@dataclass
class ImportReport:
    created: int = 0
    lead_ids: list[int] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)  # {"line", "errors": {field: [messages]}}
    ignored_columns: list[str] = field(default_factory=list)


def _column(name: str) -> str:
    key = "_".join(name.strip().lower().replace("-", " ").split())
    return ALIASES.get(key, key)


def leads_import_csv(*, actor: User, text: str, source: str = "import", campaign: str = "") -> ImportReport:
    """Import ``text`` (CSV with a header row) as leads created by ``actor``."""
    permissions.require_model_perm(actor, Lead, "add")
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise ValidationFailed("The file is empty.", field_errors={"file": ["Empty file."]})
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, [])
    columns = [_column(h) for h in header]
    known = [c for c in columns if c in EDITABLE]
    if not known:
        raise ValidationFailed(
            "The header row names no lead field.",
            field_errors={"file": [f"Use column names such as: {', '.join(EDITABLE[:8])}."]})
    report = ImportReport(ignored_columns=[h for h, c in zip(header, columns, strict=False) if c not in EDITABLE])
    for line, row in enumerate(reader, start=2):
        if line - 1 > MAX_ROWS:
            report.errors.append({"line": line, "errors": {"file": [f"Only {MAX_ROWS} rows per file."]}})
            break
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(columns):
            report.errors.append({"line": line, "errors": {"row": [
                f"{len(row)} values for {len(columns)} columns."]}})
            continue
        data = {c: v for c, v in zip(columns, row, strict=False) if c in EDITABLE}
        if "marketing_consent" in data:
            data["marketing_consent"] = data["marketing_consent"].strip().lower() in ("1", "yes", "true", "y")  # type: ignore[assignment]
        try:
            with transaction.atomic():
                lead = lead_create(actor=actor, data=data, source=source, campaign=campaign, channel="import")
        except DomainError as exc:
            report.errors.append({"line": line, "errors": exc.field_errors or {"row": [exc.detail]}})
            continue
        report.created += 1
        report.lead_ids.append(lead.pk)
    return report
