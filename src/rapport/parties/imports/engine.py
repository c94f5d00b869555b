"""Batch matching and writing: a batch of valid rows → created, updated, unchanged or rejected.

Per batch (``BATCH_SIZE`` rows), in one transaction:

1. rows whose match key repeats an earlier row of the batch wait for the next batch, where
   the first one is already in the database: within-file duplicates need no file-wide set;
2. one query per batch finds existing rows by the match key on indexed columns
   (``ContactEmail.email``, ``ContactPhone.number``, ``external_id``, ``lower(name)``, ``domain``);
   a key that matches several rows is rejected as ambiguous;
3. new rows are inserted in bulk (``COPY`` on PostgreSQL) with their child rows and one create
   audit event each; matched rows (upsert mode) are compared field by field and only the
   changed ones are written, with an optimistic version check and an audit event holding the
   changed fields only. A changed row the actor may not write (``permissions.writable``) is
   rejected, never silently changed. Empty cells never blank stored values.

So importing the same file twice writes nothing the second time: every row is "unchanged".
A dry run does steps 1–3 without writing (duplicates across batches then count as new).

Contact imports with a duplicate stage (``imports.duplicates.DuplicateStage``) also match the
rows about to be created against existing contacts and each other: before the batch's
transaction (reads and scoring only; in skip mode the probable duplicates leave the batch), and
after its rows are written, in the same transaction, merges and review-queue pairs.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from rapport.core import permissions
from rapport.core.audit import audit_record, diff, snapshot
from rapport.core.custom_fields import custom_values_clean
from rapport.core.errors import PermissionDenied, ValidationFailed
from rapport.core.models import AuditEvent, CustomFieldDefinition, User
from rapport.parties.choices import EmailKind, ImportMode, LifecycleStage, PhoneKind
from rapport.parties.imports.duplicates import DuplicateStage, Screened
from rapport.parties.imports.errors import RowError
from rapport.parties.imports.records import RAW_EXCERPT
from rapport.parties.imports.rows import Prepared
from rapport.parties.imports.writer import insert, insert_returning_ids
from rapport.parties.models import Account, AccountMembership, Contact, ContactEmail, ContactPhone, Tag
from rapport.parties.services import account_search_text, contact_search_text

BATCH_SIZE = 5000

CONTACT_COLUMNS = (
    "first_name",
    "last_name",
    "title",
    "email",
    "phone",
    "account_id",
    "birthday",
    "language",
    "time_zone",
    "preferred_channel",
    "lifecycle_stage",
    "source",
    "external_id",
    "custom",
    "search_text",
    "owner_id",
    "team_id",
    "created_by_id",
    "created_at",
    "updated_at",
    "version",
)
_CONTACT_TEXT = ("first_name", "last_name", "title", "language", "time_zone", "preferred_channel", "source")
ACCOUNT_COLUMNS = (
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
    "custom",
    "search_text",
    "owner_id",
    "team_id",
    "created_by_id",
    "created_at",
    "updated_at",
    "version",
)
_ACCOUNT_TEXT = ("domain", "website", "industry", "size", "phone", "tier", "description", "external_id")
AUDIT_COLUMNS = ("at", "actor_id", "action", "content_type_id", "object_id", "object_repr", "changes", "context")


@dataclass
class Counts:
    processed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    merged: int = 0  # rows created and then merged into an existing contact (not in ``created``)
    queued: int = 0  # pairs sent to the review queue
    skipped: int = 0  # rows not imported as probable duplicates


class _Names:
    """The two attributes ``contact_search_text`` reads, without building a model instance."""

    __slots__ = ("first_name", "last_name")

    def __init__(self, first_name: str, last_name: str) -> None:
        self.first_name, self.last_name = first_name, last_name


def _json(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _created_changes(values: dict[str, Any]) -> dict[str, list[Any]]:
    """The create audit's ``{field: [None, value]}`` for non-empty values, as ``snapshot`` keys them."""
    out: dict[str, list[Any]] = {}
    for key, value in values.items():
        if key == "custom":
            for ckey, cvalue in value.items():
                out[f"custom.{ckey}"] = [None, _json(cvalue)]
        elif value not in (None, "", [], {}):
            out[key] = [None, _json(value)]
    return out


