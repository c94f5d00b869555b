"""Merge two contacts into one, and undo a merge exactly.

``contact_merge`` keeps the *survivor* and removes the *duplicate*:

* **Fields** of the survivor are chosen field by field by a survivorship rule (``rule_for``):
  ``survivor`` (the survivor's value unless it is empty, then the duplicate's; the default),
  ``recent`` (the value of the record changed last, for title and lifecycle stage) and
  ``trusted`` (the value of the record whose ``source`` ranks higher in
  ``RAPPORT_MERGE_TRUSTED_SOURCES``; no ranking or a tie falls back to ``survivor``).
  ``RAPPORT_MERGE_RULES`` (``{field: rule}``) overrides the defaults; ``field_choices``
  (``{field: "survivor" | "duplicate"}``, what the review page sends) overrides both for one merge.
  Owner and team are always the survivor's: a merge never moves a record out of anyone's reach.
* **Values** the duplicate has and the survivor lacks are added to the survivor as secondary
  values: emails and phones (compared normalised, as stored), addresses (compared folded),
  tags and account memberships. The survivor's primary values stay primary.
* **Every other row that points at the duplicate** — in any app, found through
  ``Contact._meta`` (foreign keys, one-to-ones and many-to-many link tables, hidden ones
  included) — is re-pointed at the survivor, so parties never imports the apps above it. A row
  that would break a unique constraint (the survivor has the same link already) is dropped
  instead and kept in the merge record; a row whose deletion would cascade is refused.
* The duplicate is **deleted** (it vanishes from lists, search and exports without any filter);
  a ``ContactMerge`` row records its full row and children, which rows moved, which rows were
  dropped, what the survivor gained and which survivor fields changed. The merge is audited on
  both records (``AuditAction.MERGE``).

``contact_merge_undo`` reverses it: the duplicate comes back with its id, fields and children,
exactly the re-pointed rows move back (rows deleted or moved elsewhere since stay where they are),
dropped rows return, what the merge added to the survivor is removed, and the survivor's fields
get their old values back — except a field changed again after the merge: a later edit is kept,
and the merge's ``undo_report`` says so. An undo is final (a second one is refused).

Proposed pairs (``DuplicatePair``) are not re-pointed: they name contacts by id and outlive them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import router, transaction
from django.db.models import Field, Model, UniqueConstraint
from django.db.models.deletion import Collector
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.core import permissions
from rapport.core.audit import _jsonable, audit_record, diff, snapshot
from rapport.core.choices import AuditAction
from rapport.core.errors import Conflict, NotFound, ValidationFailed
from rapport.core.models import User
from rapport.core.versioning import versioned_save
from rapport.parties.choices import DuplicateStatus
from rapport.parties.models import (
    AccountMembership,
    Address,
    Contact,
    ContactEmail,
    ContactMerge,
    ContactPhone,
    DuplicatePair,
    Tag,
)
from rapport.parties.services import CONTACT_SCALARS, _contact_children_snapshot, _contact_reindex

RULES = ("survivor", "recent", "trusted")
CHOICES = ("survivor", "duplicate")
DEFAULT_CONTACT_RULES: dict[str, str] = {
    "title": "recent",
    "lifecycle_stage": "recent",
    "first_name": "trusted",
    "last_name": "trusted",
    "birthday": "trusted",
}
CONTACT_MERGE_FIELDS = (*CONTACT_SCALARS, "reports_to")
_ADDRESS_VALUE = ("street", "city", "region", "postal_code", "country")
# Tables whose rows are a contact's own values: copied to the survivor, restored from the snapshot.
_CONTACT_CHILDREN = {
    (ContactEmail, "contact"),
    (ContactPhone, "contact"),
    (Address, "contact"),
    (AccountMembership, "contact"),
    (Contact.tags.through, "contact"),
}
# References by id that outlive the contact (decisions about pairs): never re-pointed.
_NOT_REPOINTED: set[type[Model]] = {DuplicatePair}
_CHUNK = 500


class MergeAlreadyUndone(Conflict):
    slug = "merge-already-undone"
    title = "This merge was undone already"


@dataclass(frozen=True)
class MergeField:
    """One field of a planned merge: both values, the rule, and which value survives."""

    name: str
    label: str
    survivor_value: Any
    duplicate_value: Any
    rule: str
    default: str  # what the rule chose: "survivor" or "duplicate"
    choice: str  # what survives after the caller's field_choices

    @property
    def survivor_display(self) -> Any:
        return _display(self.name, self.survivor_value)

    @property
    def duplicate_display(self) -> Any:
        return _display(self.name, self.duplicate_value)


def _display(name: str, value: Any) -> Any:
    """A value as a person reads it: a choice field's label rather than its stored code."""
    if name.startswith("custom.") or value in (None, ""):
        return value
    choices = dict(Contact._meta.get_field(name).flatchoices)
    return choices.get(value, value)


