"""Writes on accounts and contacts. Every interface (UI, API, import, CLI, demo) calls these.

Each service runs in one transaction: it validates everything first (collecting every field
error, so a form shows all of them at once), then writes the row, its child rows (emails,
phones, addresses, memberships, tags), the denormalised columns (primary email/phone,
``search_text``) and the audit event. A ``ValidationFailed`` leaves the database untouched.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model

from rapport.core import permissions
from rapport.core.audit import audit_record, diff, snapshot
from rapport.core.custom_fields import custom_values_clean
from rapport.core.errors import NotFound, ValidationFailed, django_validation_to_field_errors
from rapport.core.models import Team, User
from rapport.core.versioning import version_check, versioned_save
from rapport.parties.choices import AddressKind, EmailKind, PhoneKind
from rapport.parties.models import (
    Account,
    AccountMembership,
    Address,
    Contact,
    ContactEmail,
    ContactPhone,
    Tag,
)
from rapport.parties.normalize import domain_from, email_normalize, phone_digits, phone_normalize

CONTACT_SCALARS = (
    "first_name",
    "last_name",
    "title",
    "birthday",
    "language",
    "time_zone",
    "preferred_channel",
    "lifecycle_stage",
    "source",
    "external_id",
)
ACCOUNT_SCALARS = (
    "name",
    "domain",
    "website",
    "industry",
    "size",
    "annual_revenue",
    "currency",
    "phone",
    "tier",
    "description",
    "external_id",
)
ADDRESS_FIELDS = ("kind", "street", "city", "region", "postal_code", "country")


@dataclass
class _Errors:
    fields: dict[str, list[str]] = field(default_factory=dict)

    def add(self, key: str, message: str) -> None:
        self.fields.setdefault(key, []).append(message)

    def merge(self, exc: ValidationFailed) -> None:
        for key, messages in exc.field_errors.items():
            for message in messages:
                self.add(key, message)

    def raise_if_any(self, what: str) -> None:
        if self.fields:
            raise ValidationFailed(f"The {what} is not valid.", field_errors=self.fields)


# --- shared helpers ------------------------------------------------------------------------


def _region() -> str:
    return settings.RAPPORT_DEFAULT_PHONE_REGION


def _parse_emails(raw: Any, errors: _Errors) -> list[dict[str, Any]]:
    """``[{"email", "kind", "is_primary"}]`` from strings or dicts; exactly one primary."""
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw or []):
        data = {"email": entry} if isinstance(entry, str) else dict(entry or {})
        try:
            email = email_normalize(str(data.get("email") or ""))
        except ValueError as exc:
            errors.add(f"emails.{index}", f"{data.get('email')!r} is not a valid email: {exc}.")
            continue
        kind = data.get("kind") or EmailKind.WORK
        if kind not in EmailKind.values:
            errors.add(f"emails.{index}.kind", f"Use one of {', '.join(EmailKind.values)}.")
            continue
        if email in seen:
            continue
        seen.add(email)
        items.append({"email": email, "kind": kind, "is_primary": bool(data.get("is_primary"))})
    _one_primary(items)
    return items


def _parse_phones(raw: Any, errors: _Errors) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw or []):
        data = {"number": entry} if isinstance(entry, str) else dict(entry or {})
        try:
            number = phone_normalize(str(data.get("number") or ""), _region())
        except ValueError as exc:
            errors.add(f"phones.{index}", f"{data.get('number')!r} is not a valid phone number: {exc}.")
            continue
        kind = data.get("kind") or PhoneKind.MOBILE
        if kind not in PhoneKind.values:
            errors.add(f"phones.{index}.kind", f"Use one of {', '.join(PhoneKind.values)}.")
            continue
        if number in seen:
            continue
        seen.add(number)
        items.append({"number": number, "kind": kind, "is_primary": bool(data.get("is_primary"))})
    _one_primary(items)
    return items


def _parse_addresses(raw: Any, errors: _Errors) -> list[dict[str, Any]]:
    items = []
    for index, entry in enumerate(raw or []):
        if not isinstance(entry, dict):
            errors.add(f"addresses.{index}", "An address is an object with street, city, postal_code, country.")
            continue
        data = {name: str(entry.get(name) or "").strip() for name in ADDRESS_FIELDS}
        data["kind"] = data["kind"] or AddressKind.WORK
        data["country"] = data["country"].upper()
        if data["kind"] not in AddressKind.values:
            errors.add(f"addresses.{index}.kind", f"Use one of {', '.join(AddressKind.values)}.")
        if data["country"] and (len(data["country"]) != 2 or not data["country"].isalpha()):
            errors.add(f"addresses.{index}.country", "Use the two-letter ISO 3166 country code.")
        if not any(data[name] for name in ADDRESS_FIELDS if name != "kind"):
            continue
        items.append(data)
    return items


def _one_primary(items: list[dict[str, Any]]) -> None:
    """Keep exactly one primary: the first flagged one, else the first."""
    if not items:
        return
    first = next((i for i, item in enumerate(items) if item["is_primary"]), 0)
    for i, item in enumerate(items):
        item["is_primary"] = i == first


def _tags(names: Iterable[str]) -> list[Tag]:
    clean = sorted({str(name).strip()[:50] for name in names if str(name).strip()})
    existing = {tag.name: tag for tag in Tag.objects.filter(name__in=clean)}
    for name in clean:
        if name not in existing:
            existing[name] = Tag.objects.create(name=name)
    return [existing[name] for name in clean]


def _lookup(actor: User, model: type[Model], pk: Any, key: str, errors: _Errors) -> Any:
    if pk in (None, ""):
        return None
    try:
        return permissions.readable(actor, model._default_manager.all()).get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        errors.add(key, f"There is no {model._meta.verbose_name} {pk} that you can see.")
        return None


def _owner_and_team(
    actor: User, data: dict[str, Any], errors: _Errors, current: Model | None
) -> tuple[User | None, Team | None]:
    owner = getattr(current, "owner", None) if current is not None else actor
    team = getattr(current, "team", None) if current is not None else None
    if "owner_id" in data:
        owner_id = data["owner_id"]
        owner = User.objects.filter(pk=owner_id, is_active=True).first() if owner_id not in (None, "") else None
        if owner_id not in (None, "") and owner is None:
            errors.add("owner_id", f"There is no active user {owner_id}.")
        if "team_id" not in data:
            team = owner.team if owner is not None else None
    if "team_id" in data:
        team_id = data["team_id"]
        team = Team.objects.filter(pk=team_id).first() if team_id not in (None, "") else None
        if team_id not in (None, "") and team is None:
            errors.add("team_id", f"There is no team {team_id}.")
    elif current is None:
        team = owner.team if owner is not None else None
    return owner, team


def _coerce_scalar(model: type[Model], name: str, value: Any, errors: _Errors) -> Any:
    model_field = model._meta.get_field(name)
    if value is None:
        return None if model_field.null else ""
    if model_field.get_internal_type() == "DateField" and isinstance(value, str):
        if not value.strip():
            return None
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            errors.add(name, "Use a date as YYYY-MM-DD.")
            return None
    if model_field.get_internal_type() == "DecimalField" and not isinstance(value, decimal.Decimal):
        if isinstance(value, str) and not value.strip():
            return None
        try:
            number = decimal.Decimal(str(value).strip())
        except decimal.InvalidOperation:
            errors.add(name, "Use a number.")
            return None
        if not number.is_finite():
            errors.add(name, "Use a finite number.")
            return None
        return number
    if isinstance(value, str):
        return value.strip()
    return value


def _full_clean(instance: Model, errors: _Errors, exclude: Iterable[str] = ()) -> None:
    try:
        instance.full_clean(exclude=[*exclude, "tags"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for key, messages in django_validation_to_field_errors(exc).items():
            for message in messages:
                errors.add(key, message)



# --- contacts ------------------------------------------------------------------------------


def contact_search_text(contact: Contact, emails: Iterable[str], phones: Iterable[str], company: str) -> str:
    parts = [contact.first_name, contact.last_name, *emails, *(phone_digits(p) for p in phones), company]
    return " ".join(p for p in parts if p).lower()


def _contact_children_snapshot(contact: Contact) -> dict[str, Any]:
    return {
        "emails": [e.email for e in contact.emails.all()],
        "phones": [p.number for p in contact.phones.all()],
        "addresses": [str(a) for a in contact.addresses.all()],
        "tags": sorted(t.name for t in contact.tags.all()),
        "memberships": [f"{m.account_id}:{m.role}" for m in contact.memberships.all()],
    }


def _contact_apply(actor: User, contact: Contact, data: dict[str, Any], errors: _Errors) -> dict[str, Any]:
    """Set scalar fields on ``contact``; return the parsed child collections to write."""
    for name in CONTACT_SCALARS:
        if name in data:
            setattr(contact, name, _coerce_scalar(Contact, name, data[name], errors))
    owner, team = _owner_and_team(actor, data, errors, contact if contact.pk else None)
    contact.owner, contact.team = owner, team
    children: dict[str, Any] = {}
    if "emails" in data:
        children["emails"] = _parse_emails(data["emails"], errors)
    if "phones" in data:
        children["phones"] = _parse_phones(data["phones"], errors)
    if "addresses" in data:
        children["addresses"] = _parse_addresses(data["addresses"], errors)
    if "tags" in data:
        children["tags"] = list(data["tags"] or [])
    if "account_id" in data:
        account = _lookup(actor, Account, data["account_id"], "account_id", errors)
        children["account"] = account
        children["account_role"] = str(data.get("account_role") or "")
        contact.account = account
    if "reports_to_id" in data:
        boss = _lookup(actor, Contact, data["reports_to_id"], "reports_to_id", errors)
        if boss is not None and contact.pk and _reports_cycle(contact.pk, boss):
            errors.add("reports_to_id", "That would make a reporting loop.")
        contact.reports_to = boss
    if "custom" in data or not contact.pk:
        # A new contact is checked even without custom values: required fields must be there.
        try:
            contact.custom = custom_values_clean(
                Contact, data.get("custom") or {}, current=contact.custom, partial=bool(contact.pk)
            )
        except ValidationFailed as exc:
            errors.merge(exc)
    if not (contact.first_name or contact.last_name) and not children.get("emails") and not contact.email:
        errors.add("last_name", "Give at least a name or an email address.")
    _full_clean(contact, errors, exclude=["account", "reports_to", "owner", "team"])
    return children


def _reports_cycle(contact_id: int, boss: Contact) -> bool:
    seen = set()
    node: Contact | None = boss
    while node is not None and node.pk not in seen:
        if node.pk == contact_id:
            return True
        seen.add(node.pk)
        node = node.reports_to
    return False


def _contact_write_children(contact: Contact, children: dict[str, Any]) -> None:
    if "emails" in children:
        contact.emails.all().delete()
        ContactEmail.objects.bulk_create(ContactEmail(contact=contact, **item) for item in children["emails"])
        contact.email = next((i["email"] for i in children["emails"] if i["is_primary"]), "")
    if "phones" in children:
        contact.phones.all().delete()
        ContactPhone.objects.bulk_create(ContactPhone(contact=contact, **item) for item in children["phones"])
        contact.phone = next((i["number"] for i in children["phones"] if i["is_primary"]), "")
    if "addresses" in children:
        contact.addresses.all().delete()
        Address.objects.bulk_create(Address(contact=contact, **item) for item in children["addresses"])
    if "tags" in children:
        contact.tags.set(_tags(children["tags"]))
    if "account" in children:
        account = children["account"]
        AccountMembership.objects.filter(contact=contact).update(is_primary=False)
        if account is not None:
            AccountMembership.objects.update_or_create(
                contact=contact,
                account=account,
                defaults={"is_primary": True, "role": children["account_role"]},
            )


def _contact_reindex(contact: Contact) -> None:
    company = contact.account.name if contact.account_id else ""
    contact.search_text = contact_search_text(
        contact,
        contact.emails.values_list("email", flat=True),
        contact.phones.values_list("number", flat=True),
        company,
    )


@transaction.atomic
def contact_create(*, actor: User, data: dict[str, Any], context: dict[str, Any] | None = None) -> Contact:
    """Create a contact with its emails, phones, addresses, tags and primary account.

    ``data`` keys: the scalar fields, ``emails``/``phones`` (strings or ``{email|number, kind,
    is_primary}``), ``addresses``, ``tags``, ``custom``, ``account_id`` (+ ``account_role``),
    ``reports_to_id``, ``owner_id``, ``team_id``. The owner defaults to the actor and the team
    to the owner's team.
    """
    permissions.require_model_perm(actor, Contact, "add")
    errors = _Errors()
    contact = Contact(created_by=actor)
    children = _contact_apply(actor, contact, data, errors)
    errors.raise_if_any("contact")
    contact.save()
    _contact_write_children(contact, children)
    _contact_reindex(contact)
    contact.save(update_fields=["email", "phone", "search_text"])
    after = snapshot(contact, extra=_contact_children_snapshot(contact))
    audit_record(
        actor=actor,
        action="create",
        instance=contact,
        changes={k: [None, v] for k, v in after.items() if v not in (None, "", [], {})},
        context=context,
    )
    return contact


@transaction.atomic
def contact_update(
    *,
    actor: User,
    contact: Contact,
    data: dict[str, Any],
    expected_version: int | None,
    context: dict[str, Any] | None = None,
) -> Contact:
    """Change the fields named in ``data`` (a PATCH); others keep their values.

    Refused with ``Conflict`` if the stored version is not ``expected_version`` (``None``:
    the version loaded with ``contact``).
    """
    permissions.check_write(actor, contact, "change")
    before = snapshot(contact, extra=_contact_children_snapshot(contact))
    errors = _Errors()
    children = _contact_apply(actor, contact, data, errors)
    errors.raise_if_any("contact")
    _contact_write_children(contact, children)
    _contact_reindex(contact)
    names = [
        *(n for n in CONTACT_SCALARS),
        "owner",
        "team",
        "account",
        "reports_to",
        "custom",
        "email",
        "phone",
        "search_text",
    ]
    versioned_save(contact, expected_version=expected_version, fields=names)
    changes = diff(before, snapshot(contact, extra=_contact_children_snapshot(contact)))
    if changes:
        audit_record(actor=actor, action="update", instance=contact, changes=changes, context=context)
    return contact


@transaction.atomic
def contact_delete(*, actor: User, contact: Contact, expected_version: int | None = None) -> None:
    permissions.check_write(actor, contact, "delete")
    version_check(contact, expected_version)
    before = snapshot(contact, extra=_contact_children_snapshot(contact))
    audit_record(actor=actor, action="delete", instance=contact, changes={k: [v, None] for k, v in before.items()})
    contact.delete()


# --- accounts ------------------------------------------------------------------------------


def account_search_text(account: Account) -> str:
    parts = [account.name, account.domain, phone_digits(account.phone) if account.phone else ""]
    return " ".join(p for p in parts if p).lower()


def _account_apply(actor: User, account: Account, data: dict[str, Any], errors: _Errors) -> dict[str, Any]:
    for name in ACCOUNT_SCALARS:
        if name in data:
            setattr(account, name, _coerce_scalar(Account, name, data[name], errors))
    if "phone" in data and account.phone:
        try:
            account.phone = phone_normalize(account.phone, _region())
        except ValueError as exc:
            errors.add("phone", f"Not a valid phone number: {exc}.")
    if "website" in data and account.website and "://" not in account.website:
        account.website = "https://" + account.website
    if ("domain" in data or "website" in data) and not data.get("domain"):
        account.domain = domain_from(account.website)
    elif "domain" in data:
        account.domain = domain_from(account.domain)
    if "currency" in data:
        account.currency = (account.currency or settings.RAPPORT_COMPANY_CURRENCY).upper()
        if len(account.currency) != 3 or not account.currency.isalpha():
            errors.add("currency", "Use a three-letter ISO 4217 code.")
    elif not account.pk:
        account.currency = settings.RAPPORT_COMPANY_CURRENCY
    if account.annual_revenue is not None and account.annual_revenue < 0:
        errors.add("annual_revenue", "Revenue cannot be negative.")
    owner, team = _owner_and_team(actor, data, errors, account if account.pk else None)
    account.owner, account.team = owner, team
    if "parent_id" in data:
        parent = _lookup(actor, Account, data["parent_id"], "parent_id", errors)
        if parent is not None and account.pk and _parent_cycle(account.pk, parent):
            errors.add("parent_id", "An account cannot be its own ancestor.")
        account.parent = parent
    children: dict[str, Any] = {}
    if "tags" in data:
        children["tags"] = list(data["tags"] or [])
    if "addresses" in data:
        children["addresses"] = _parse_addresses(data["addresses"], errors)
    if "custom" in data or not account.pk:
        try:
            account.custom = custom_values_clean(
                Account, data.get("custom") or {}, current=account.custom, partial=bool(account.pk)
            )
        except ValidationFailed as exc:
            errors.merge(exc)
    _full_clean(account, errors, exclude=["parent", "owner", "team"])
    return children


def _parent_cycle(account_id: int, parent: Account) -> bool:
    seen = set()
    node: Account | None = parent
    while node is not None and node.pk not in seen:
        if node.pk == account_id:
            return True
        seen.add(node.pk)
        node = node.parent
    return False


def _account_children_snapshot(account: Account) -> dict[str, Any]:
    return {
        "tags": sorted(t.name for t in account.tags.all()),
        "addresses": [str(a) for a in account.addresses.all()],
    }


def _account_write_children(account: Account, children: dict[str, Any]) -> None:
    if "tags" in children:
        account.tags.set(_tags(children["tags"]))
    if "addresses" in children:
        account.addresses.all().delete()
        Address.objects.bulk_create(Address(account=account, **item) for item in children["addresses"])


@transaction.atomic
def account_create(*, actor: User, data: dict[str, Any], context: dict[str, Any] | None = None) -> Account:
    permissions.require_model_perm(actor, Account, "add")
    errors = _Errors()
    account = Account(created_by=actor)
    children = _account_apply(actor, account, data, errors)
    errors.raise_if_any("account")
    account.search_text = account_search_text(account)
    account.save()
    _account_write_children(account, children)
    after = snapshot(account, extra=_account_children_snapshot(account))
    audit_record(
        actor=actor,
        action="create",
        instance=account,
        changes={k: [None, v] for k, v in after.items() if v not in (None, "", [], {})},
        context=context,
    )
    return account


@transaction.atomic
def account_update(
    *,
    actor: User,
    account: Account,
    data: dict[str, Any],
    expected_version: int | None,
    context: dict[str, Any] | None = None,
) -> Account:
    permissions.check_write(actor, account, "change")
    before = snapshot(account, extra=_account_children_snapshot(account))
    old_name = account.name
    errors = _Errors()
    children = _account_apply(actor, account, data, errors)
    errors.raise_if_any("account")
    account.search_text = account_search_text(account)
    versioned_save(
        account,
        expected_version=expected_version,
        fields=[*ACCOUNT_SCALARS, "owner", "team", "parent", "custom", "search_text"],
    )
    _account_write_children(account, children)
    if account.name != old_name:
        _contacts_reindex_for_account(account)
    changes = diff(before, snapshot(account, extra=_account_children_snapshot(account)))
    if changes:
        audit_record(actor=actor, action="update", instance=account, changes=changes, context=context)
    return account


def _contacts_reindex_for_account(account: Account) -> None:
    """A renamed company changes its contacts' search text (batched, bounded memory)."""
    contacts = Contact.objects.filter(account=account).prefetch_related("emails", "phones")
    batch = []
    for contact in contacts.iterator(chunk_size=500):
        contact.account = account
        contact.search_text = contact_search_text(
            contact, [e.email for e in contact.emails.all()], [p.number for p in contact.phones.all()], account.name
        )
        batch.append(contact)
        if len(batch) >= 500:
            Contact.objects.bulk_update(batch, ["search_text"])
            batch = []
    if batch:
        Contact.objects.bulk_update(batch, ["search_text"])


