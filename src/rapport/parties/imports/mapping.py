"""Which file column feeds which field: the field catalogue, header recognition, validation.

A mapping is ``{file column: field}``; the field ``""`` ignores the column. Fields are the
names below, or ``custom.<key>`` for an admin-defined custom field. Known exports are
recognised by their headers: Google Contacts (old "Given Name …" and new "First Name … E-mail 1
- Value") and Outlook ("E-mail Address", "Mobile Phone", "Business Phone" …).
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

from rapport.core.custom_fields import custom_field_definitions
from rapport.core.errors import ValidationFailed
from rapport.parties.choices import ImportKind, MatchKey
from rapport.parties.models import Account, Contact

CONTACT_FIELDS: dict[str, object] = {
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "full_name": _("Full name (split into first and last)"),
    "title": _("Job title"),
    "email": _("Email"),
    "email_2": _("Email 2"),
    "email_3": _("Email 3"),
    "phone": _("Phone"),
    "phone_2": _("Phone 2"),
    "phone_3": _("Phone 3"),
    "company": _("Company (account)"),
    "birthday": _("Birthday"),
    "language": _("Language"),
    "time_zone": _("Time zone"),
    "preferred_channel": _("Preferred channel"),
    "lifecycle_stage": _("Lifecycle stage"),
    "source": _("Source"),
    "external_id": _("External id"),
    "tags": _("Tags"),
}
ACCOUNT_FIELDS: dict[str, object] = {
    "name": _("Name"),
    "domain": _("Domain"),
    "website": _("Website"),
    "industry": _("Industry"),
    "size": _("Size"),
    "annual_revenue": _("Annual revenue"),
    "currency": _("Currency"),
    "phone": _("Phone"),
    "tier": _("Tier"),
    "description": _("Description"),
    "external_id": _("External id"),
    "tags": _("Tags"),
}
CONTACT_MATCH_KEYS = (MatchKey.EMAIL, MatchKey.PHONE, MatchKey.EXTERNAL_ID)
ACCOUNT_MATCH_KEYS = (MatchKey.NAME, MatchKey.DOMAIN, MatchKey.EXTERNAL_ID)

# Normalised header (lower case, letters and digits only) → field.
_CONTACT_SYNONYMS = {
    "firstname": "first_name",
    "givenname": "first_name",
    "first": "first_name",
    "forename": "first_name",
    "vorname": "first_name",
    "prenom": "first_name",
    "lastname": "last_name",
    "familyname": "last_name",
    "surname": "last_name",
    "last": "last_name",
    "nachname": "last_name",
    "nom": "last_name",
    "name": "full_name",
    "fullname": "full_name",
    "displayname": "full_name",
    "title": "title",
    "jobtitle": "title",
    "position": "title",
    "organization1title": "title",
    "organizationtitle": "title",
    "email": "email",
    "emailaddress": "email",
    "mail": "email",
    "email1value": "email",
    "email1": "email",
    "email2address": "email_2",
    "email2value": "email_2",
    "email2": "email_2",
    "email3address": "email_3",
    "email3value": "email_3",
    "email3": "email_3",
    "phone": "phone",
    "phonenumber": "phone",
    "telephone": "phone",
    "tel": "phone",
    "mobile": "phone",
    "mobilephone": "phone",
    "phone1value": "phone",
    "phone1": "phone",
    "businessphone": "phone_2",
    "phone2value": "phone_2",
    "phone2": "phone_2",
    "homephone": "phone_3",
    "phone3value": "phone_3",
    "phone3": "phone_3",
    "company": "company",
    "companyname": "company",
    "organization": "company",
    "organisation": "company",
    "organization1name": "company",
    "organizationname": "company",
    "account": "company",
    "accountname": "company",
    "birthday": "birthday",
    "birthdate": "birthday",
    "dateofbirth": "birthday",
    "language": "language",
    "timezone": "time_zone",
    "preferredchannel": "preferred_channel",
    "lifecyclestage": "lifecycle_stage",
    "stage": "lifecycle_stage",
    "source": "source",
    "leadsource": "source",
    "externalid": "external_id",
    "id": "external_id",
    "uid": "external_id",
    "tags": "tags",
    "labels": "tags",
    "fullname2": "full_name",
}
_ACCOUNT_SYNONYMS = {
    "name": "name",
    "accountname": "name",
    "company": "name",
    "companyname": "name",
    "organization": "name",
    "organisation": "name",
    "domain": "domain",
    "website": "website",
    "web": "website",
    "url": "website",
    "industry": "industry",
    "size": "size",
    "employees": "size",
    "annualrevenue": "annual_revenue",
    "revenue": "annual_revenue",
    "currency": "currency",
    "phone": "phone",
    "telephone": "phone",
    "tier": "tier",
    "description": "description",
    "externalid": "external_id",
    "id": "external_id",
    "tags": "tags",
}
_GENERIC = {"title", "name", "phone", "email", "mobile", "company", "id"}
_NON_ALNUM = re.compile(r"[^a-z0-9]")


def _norm(header: str) -> str:
    return _NON_ALNUM.sub("", header.lower())


def detect_source(headers: list[str], file_format: str) -> str:
    """``vcard``, ``google``, ``outlook`` or ``csv``: the exporter the headers give away."""
    if file_format == "vcard":
        return "vcard"
    names = set(headers)
    if "E-mail 1 - Value" in names or "Given Name" in names or "Organization 1 - Name" in names:
        return "google"
    if "E-mail Address" in names and ("Mobile Phone" in names or "Business Phone" in names or "Company" in names):
        return "outlook"
    return "csv"


def field_choices(kind: str) -> dict[str, object]:
    """Every mappable field of ``kind``: built-ins, then ``custom.<key>`` per custom field."""
    model = Contact if kind == ImportKind.CONTACTS else Account
    fields = dict(CONTACT_FIELDS if kind == ImportKind.CONTACTS else ACCOUNT_FIELDS)
    for definition in custom_field_definitions(model):
        fields[f"custom.{definition.key}"] = definition.label
    return fields


def suggest_mapping(kind: str, headers: list[str]) -> dict[str, str]:
    """Guess the field of each column; a field is given to at most one column (the first)."""
    synonyms = _CONTACT_SYNONYMS if kind == ImportKind.CONTACTS else _ACCOUNT_SYNONYMS
    custom = {key.split(".", 1)[1]: key for key in field_choices(kind) if key.startswith("custom.")}
    taken: set[str] = set()
    mapping: dict[str, str] = dict.fromkeys(headers, "")
    # Specific headers first ("Job Title" beats Outlook's honorific "Title"), generic ones after.
    for generic_pass in (False, True):
        for header in headers:
            norm = _norm(header)
            if (norm in _GENERIC) != generic_pass:
                continue
            field = synonyms.get(norm, "")
            if not field:
                for key, full in custom.items():
                    if _norm(key) == norm:
                        field = full
            if field and field not in taken:
                taken.add(field)
                mapping[header] = field
    # "Name" means the full name only when no first/last name column exists.
    if kind == ImportKind.CONTACTS and "full_name" in taken and {"first_name", "last_name"} & taken:
        for header, field in mapping.items():
            if field == "full_name":
                mapping[header] = ""
    return mapping


def mapping_validate(*, kind: str, headers: list[str], mapping: dict[str, str], match_key: str) -> dict[str, str]:
    """Check ``mapping`` against the file and the field catalogue; return it complete.

    Columns not named in ``mapping`` are ignored. Raises ``ValidationFailed`` naming every problem.
    """
    fields = field_choices(kind)
    errors: dict[str, list[str]] = {}
    allowed_keys = CONTACT_MATCH_KEYS if kind == ImportKind.CONTACTS else ACCOUNT_MATCH_KEYS
    if match_key not in allowed_keys:
        errors["match_key"] = [f"Use one of: {', '.join(str(k) for k in allowed_keys)}."]
    complete: dict[str, str] = {}
    seen: dict[str, str] = {}
    for column, field in mapping.items():
        if column not in headers:
            errors.setdefault("mapping", []).append(f"The file has no column {column!r}.")
            continue
        field = (field or "").strip()
        if field and field not in fields:
            errors.setdefault("mapping", []).append(f"{column!r}: there is no field {field!r}.")
            continue
        if field and field in seen:
            errors.setdefault("mapping", []).append(f"{column!r} and {seen[field]!r} both map to {field}.")
            continue
        if field:
            seen[field] = column
        complete[column] = field
    for header in headers:
        complete.setdefault(header, "")
    key_field = {"email": "email", "phone": "phone", "external_id": "external_id", "name": "name", "domain": "domain"}
    needed = key_field.get(match_key)
    if needed and "match_key" not in errors:
        mapped = set(complete.values())
        ok = needed in mapped or (needed == "domain" and "website" in mapped)
        if not ok:
            errors["match_key"] = [f"Matching on {match_key} needs a column mapped to {needed}."]
    if kind == ImportKind.ACCOUNTS and "name" not in complete.values() and "match_key" not in errors:
        errors.setdefault("mapping", []).append("Map a column to the account name.")
    if errors:
        raise ValidationFailed("The column mapping is not valid.", field_errors=errors)
    return complete