# --- survivorship ----------------------------------------------------------------------------


def _empty(value: Any) -> bool:
    return value in (None, "", [], {})


def merge_rules() -> dict[str, str]:
    """The rule of each field: the defaults with ``RAPPORT_MERGE_RULES`` on top."""
    configured = getattr(settings, "RAPPORT_MERGE_RULES", None) or {}
    rules = {**DEFAULT_CONTACT_RULES, **configured}
    unknown = {name: rule for name, rule in rules.items() if rule not in RULES}
    if unknown:
        raise ValidationFailed(f"RAPPORT_MERGE_RULES names unknown rules: {unknown}; use one of {', '.join(RULES)}.")
    return rules


def rule_for(name: str, rules: dict[str, str]) -> str:
    """The rule of one field, from ``merge_rules()`` (read once per merge, not per field)."""
    if name.startswith("custom."):
        return rules.get(name, rules.get("custom", "survivor"))
    return rules.get(name, "survivor")


def _source_rank(source: str) -> int:
    ranking = [s.strip().lower() for s in getattr(settings, "RAPPORT_MERGE_TRUSTED_SOURCES", ()) or ()]
    value = (source or "").strip().lower()
    return len(ranking) - ranking.index(value) if value in ranking else 0


def _rule_choice(rule: str, survivor: Contact, duplicate: Contact, s_value: Any, d_value: Any) -> str:
    if _empty(s_value) and not _empty(d_value):
        return "duplicate"
    if _empty(d_value):
        return "survivor"
    if rule == "recent":
        return "duplicate" if duplicate.updated_at > survivor.updated_at else "survivor"
    if rule == "trusted":
        return "duplicate" if _source_rank(duplicate.source) > _source_rank(survivor.source) else "survivor"
    return "survivor"


def _field_value(contact: Contact, name: str) -> Any:
    if name.startswith("custom."):
        return (contact.custom or {}).get(name.removeprefix("custom."))
    field = Contact._meta.get_field(name)
    return getattr(contact, field.attname)


def _custom_labels(names: list[str]) -> dict[str, str]:
    """Labels of the custom fields among ``names``, in one query (none when there are none)."""
    if not any(name.startswith("custom.") for name in names):
        return {}
    from rapport.core.custom_fields import custom_field_definitions

    return {definition.key: definition.label for definition in custom_field_definitions(Contact)}


def _field_label(name: str, custom_labels: dict[str, str]) -> str:
    if name.startswith("custom."):
        key = name.removeprefix("custom.")
        return custom_labels.get(key, key)
    return str(Contact._meta.get_field(name).verbose_name)


def merge_field_names(survivor: Contact, duplicate: Contact) -> list[str]:
    custom = sorted({*(survivor.custom or {}), *(duplicate.custom or {})})
    return [*CONTACT_MERGE_FIELDS, *(f"custom.{key}" for key in custom)]


def _clean_choices(names: list[str], field_choices: dict[str, str] | None) -> dict[str, str]:
    choices = dict(field_choices or {})
    errors: dict[str, list[str]] = {}
    for name, choice in choices.items():
        if name not in names:
            errors.setdefault(f"field_choices.{name}", []).append(_("No such field to merge."))
        elif choice not in CHOICES:
            errors.setdefault(f"field_choices.{name}", []).append(_("Use “survivor” or “duplicate”."))
    if errors:
        raise ValidationFailed(_("The field choices are not valid."), field_errors=errors)
    return choices