@transaction.atomic
def account_delete(*, actor: User, account: Account, expected_version: int | None = None) -> None:
    permissions.check_write(actor, account, "delete")
    version_check(account, expected_version)
    before = snapshot(account, extra=_account_children_snapshot(account))
    audit_record(actor=actor, action="delete", instance=account, changes={k: [v, None] for k, v in before.items()})
    account.delete()


# --- bulk actions (list pages) -------------------------------------------------------------


def _bulk_targets(actor: User, model: type[Contact] | type[Account], ids: list[int], action: str) -> list[Any]:
    permissions.require_model_perm(actor, model, action)
    rows = list(permissions.writable(actor, model._default_manager.filter(pk__in=ids)))
    if len(rows) != len(set(ids)):
        raise NotFound(f"Some of the selected {model._meta.verbose_name_plural} are not yours to {action}.")
    return rows


def _update_one(actor: User, row: Contact | Account, data: dict[str, Any]) -> None:
    if isinstance(row, Contact):
        contact_update(actor=actor, contact=row, data=data, expected_version=None, context={"bulk": True})
    else:
        account_update(actor=actor, account=row, data=data, expected_version=None, context={"bulk": True})


@transaction.atomic
def parties_bulk_assign(*, actor: User, model: type[Contact] | type[Account], ids: list[int], owner_id: int) -> int:
    """Give the selected records to ``owner_id`` (and that user's team). All or nothing."""
    rows = _bulk_targets(actor, model, ids, "change")
    for row in rows:
        _update_one(actor, row, {"owner_id": owner_id})
    return len(rows)