class Engine:
    """Shared life of a batch. Subclasses say how to match, create and update one kind."""

    model: type[Contact] | type[Account]

    def __init__(
        self,
        *,
        actor: User,
        owner: User,
        job_id: int,
        mode: str,
        match_key: str,
        dry_run: bool,
        custom_definitions: list[CustomFieldDefinition],
        report: Any,
        duplicates: DuplicateStage | None = None,
        on_stage: Callable[[str], None] | None = None,
    ) -> None:
        self.actor, self.owner, self.job_id = actor, owner, job_id
        self.mode, self.match_key, self.dry_run = mode, match_key, dry_run
        self.custom_definitions = custom_definitions
        self.report = report  # callable(list[RowError])
        self.counts = Counts()
        self.carry: list[Prepared] = []
        self.context = {"import_job": job_id}
        self.content_type_id = ContentType.objects.get_for_model(self.model).pk
        self.duplicates = duplicates
        self.on_stage = on_stage or (lambda stage: None)

    # --- driver ----------------------------------------------------------------------------

    def process(self, rows: list[Prepared]) -> None:
        rows, self.carry = self.carry + rows, []
        unique: dict[str, Prepared] = {}
        for row in rows:
            if row.key in unique:
                self.carry.append(row)
            else:
                unique[row.key] = row
        if not unique:
            return
        matches = self.lookup(list(unique))
        creates: list[Prepared] = []
        updates: list[tuple[Prepared, int]] = []
        for key, row in unique.items():
            ids = matches.get(key, [])
            if not ids:
                creates.append(row)
            elif len(ids) > 1:
                self.reject(row, "", f"The {self.match_key} {key!r} matches {len(ids)} records; match on another key.")
            else:
                updates.append((row, ids[0]))
        screened = None
        if self.duplicates is not None and creates:
            self.on_stage("matching")
            screened = self.duplicates.match(creates)
            creates = screened.rows
            self.counts.skipped = self.duplicates.skipped
            self.on_stage("import")
        if self.dry_run:
            self.after_create(screened, self.create(creates))
            self.update(updates)
            return
        with transaction.atomic():
            self.after_create(screened, self.create(creates))
            self.update(updates)

    def after_create(self, screened: Screened | None, created: dict[int, int | None]) -> None:
        if screened is None or self.duplicates is None:
            return
        merged = self.duplicates.apply(screened, created)
        self.counts.created -= merged
        self.counts.merged += merged
        self.counts.queued = self.duplicates.queued

    def finish(self) -> None:
        """Process rows still waiting because of in-file duplicates."""
        guard = 0
        while self.carry and guard < 1_000_000:
            self.process([])
            guard += 1

    def reject(self, row: Prepared, column: str, reason: str) -> None:
        self.counts.rejected += 1
        self.report([RowError(row.line, column, reason, row.raw[:RAW_EXCERPT])])

    def custom_for_create(self, row: Prepared) -> dict[str, Any] | None:
        if not self.custom_definitions:
            return {}
        try:
            return custom_values_clean(self.model, row.custom, definitions=self.custom_definitions)
        except ValidationFailed as exc:
            column, messages = next(iter(exc.field_errors.items()))
            self.reject(row, column, " ".join(messages))
            return None

    def audit_created(self, ids: list[int], reprs: list[str], changes: list[dict[str, Any]]) -> None:
        now = timezone.now()
        actor_id = self.actor.pk
        rows = [
            (now, actor_id, "create", self.content_type_id, object_id, rep[:200], change, self.context)
            for object_id, rep, change in zip(ids, reprs, changes, strict=True)
        ]
        insert(AuditEvent, AUDIT_COLUMNS, rows)

    def lookup(self, keys: list[str]) -> dict[str, list[int]]:
        raise NotImplementedError

    def create(self, rows: list[Prepared]) -> dict[int, int | None]:
        """Insert ``rows``; returns index in ``rows`` → new id (``None`` in a dry run) of each row kept."""
        raise NotImplementedError

    def update(self, pairs: list[tuple[Prepared, int]]) -> None:
        raise NotImplementedError

    def writable_ids(self, ids: Iterable[int]) -> set[int]:
        return set(
            permissions.writable(self.actor, self.model._default_manager.filter(pk__in=list(ids))).values_list(
                "pk", flat=True
            )
        )

    def versioned_write(self, obj: Any, fields: list[str], row: Prepared) -> bool:
        values = {
            self.model._meta.get_field(f).attname: getattr(obj, self.model._meta.get_field(f).attname) for f in fields
        }
        done = self.model._default_manager.filter(pk=obj.pk, version=obj.version).update(
            **values, version=obj.version + 1, updated_at=timezone.now()
        )
        if not done:
            self.reject(row, "", f"Record #{obj.pk} was changed by someone else during the import; import it again.")
            return False
        obj.version += 1
        return True