def contact_merge_plan(
    *, survivor: Contact, duplicate: Contact, field_choices: dict[str, str] | None = None
) -> list[MergeField]:
    """What a merge would keep, field by field (the review page's rows and its radio defaults)."""
    names = merge_field_names(survivor, duplicate)
    choices = _clean_choices(names, field_choices)
    rules, custom_labels = merge_rules(), _custom_labels(names)
    plan = []
    for name in names:
        s_value, d_value = _field_value(survivor, name), _field_value(duplicate, name)
        rule = rule_for(name, rules)
        default = _rule_choice(rule, survivor, duplicate, s_value, d_value)
        plan.append(
            MergeField(
                name=name,
                label=_field_label(name, custom_labels),
                survivor_value=s_value,
                duplicate_value=d_value,
                rule=rule,
                default=default,
                choice=choices.get(name, default),
            )
        )
    return plan


# --- generic row helpers -----------------------------------------------------------------------


def _dump(instance: Model) -> dict[str, Any]:
    """Every concrete column of a row, JSON-ready (foreign keys as ids)."""
    return {f.attname: _jsonable(getattr(instance, f.attname)) for f in instance._meta.concrete_fields}


def _load(model: type[Model], data: dict[str, Any]) -> Model:
    values = {}
    for f in model._meta.concrete_fields:
        if f.attname in data:
            values[f.attname] = None if data[f.attname] is None else f.to_python(data[f.attname])
    return model(**values)


def _model(label: str) -> type[Model]:
    from django.apps import apps

    return apps.get_model(label)


def _restorable(instance: Model) -> list[str]:
    """Make ``instance``'s foreign keys insertable: a vanished target becomes NULL where allowed.

    Returns the names of required links whose target is gone (the row cannot come back).
    """
    missing = []
    for f in instance._meta.concrete_fields:
        if not f.is_relation or not f.db_constraint:
            continue
        value = getattr(instance, f.attname)
        if value is None:
            continue
        if not f.related_model._base_manager.filter(pk=value).exists():
            if f.null:
                setattr(instance, f.attname, None)
            else:
                missing.append(f.name)
    return missing


def _links(model: type[Model], children: set[tuple[type[Model], str]]) -> list[tuple[type[Model], Field]]:
    """Every foreign key or one-to-one of any model that points at ``model``, except children.

    Hidden relations (``related_name="+"``) and the link tables of many-to-many fields are
    included: they are foreign keys of their own (auto-created) models.
    """
    found = []
    for rel in model._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
            continue
        related, field = rel.related_model, rel.field
        if related in _NOT_REPOINTED or (related, field.name) in children:
            continue
        found.append((related, field))
    return found


def _unique_partners(model: type[Model], field: Field) -> list[tuple[str, ...]]:
    """For each unique rule that includes ``field``: the other columns of that rule."""
    sets: list[tuple[str, ...]] = []
    if field.unique:
        sets.append(())
    for names in model._meta.unique_together:
        if field.name in names:
            sets.append(tuple(n for n in names if n != field.name))
    for constraint in model._meta.constraints:
        if isinstance(constraint, UniqueConstraint) and constraint.fields and field.name in constraint.fields:
            sets.append(tuple(n for n in constraint.fields if n != field.name))
    return sets


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _cascades(model: type[Model], pks: list[Any]) -> bool:
    """Would deleting these rows delete or change other rows too?"""
    rows = list(model._base_manager.filter(pk__in=pks))
    collector = Collector(using=router.db_for_write(model))
    collector.collect(rows)
    collected = sum(len(objs) for objs in collector.data.values())
    return collected > len(rows) or any(qs.exists() for qs in collector.fast_deletes) or bool(collector.field_updates)