@transaction.atomic
def parties_bulk_tag(*, actor: User, model: type[Contact] | type[Account], ids: list[int], tag: str) -> int:
    """Add ``tag`` to the selected records (those that have it already are left alone)."""
    rows = _bulk_targets(actor, model, ids, "change")
    tag = tag.strip()
    for row in rows:
        names = [t.name for t in row.tags.all()]
        if tag and tag not in names:
            _update_one(actor, row, {"tags": [*names, tag]})
    return len(rows)


@transaction.atomic
def parties_bulk_delete(*, actor: User, model: type[Contact] | type[Account], ids: list[int]) -> int:
    rows = _bulk_targets(actor, model, ids, "delete")
    for row in rows:
        if isinstance(row, Contact):
            contact_delete(actor=actor, contact=row)
        else:
            account_delete(actor=actor, account=row)
    return len(rows)


# --- scores from the analytical layer ----------------------------------------------------------

SCORE_BATCH = 2_000


def party_scores_set(*, rows: Iterable[tuple[int, str, str, str]], batch_size: int = SCORE_BATCH) -> int:
    """Store the scores the insights job computed: ``(account id, value_segment, value_tier, churn_risk)``.

    One ``UPDATE … FROM (VALUES …)`` per batch (SQLite ≥ 3.33 and PostgreSQL share the SQL: both name
    the VALUES columns ``column1..4``), writing only accounts whose scores changed, so a re-run with
    the same results writes nothing. Derived data: ``updated_at``/``version`` are left alone (a score
    is not an edit, and the warehouse's incremental refresh must not see every account as changed)
    and no audit event is written. Unknown ids are skipped. Returns the number of accounts changed.
    """
    from django.db import connection

    table = connection.ops.quote_name(Account._meta.db_table)
    changed = 0
    batch: list[tuple[int, str, str, str]] = []

    def flush() -> int:
        if not batch:
            return 0
        values = ", ".join(["(%s, %s, %s, %s)"] * len(batch))
        params = [value for row in batch for value in row]
        sql = (
            f"UPDATE {table} SET value_segment = v.column2, value_tier = v.column3, churn_risk = v.column4 "
            f"FROM (VALUES {values}) AS v WHERE {table}.id = v.column1 AND ({table}.value_segment <> v.column2 "
            f"OR {table}.value_tier <> v.column3 OR {table}.churn_risk <> v.column4)"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            count = cursor.rowcount
        batch.clear()
        return max(count, 0)

    with transaction.atomic():
        for account_id, segment, tier, risk in rows:
            batch.append((int(account_id), segment or "", tier or "", risk or ""))
            if len(batch) >= batch_size:
                changed += flush()
        changed += flush()
    return changed