def _group(pairs: Iterable[tuple[str, int]]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for key, pk in pairs:
        ids = out.setdefault(key, [])
        if pk not in ids:
            ids.append(pk)
    return out


class ContactEngine(Engine):
    model = Contact

    def lookup(self, keys: list[str]) -> dict[str, list[int]]:
        if self.match_key == "email":
            pairs = ContactEmail.objects.filter(email__in=keys).values_list("email", "contact_id")
        elif self.match_key == "phone":
            pairs = ContactPhone.objects.filter(number__in=keys).values_list("number", "contact_id")
        else:
            pairs = Contact.objects.filter(external_id__in=keys).values_list("external_id", "id")
        return _group(pairs)

    # --- accounts named in the company column ----------------------------------------------

    def accounts_for(self, rows: list[Prepared]) -> dict[str, tuple[int | None, str]]:
        """``lower(name) → (account id, name)``: readable accounts found by name, or created.

        Rows naming a company that does not exist, when the actor may not create accounts,
        are rejected (and removed from ``rows``).
        """
        names = {row.company.lower(): row.company for row in rows if row.company}
        if not names:
            return {}
        found: dict[str, tuple[int | None, str]] = {}
        try:
            qs = permissions.readable(self.actor, Account.objects.all())
        except PermissionDenied:
            qs = Account.objects.none()
        for lname, pk, name in (
            qs.annotate(lname=Lower("name"))
            .filter(lname__in=list(names))
            .order_by("id")
            .values_list("lname", "id", "name")
        ):
            found.setdefault(lname, (pk, name))
        missing = [lname for lname in names if lname not in found]
        if missing and not self.actor.has_perm("parties.add_account"):
            for row in list(rows):
                if row.company and row.company.lower() in missing:
                    rows.remove(row)
                    self.reject(
                        row, "", f"There is no account {row.company!r} you can see, and you may not create one."
                    )
            return found
        if missing and self.dry_run:
            found.update({lname: (None, names[lname]) for lname in missing})
            return found
        if missing:
            now = timezone.now()
            values = []
            for lname in missing:
                name = names[lname]
                values.append(
                    (
                        name,
                        "",
                        "",
                        "",
                        "",
                        None,
                        settings.RAPPORT_COMPANY_CURRENCY,
                        "",
                        "",
                        "",
                        "",
                        {},
                        account_search_text(Account(name=name)),
                        self.owner.pk,
                        self.owner.team_id,
                        self.actor.pk,
                        now,
                        now,
                        1,
                    )
                )
            ids = insert_returning_ids(Account, ACCOUNT_COLUMNS, values)
            ct = ContentType.objects.get_for_model(Account).pk
            insert(
                AuditEvent,
                AUDIT_COLUMNS,
                [
                    (
                        now,
                        self.actor.pk,
                        "create",
                        ct,
                        pk,
                        names[lname][:200],
                        _created_changes(
                            {
                                "id": pk,
                                "name": names[lname],
                                "currency": settings.RAPPORT_COMPANY_CURRENCY,
                                "owner_id": self.owner.pk,
                                "team_id": self.owner.team_id,
                            }
                        ),
                        self.context,
                    )
                    for pk, lname in zip(ids, missing, strict=True)
                ],
            )
            found.update({lname: (pk, names[lname]) for pk, lname in zip(ids, missing, strict=True)})
        return found

    # --- create ----------------------------------------------------------------------------

    def create(self, rows: list[Prepared]) -> dict[int, int | None]:
        if not rows:
            return {}
        positions = {id(row): index for index, row in enumerate(rows)}
        accounts = self.accounts_for(rows)
        now = timezone.now()
        owner_id, team_id, actor_id = self.owner.pk, self.owner.team_id, self.actor.pk
        values: list[tuple[Any, ...]] = []
        kept: list[Prepared] = []
        companies: list[tuple[int | None, str]] = []
        for row in rows:
            s = row.scalars
            if not (s.get("first_name") or s.get("last_name") or row.emails):
                # Matched rows may be sparse; a new contact needs something to be known by.
                self.reject(row, "", "A new contact needs a name or an email address.")
                continue
            custom = self.custom_for_create(row)
            if custom is None:
                continue
            first, last = s.get("first_name", ""), s.get("last_name", "")
            account_id, company = accounts.get(row.company.lower(), (None, "")) if row.company else (None, "")
            search = contact_search_text(_Names(first, last), row.emails, row.phones, company)  # type: ignore[arg-type]
            values.append(
                (
                    first,
                    last,
                    s.get("title", ""),
                    row.emails[0] if row.emails else "",
                    row.phones[0] if row.phones else "",
                    account_id,
                    s.get("birthday"),
                    s.get("language", ""),
                    s.get("time_zone", ""),
                    s.get("preferred_channel", ""),
                    s.get("lifecycle_stage", LifecycleStage.PROSPECT),
                    s.get("source", ""),
                    s.get("external_id", ""),
                    custom,
                    search,
                    owner_id,
                    team_id,
                    actor_id,
                    now,
                    now,
                    1,
                )
            )
            kept.append(row)
            companies.append((account_id, company))
        self.counts.created += len(kept)
        if self.dry_run or not kept:
            return {positions[id(row)]: None for row in kept}
        ids = insert_returning_ids(Contact, CONTACT_COLUMNS, values)
        emails, phones, members, tag_links = [], [], [], []
        tag_ids = self.tag_ids({name for row in kept for name in row.tags})
        reprs, changes = [], []
        for pk, row, value, (account_id, _company) in zip(ids, kept, values, companies, strict=True):
            emails += [(pk, e, EmailKind.WORK, i == 0) for i, e in enumerate(row.emails)]
            phones += [(pk, p, PhoneKind.MOBILE, i == 0) for i, p in enumerate(row.phones)]
            if account_id is not None:
                members.append((pk, account_id, "", True, now))
            tag_links += [(pk, tag_ids[name]) for name in row.tags]
            after = dict(zip(CONTACT_COLUMNS[:14], value[:14], strict=True))
            after.update(
                id=pk, owner_id=owner_id, team_id=team_id, emails=row.emails, phones=row.phones, tags=sorted(row.tags)
            )
            changes.append(_created_changes(after))
            reprs.append(" ".join(p for p in (value[0], value[1]) if p) or value[3] or f"#{pk}")
        insert(ContactEmail, ("contact_id", "email", "kind", "is_primary"), emails)
        insert(ContactPhone, ("contact_id", "number", "kind", "is_primary"), phones)
        insert(AccountMembership, ("contact_id", "account_id", "role", "is_primary", "created_at"), members)
        insert(Contact.tags.through, ("contact_id", "tag_id"), tag_links)
        self.audit_created(ids, reprs, changes)
        return {positions[id(row)]: pk for row, pk in zip(kept, ids, strict=True)}

    def tag_ids(self, names: set[str]) -> dict[str, int]:
        if not names:
            return {}
        existing = dict(Tag.objects.filter(name__in=names).values_list("name", "id"))
        missing = [n for n in sorted(names) if n not in existing]
        if missing and not self.dry_run:
            Tag.objects.bulk_create([Tag(name=n) for n in missing], ignore_conflicts=True)
            existing = dict(Tag.objects.filter(name__in=names).values_list("name", "id"))
        return existing

    # --- update ----------------------------------------------------------------------------

    def update(self, pairs: list[tuple[Prepared, int]]) -> None:
        if not pairs:
            return
        if self.mode == ImportMode.CREATE_ONLY:
            # Create-only leaves existing records as they are: reported as unchanged.
            self.counts.unchanged += len(pairs)
            return
        contacts = (
            Contact.objects.select_related("account")
            .prefetch_related("emails", "phones", "tags")
            .in_bulk([pk for _row, pk in pairs])
        )
        allowed = self.writable_ids(contacts)
        accounts = self.accounts_for([row for row, _pk in pairs])
        for row, pk in pairs:
            contact = contacts[pk]
            self.update_one(row, contact, accounts, allowed=pk in allowed)

    def update_one(self, row: Prepared, contact: Contact, accounts: dict[str, Any], *, allowed: bool) -> None:
        emails = [e.email for e in contact.emails.all()]
        phones = [p.number for p in contact.phones.all()]
        tags = sorted(t.name for t in contact.tags.all())
        before = snapshot(contact, extra={"emails": emails, "phones": phones, "tags": tags})
        for name, value in row.scalars.items():
            setattr(contact, name, value)
        new_emails = [e for e in row.emails if e not in emails]
        new_phones = [p for p in row.phones if p not in phones]
        new_tags = [t for t in row.tags if t not in tags]
        if new_emails and not contact.email:
            contact.email = new_emails[0]
        if new_phones and not contact.phone:
            contact.phone = new_phones[0]
        company = contact.account.name if contact.account_id else ""
        account_changed = False
        if row.company and row.company.lower() in accounts:
            account_id, company_name = accounts[row.company.lower()]
            if account_id is None or account_id != contact.account_id:
                contact.account_id, company, account_changed = account_id, company_name, True
        if row.custom:
            contact.custom = {**contact.custom, **row.custom}
        after = snapshot(
            contact,
            extra={"emails": emails + new_emails, "phones": phones + new_phones, "tags": sorted(tags + new_tags)},
        )
        changes = diff(before, after)
        if not changes:
            self.counts.unchanged += 1
            return
        if not allowed:
            self.reject(row, "", f"It matches contact #{contact.pk}, which you may see but not change.")
            return
        if self.dry_run:
            self.counts.updated += 1
            return
        contact.search_text = contact_search_text(contact, emails + new_emails, phones + new_phones, company)
        fields = [*row.scalars, "email", "phone", "account", "custom", "search_text"]
        if not self.versioned_write(contact, fields, row):
            return
        ContactEmail.objects.bulk_create(
            [
                ContactEmail(contact=contact, email=e, is_primary=e == contact.email and e not in emails)
                for e in new_emails
            ]
        )
        ContactPhone.objects.bulk_create(
            [
                ContactPhone(contact=contact, number=p, is_primary=p == contact.phone and p not in phones)
                for p in new_phones
            ]
        )
        if account_changed:
            AccountMembership.objects.filter(contact=contact).update(is_primary=False)
            AccountMembership.objects.update_or_create(
                contact=contact, account_id=contact.account_id, defaults={"is_primary": True}
            )
        if new_tags:
            tag_ids = self.tag_ids(set(new_tags))
            Contact.tags.through.objects.bulk_create(
                [Contact.tags.through(contact_id=contact.pk, tag_id=tag_ids[t]) for t in new_tags],
                ignore_conflicts=True,
            )
        audit_record(actor=self.actor, action="update", instance=contact, changes=changes, context=self.context)
        self.counts.updated += 1


class AccountEngine(Engine):
    model = Account

    def lookup(self, keys: list[str]) -> dict[str, list[int]]:
        if self.match_key == "name":
            pairs = Account.objects.annotate(lname=Lower("name")).filter(lname__in=keys).values_list("lname", "id")
        elif self.match_key == "domain":
            pairs = Account.objects.filter(domain__in=keys).values_list("domain", "id")
        else:
            pairs = Account.objects.filter(external_id__in=keys).values_list("external_id", "id")
        return _group(pairs)

    def create(self, rows: list[Prepared]) -> dict[int, int | None]:
        values, kept = [], []
        now = timezone.now()
        for row in rows:
            custom = self.custom_for_create(row)
            if custom is None:
                continue
            s = row.scalars
            account = Account(name=s["name"], domain=s.get("domain", ""), phone=s.get("phone", ""))
            values.append(
                (
                    s["name"],
                    *(s.get(n, "") for n in ("domain", "website", "industry", "size")),
                    s.get("annual_revenue"),
                    s.get("currency", settings.RAPPORT_COMPANY_CURRENCY),
                    *(s.get(n, "") for n in ("phone", "tier", "description", "external_id")),
                    custom,
                    account_search_text(account),
                    self.owner.pk,
                    self.owner.team_id,
                    self.actor.pk,
                    now,
                    now,
                    1,
                )
            )
            kept.append(row)
        self.counts.created += len(kept)
        if self.dry_run or not kept:
            return {}
        ids = insert_returning_ids(Account, ACCOUNT_COLUMNS, values)
        tag_ids = ContactEngine.tag_ids(self, {t for row in kept for t in row.tags})  # type: ignore[arg-type]
        insert(
            Account.tags.through,
            ("account_id", "tag_id"),
            [(pk, tag_ids[t]) for pk, row in zip(ids, kept, strict=True) for t in row.tags],
        )
        changes = []
        for pk, row, value in zip(ids, kept, values, strict=True):
            after = dict(zip(ACCOUNT_COLUMNS[:12], value[:12], strict=True))
            after.update(id=pk, owner_id=self.owner.pk, team_id=self.owner.team_id, tags=sorted(row.tags))
            changes.append(_created_changes(after))
        self.audit_created(ids, [v[0] for v in values], changes)
        return {}

    def update(self, pairs: list[tuple[Prepared, int]]) -> None:
        if not pairs:
            return
        if self.mode == ImportMode.CREATE_ONLY:
            self.counts.unchanged += len(pairs)
            return
        accounts = Account.objects.prefetch_related("tags").in_bulk([pk for _row, pk in pairs])
        allowed = self.writable_ids(accounts)
        for row, pk in pairs:
            account = accounts[pk]
            tags = sorted(t.name for t in account.tags.all())
            before = snapshot(account, extra={"tags": tags})
            for name, value in row.scalars.items():
                setattr(account, name, value)
            if row.custom:
                account.custom = {**account.custom, **row.custom}
            new_tags = [t for t in row.tags if t not in tags]
            changes = diff(before, snapshot(account, extra={"tags": sorted(tags + new_tags)}))
            if not changes:
                self.counts.unchanged += 1
                continue
            if pk not in allowed:
                self.reject(row, "", f"It matches account #{pk}, which you may see but not change.")
                continue
            if self.dry_run:
                self.counts.updated += 1
                continue
            account.search_text = account_search_text(account)
            if not self.versioned_write(account, [*row.scalars, "custom", "search_text"], row):
                continue
            if new_tags:
                tag_ids = ContactEngine.tag_ids(self, set(new_tags))  # type: ignore[arg-type]
                Account.tags.through.objects.bulk_create(
                    [Account.tags.through(account_id=pk, tag_id=tag_ids[t]) for t in new_tags], ignore_conflicts=True
                )
            if "name" in changes:
                # Contacts' search text includes their company's name.
                from rapport.parties.services import _contacts_reindex_for_account

                _contacts_reindex_for_account(account)
            audit_record(actor=self.actor, action="update", instance=account, changes=changes, context=self.context)
            self.counts.updated += 1