def _repoint(
    *, party_model: type[Model], children: set[tuple[type[Model], str]], old_pk: int, new_pk: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Move every row pointing at ``old_pk`` to ``new_pk``; returns (repointed, dropped)."""
    repointed: list[dict[str, Any]] = []
    dropped: list[dict[str, Any]] = []
    for model, field in _links(party_model, children):
        manager = model._base_manager
        rows = manager.filter(**{field.attname: old_pk})
        if model is party_model:
            rows = rows.exclude(pk=new_pk)  # the survivor's own link to the duplicate is a field
        pks = list(rows.values_list("pk", flat=True))
        if not pks:
            continue
        conflicts: set[Any] = set()
        for partners in _unique_partners(model, field):
            if not partners:
                if manager.filter(**{field.attname: new_pk}).exists():
                    conflicts.update(pks)
                continue
            taken = set(manager.filter(**{field.attname: new_pk}).values_list(*partners))
            for pk, *values in manager.filter(pk__in=pks).values_list("pk", *partners):
                if tuple(values) in taken:
                    conflicts.add(pk)
        if conflicts:
            conflict_list = sorted(conflicts)
            if _cascades(model, conflict_list):
                raise ValidationFailed(
                    _(
                        "These records cannot be merged: both have a %(model)s that may exist only once, "
                        "and removing the duplicate's would remove more. Resolve it by hand first."
                    )
                    % {"model": model._meta.verbose_name}
                )
            for row in manager.filter(pk__in=conflict_list):
                dropped.append({"model": model._meta.label_lower, "field": field.name, "row": _dump(row)})
            manager.filter(pk__in=conflict_list).delete()
        moving = [pk for pk in pks if pk not in conflicts]
        for chunk in _chunks(moving):
            manager.filter(pk__in=chunk).update(**{field.attname: new_pk})
        if moving:
            repointed.append({"model": model._meta.label_lower, "field": field.name, "pks": _jsonable(moving)})
    return repointed, dropped


def _repoint_back(*, merge_rows: list[dict[str, Any]], old_pk: int, new_pk: int) -> dict[str, int]:
    """Move the recorded rows that still point at ``new_pk`` back to ``old_pk``; counts not moved."""
    stayed: dict[str, int] = {}
    for entry in merge_rows:
        model = _model(entry["model"])
        field = model._meta.get_field(entry["field"])
        moved = 0
        for chunk in _chunks(list(entry["pks"])):
            moved += model._base_manager.filter(pk__in=chunk, **{field.attname: new_pk}).update(
                **{field.attname: old_pk}
            )
        if moved != len(entry["pks"]):
            stayed[entry["model"]] = stayed.get(entry["model"], 0) + len(entry["pks"]) - moved
    return stayed


def _restore_rows(rows: list[dict[str, Any]]) -> list[str]:
    """Put dropped rows back; returns descriptions of those that could not return."""
    lost = []
    for entry in rows:
        model = _model(entry["model"])
        instance = _load(model, entry["row"])
        if model._base_manager.filter(pk=instance.pk).exists():
            continue
        if _restorable(instance):
            lost.append(f"{entry['model']} {instance.pk}")
            continue
        model._base_manager.bulk_create([instance])
    return lost


# --- contacts: children ---------------------------------------------------------------------------


def _address_key(values: dict[str, Any] | Address) -> tuple[str, ...]:
    get = values.get if isinstance(values, dict) else lambda name: getattr(values, name)
    return tuple(" ".join(str(get(name) or "").lower().split()) for name in _ADDRESS_VALUE)


def _contact_children_dump(contact: Contact) -> dict[str, Any]:
    return {
        "emails": [_dump(row) for row in ContactEmail.objects.filter(contact=contact).order_by("id")],
        "phones": [_dump(row) for row in ContactPhone.objects.filter(contact=contact).order_by("id")],
        "addresses": [_dump(row) for row in Address.objects.filter(contact=contact).order_by("id")],
        "memberships": [_dump(row) for row in AccountMembership.objects.filter(contact=contact).order_by("id")],
        "tags": [
            {**_dump(row), "name": row.tag.name}
            for row in Contact.tags.through.objects.filter(contact=contact).select_related("tag").order_by("id")
        ],
    }


def _add_children(survivor: Contact, duplicate: Contact) -> dict[str, list[Any]]:
    """Give the survivor the duplicate's values it lacks, as secondary values; returns what was added."""
    added: dict[str, list[Any]] = {"emails": [], "phones": [], "addresses": [], "memberships": [], "tags": []}
    have = set(ContactEmail.objects.filter(contact=survivor).values_list("email", flat=True))
    for row in ContactEmail.objects.filter(contact=duplicate).order_by("-is_primary", "id"):
        if row.email not in have:
            ContactEmail.objects.create(contact=survivor, email=row.email, kind=row.kind, is_primary=False)
            have.add(row.email)
            added["emails"].append(row.email)
    have = set(ContactPhone.objects.filter(contact=survivor).values_list("number", flat=True))
    for row in ContactPhone.objects.filter(contact=duplicate).order_by("-is_primary", "id"):
        if row.number not in have:
            ContactPhone.objects.create(contact=survivor, number=row.number, kind=row.kind, is_primary=False)
            have.add(row.number)
            added["phones"].append(row.number)
    keys = {_address_key(a) for a in Address.objects.filter(contact=survivor)}
    for row in Address.objects.filter(contact=duplicate).order_by("id"):
        key = _address_key(row)
        if key not in keys:
            Address.objects.create(
                contact=survivor, kind=row.kind, **{name: getattr(row, name) for name in _ADDRESS_VALUE}
            )
            keys.add(key)
            added["addresses"].append({name: getattr(row, name) for name in ("kind", *_ADDRESS_VALUE)})
    accounts = set(AccountMembership.objects.filter(contact=survivor).values_list("account_id", flat=True))
    for row in AccountMembership.objects.filter(contact=duplicate).order_by("-is_primary", "id"):
        if row.account_id not in accounts:
            AccountMembership.objects.create(contact=survivor, account_id=row.account_id, role=row.role)
            accounts.add(row.account_id)
            added["memberships"].append(row.account_id)
    tags = set(survivor.tags.values_list("id", flat=True))
    new_tags = [pk for pk in duplicate.tags.values_list("id", flat=True) if pk not in tags]
    survivor.tags.add(*new_tags)
    added["tags"] = sorted(new_tags)
    return added


def _remove_added(survivor: Contact, added: dict[str, list[Any]]) -> None:
    """Take back what a merge gave the survivor (values it still has)."""
    ContactEmail.objects.filter(contact=survivor, email__in=added.get("emails", [])).delete()
    ContactPhone.objects.filter(contact=survivor, number__in=added.get("phones", [])).delete()
    wanted = [_address_key(values) for values in added.get("addresses", [])]
    for address in Address.objects.filter(contact=survivor).order_by("-id"):
        key = _address_key(address)
        if key in wanted:
            wanted.remove(key)
            address.delete()
    AccountMembership.objects.filter(contact=survivor, account_id__in=added.get("memberships", [])).delete()
    survivor.tags.remove(*added.get("tags", []))


def _primaries_fix(contact: Contact) -> None:
    """Exactly one primary email, phone and membership (when there are any) and the denormalised copies."""
    for model, column in ((ContactEmail, "email"), (ContactPhone, "number")):
        rows = list(model.objects.filter(contact=contact).order_by("-is_primary", "id"))
        for index, row in enumerate(rows):
            if row.is_primary != (index == 0):
                model.objects.filter(pk=row.pk).update(is_primary=index == 0)
        setattr(contact, "email" if model is ContactEmail else "phone", getattr(rows[0], column) if rows else "")
    memberships = list(AccountMembership.objects.filter(contact=contact).order_by("-is_primary", "id"))
    current = next((m for m in memberships if m.account_id == contact.account_id), None)
    primary = current or (memberships[0] if memberships else None)
    for m in memberships:
        if m.is_primary != (m is primary):
            AccountMembership.objects.filter(pk=m.pk).update(is_primary=m is primary)
    contact.account_id = primary.account_id if primary else None


def _restore_children(contact: Contact, children: dict[str, Any]) -> list[str]:
    lost = []
    for key, model in (("emails", ContactEmail), ("phones", ContactPhone), ("addresses", Address)):
        model._base_manager.bulk_create([_load(model, row) for row in children.get(key, [])])
    for row in children.get("memberships", []):
        membership = _load(AccountMembership, row)
        if _restorable(membership):
            lost.append(f"membership of account {row.get('account_id')}")
            continue
        membership.save(force_insert=True)
    through = Contact.tags.through
    links = []
    for item in children.get("tags", []):
        if Tag.objects.filter(pk=item["tag_id"]).exists():
            links.append(through(id=item["id"], contact_id=contact.pk, tag_id=item["tag_id"]))
        else:  # the tag was deleted since: the same name again
            links.append(through(contact_id=contact.pk, tag=Tag.objects.get_or_create(name=item["name"])[0]))
    through.objects.bulk_create(links)
    return lost


# --- merge ------------------------------------------------------------------------------------


_SURVIVOR_WRITE_FIELDS = [*CONTACT_SCALARS, "reports_to", "custom", "email", "phone", "account", "search_text"]


def _locked_pair(survivor: Contact, duplicate: Contact) -> tuple[Contact, Contact]:
    rows = {c.pk: c for c in Contact.objects.select_for_update().filter(pk__in=[survivor.pk, duplicate.pk])}
    if survivor.pk not in rows or duplicate.pk not in rows:
        gone = survivor.pk if survivor.pk not in rows else duplicate.pk
        raise Conflict(_("Contact %(id)s was deleted or merged meanwhile; reload the page.") % {"id": gone})
    return rows[survivor.pk], rows[duplicate.pk]


def _check_seen(contact: Contact, seen: int | None) -> None:
    if seen is not None and seen != contact.version:
        raise Conflict(
            _(
                "“%(name)s” was changed since you looked at it (version %(seen)s, now %(now)s). "
                "Reload and compare again."
            )
            % {"name": str(contact), "seen": seen, "now": contact.version},
            current_version=contact.version,
        )


def _reports_loop(contact_id: int, boss_id: int | None) -> bool:
    seen: set[int] = set()
    node = boss_id
    while node is not None and node not in seen:
        if node == contact_id:
            return True
        seen.add(node)
        node = Contact.objects.filter(pk=node).values_list("reports_to_id", flat=True).first()
    return False


@transaction.atomic
def contact_merge(
    *,
    actor: User,
    survivor: Contact,
    duplicate: Contact,
    field_choices: dict[str, str] | None = None,
    survivor_version: int | None = None,
    duplicate_version: int | None = None,
    pair: DuplicatePair | None = None,
    context: dict[str, Any] | None = None,
) -> ContactMerge:
    """Merge ``duplicate`` into ``survivor`` (see the module docstring) and return the merge record.

    ``survivor_version``/``duplicate_version``: the versions the caller saw; a contact changed
    since is refused with ``Conflict`` and nothing is written (``None``: the loaded version).
    Needs the merge right and the right to change both contacts.
    """
    permissions.require_model_perm(actor, Contact, "merge")
    if survivor.pk == duplicate.pk:
        raise ValidationFailed(
            _("A contact cannot be merged with itself."), field_errors={"duplicate_id": [_("Pick another contact.")]}
        )
    permissions.check_write(actor, survivor, "change")
    permissions.check_write(actor, duplicate, "change")
    survivor_seen = survivor.version if survivor_version is None else survivor_version
    duplicate_seen = duplicate.version if duplicate_version is None else duplicate_version
    survivor, duplicate = _locked_pair(survivor, duplicate)
    _check_seen(survivor, survivor_seen)
    _check_seen(duplicate, duplicate_seen)
    plan = contact_merge_plan(survivor=survivor, duplicate=duplicate, field_choices=field_choices)

    before = snapshot(survivor, extra=_contact_children_snapshot(survivor))
    duplicate_before = snapshot(duplicate, extra=_contact_children_snapshot(duplicate))
    duplicate_row = _dump(duplicate)
    duplicate_children = _contact_children_dump(duplicate)

    # Fields: the plan's choices; the survivor's own link to the duplicate cannot survive.
    field_changes: dict[str, list[Any]] = {}
    custom = dict(survivor.custom or {})
    for item in plan:
        if item.choice != "duplicate" or item.survivor_value == item.duplicate_value:
            continue
        if item.name.startswith("custom."):
            key = item.name.removeprefix("custom.")
            if _empty(item.duplicate_value):
                custom.pop(key, None)
            else:
                custom[key] = item.duplicate_value
        else:
            setattr(survivor, Contact._meta.get_field(item.name).attname, item.duplicate_value)
        field_changes[item.name] = [_jsonable(item.survivor_value), _jsonable(item.duplicate_value)]
    survivor.custom = custom
    if survivor.reports_to_id == duplicate.pk:
        boss = duplicate.reports_to_id if duplicate.reports_to_id != survivor.pk else None
        previous = field_changes.get("reports_to", [duplicate.pk])[0]
        survivor.reports_to_id = boss
        field_changes["reports_to"] = [previous, boss]
    if survivor.reports_to_id is not None and _reports_loop(survivor.pk, survivor.reports_to_id):
        raise ValidationFailed(
            _("Keeping that “reports to” would make a reporting loop; keep the survivor's instead."),
            field_errors={"field_choices.reports_to": [_("That would make a reporting loop.")]},
        )

    added = _add_children(survivor, duplicate)
    repointed, dropped = _repoint(
        party_model=Contact, children=_CONTACT_CHILDREN, old_pk=duplicate.pk, new_pk=survivor.pk
    )
    _primaries_fix(survivor)
    _contact_reindex(survivor)
    versioned_save(survivor, expected_version=survivor.version, fields=_SURVIVOR_WRITE_FIELDS)

    pair = pair or _pair_of(survivor.pk, duplicate.pk)
    pair_status = ""
    if pair is not None:
        pair_status = pair.status
        DuplicatePair.objects.filter(pk=pair.pk).update(
            status=DuplicateStatus.MERGED, decided_by=actor, decided_at=timezone.now(), updated_at=timezone.now()
        )
    merge = ContactMerge.objects.create(
        survivor=survivor,
        duplicate_id=duplicate.pk,
        duplicate_repr=str(duplicate)[:200],
        duplicate_snapshot={"row": duplicate_row, "children": duplicate_children},
        repointed=repointed,
        dropped=dropped,
        added=added,
        survivor_changes=field_changes,
        context=context or {},
        actor=actor if getattr(actor, "pk", None) else None,
        pair=pair,
        pair_status=pair_status,
    )
    moved = {entry["model"]: len(entry["pks"]) for entry in repointed}
    audit_context = {**(context or {}), "merge_id": merge.pk, "duplicate_id": duplicate.pk, "moved": moved}
    changes = diff(before, snapshot(survivor, extra=_contact_children_snapshot(survivor)))
    changes["merged_contact"] = [None, f"{duplicate} (#{duplicate.pk})"]
    audit_record(actor=actor, action=AuditAction.MERGE, instance=survivor, changes=changes, context=audit_context)
    audit_record(
        actor=actor,
        action=AuditAction.MERGE,
        instance=duplicate,
        changes={**{k: [v, None] for k, v in duplicate_before.items()}, "merged_into": [None, survivor.pk]},
        context=audit_context,
    )
    duplicate.delete()
    return merge


def _pair_of(a: int, b: int) -> DuplicatePair | None:
    low, high = sorted((a, b))
    return DuplicatePair.objects.filter(contact_a_id=low, contact_b_id=high).first()


def contact_merge_get(*, actor: User, merge_id: Any) -> ContactMerge:
    """A merge record if ``actor`` may merge and read its survivor, else ``NotFound``."""
    permissions.require_model_perm(actor, Contact, "view")
    permissions.require_model_perm(actor, Contact, "merge")
    try:
        merge = ContactMerge.objects.select_related("survivor").get(pk=merge_id)
    except (ContactMerge.DoesNotExist, ValueError, TypeError):
        merge = None
    if merge is not None:
        survivor = merge.survivor
        allowed = actor.is_administrator if survivor is None else permissions.can_read(actor, survivor)
        if allowed:
            return merge
    raise NotFound(_("Merge %(id)s was not found.") % {"id": merge_id})


# --- undo -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UndoReport:
    """Survivor fields an undo left alone because they were changed after the merge."""

    kept: dict[str, dict[str, Any]]
    lost: tuple[str, ...]
    stayed: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return {"kept": self.kept, "lost": list(self.lost), "stayed": self.stayed}


def _current_json(contact: Contact, name: str) -> Any:
    return _jsonable(_field_value(contact, name))


def _set_field(contact: Contact, name: str, value: Any) -> None:
    if name.startswith("custom."):
        key = name.removeprefix("custom.")
        custom = dict(contact.custom or {})
        if _empty(value):
            custom.pop(key, None)
        else:
            custom[key] = value
        contact.custom = custom
        return
    field = Contact._meta.get_field(name)
    python = None if value is None else field.to_python(value)
    if field.is_relation and python is not None and not Contact.objects.filter(pk=python).exists():
        python = None
    setattr(contact, field.attname, python)


@transaction.atomic
def contact_merge_undo(*, actor: User, merge: ContactMerge, context: dict[str, Any] | None = None) -> Contact:
    """Undo ``merge`` (see the module docstring); returns the restored duplicate.

    ``merge.undo_report`` then lists the survivor fields that kept a later edit (``kept``:
    ``{field: {"before", "merged", "current"}}``), child rows that could not return (``lost``)
    and re-pointed rows that had moved on and stayed (``stayed``: counts per model).
    """
    permissions.require_model_perm(actor, Contact, "merge")
    merge = ContactMerge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise MergeAlreadyUndone(_("This merge was undone already."))
    if merge.survivor_id is None:
        raise Conflict(_("The contact this merge kept has been deleted since; the merge cannot be undone."))
    survivor = Contact.objects.select_for_update().get(pk=merge.survivor_id)
    permissions.check_write(actor, survivor, "change")
    if Contact.objects.filter(pk=merge.duplicate_id).exists():
        raise Conflict(_("Contact %(id)s exists again; the merge cannot be undone.") % {"id": merge.duplicate_id})
    before = snapshot(survivor, extra=_contact_children_snapshot(survivor))

    duplicate = _load(Contact, merge.duplicate_snapshot["row"])
    assert isinstance(duplicate, Contact)
    _restorable(duplicate)  # an owner, team, account or boss deleted since becomes empty
    duplicate.save(force_insert=True)
    lost = _restore_children(duplicate, merge.duplicate_snapshot.get("children", {}))
    stayed = _repoint_back(merge_rows=merge.repointed, old_pk=duplicate.pk, new_pk=survivor.pk)
    lost += _restore_rows(merge.dropped)
    _primaries_fix(duplicate)
    _contact_reindex(duplicate)
    Contact.objects.filter(pk=duplicate.pk).update(
        email=duplicate.email, phone=duplicate.phone, account=duplicate.account_id, search_text=duplicate.search_text
    )

    _remove_added(survivor, merge.added)
    kept: dict[str, dict[str, Any]] = {}
    for name, (old, merged) in merge.survivor_changes.items():
        current = _current_json(survivor, name)
        if current == merged:
            _set_field(survivor, name, old)
        else:
            kept[name] = {"before": old, "merged": merged, "current": current}
    _primaries_fix(survivor)
    _contact_reindex(survivor)
    versioned_save(survivor, expected_version=survivor.version, fields=_SURVIVOR_WRITE_FIELDS)

    if merge.pair_id is not None:
        DuplicatePair.objects.filter(pk=merge.pair_id).update(
            status=merge.pair_status or DuplicateStatus.OPEN, decided_by=None, decided_at=None,
            updated_at=timezone.now(),
        )
    report = UndoReport(kept=kept, lost=tuple(lost), stayed=stayed)
    merge.undone_at = timezone.now()
    merge.undone_by = actor if getattr(actor, "pk", None) else None
    merge.undo_report = report.as_json()
    merge.save(update_fields=["undone_at", "undone_by", "undo_report"])

    audit_context = {**(context or {}), "merge_id": merge.pk, "undo": True, **report.as_json()}
    changes = diff(before, snapshot(survivor, extra=_contact_children_snapshot(survivor)))
    changes["merged_contact"] = [f"{duplicate} (#{duplicate.pk})", None]
    audit_record(actor=actor, action=AuditAction.RESTORE, instance=survivor, changes=changes, context=audit_context)
    restored = snapshot(duplicate, extra=_contact_children_snapshot(duplicate))
    audit_record(
        actor=actor,
        action=AuditAction.RESTORE,
        instance=duplicate,
        changes={k: [None, v] for k, v in restored.items() if not _empty(v)},
        context=audit_context,
    )
    duplicate.refresh_from_db()
    return duplicate

