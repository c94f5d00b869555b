"""Merge two contacts into one, and undo a merge exactly (the contact half of ``parties.merge_engine``).

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

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy

from rapport.core.models import User
from rapport.parties.merge_engine import (
    CHOICES,
    MergeAlreadyUndone,
    MergeField,
    MergeSpec,
    dump,
    load,
    merge_plan,
    party_merge,
    party_merge_get,
    party_merge_undo,
    restorable,
)
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

__all__ = ["CHOICES", "CONTACT", "MergeAlreadyUndone", "MergeField", "contact_merge", "contact_merge_get",
           "contact_merge_plan", "contact_merge_undo"]

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
_CONTACT_CHILDREN = frozenset({
    (ContactEmail, "contact"),
    (ContactPhone, "contact"),
    (Address, "contact"),
    (AccountMembership, "contact"),
    (Contact.tags.through, "contact"),
})
_SURVIVOR_WRITE_FIELDS = (*CONTACT_SCALARS, "reports_to", "custom", "email", "phone", "account", "search_text")
_dump, _load, _restorable = dump, load, restorable  # the names the identity tests use


# --- contacts: children ---------------------------------------------------------------------------


def _address_key(values: dict[str, Any] | Address) -> tuple[str, ...]:
    get = values.get if isinstance(values, dict) else lambda name: getattr(values, name)
    return tuple(" ".join(str(get(name) or "").lower().split()) for name in _ADDRESS_VALUE)


def _contact_children_dump(contact: Contact) -> dict[str, Any]:
    return {
        "emails": [dump(row) for row in ContactEmail.objects.filter(contact=contact).order_by("id")],
        "phones": [dump(row) for row in ContactPhone.objects.filter(contact=contact).order_by("id")],
        "addresses": [dump(row) for row in Address.objects.filter(contact=contact).order_by("id")],
        "memberships": [dump(row) for row in AccountMembership.objects.filter(contact=contact).order_by("id")],
        "tags": [
            {**dump(row), "name": row.tag.name}
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
        model._base_manager.bulk_create([load(model, row) for row in children.get(key, [])])
    for row in children.get("memberships", []):
        membership = load(AccountMembership, row)
        if restorable(membership):
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


def _finish(survivor: Contact, duplicate_pk: int, added: dict[str, Any]) -> dict[str, Any]:
    _primaries_fix(survivor)
    _contact_reindex(survivor)
    return {}


def _after_restore(duplicate: Contact) -> None:
    _primaries_fix(duplicate)
    _contact_reindex(duplicate)
    Contact.objects.filter(pk=duplicate.pk).update(
        email=duplicate.email, phone=duplicate.phone, account=duplicate.account_id, search_text=duplicate.search_text
    )


def _undo_finish(survivor: Contact, duplicate: Contact, added: dict[str, Any]) -> None:
    _primaries_fix(survivor)
    _contact_reindex(survivor)


CONTACT = MergeSpec(
    model=Contact,
    merge_model=ContactMerge,
    pair_model=DuplicatePair,
    pair_fields=("contact_a_id", "contact_b_id"),
    merge_fields=CONTACT_MERGE_FIELDS,
    default_rules=DEFAULT_CONTACT_RULES,
    rules_setting="RAPPORT_MERGE_RULES",
    children=_CONTACT_CHILDREN,
    self_link="reports_to",
    write_fields=_SURVIVOR_WRITE_FIELDS,
    dump_children=_contact_children_dump,
    add_children=_add_children,
    remove_added=_remove_added,
    restore_children=_restore_children,
    finish=_finish,
    after_restore=_after_restore,
    undo_finish=_undo_finish,
    snapshot_extra=_contact_children_snapshot,
    audit_key="merged_contact",
    self_merge_message=gettext_lazy("A contact cannot be merged with itself."),
    gone_message=gettext_lazy("Contact %(id)s was deleted or merged meanwhile; reload the page."),
    loop_message=gettext_lazy("Keeping that “reports to” would make a reporting loop; keep the survivor's instead."),
    loop_field_message=gettext_lazy("That would make a reporting loop."),
    not_found_message=gettext_lazy("Merge %(id)s was not found."),
)


def contact_merge_plan(
    *, survivor: Contact, duplicate: Contact, field_choices: dict[str, str] | None = None
) -> list[MergeField]:
    """What a merge would keep, field by field (the review page's rows and its radio defaults)."""
    return merge_plan(CONTACT, survivor=survivor, duplicate=duplicate, field_choices=field_choices)


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
    return party_merge(CONTACT, actor=actor, survivor=survivor, duplicate=duplicate, field_choices=field_choices,
                       survivor_version=survivor_version, duplicate_version=duplicate_version, pair=pair,
                       context=context)


def contact_merge_get(*, actor: User, merge_id: Any) -> ContactMerge:
    """A merge record if ``actor`` may merge and read its survivor, else ``NotFound``."""
    return party_merge_get(CONTACT, actor=actor, merge_id=merge_id)


@transaction.atomic
def contact_merge_undo(*, actor: User, merge: ContactMerge, context: dict[str, Any] | None = None) -> Contact:
    """Undo ``merge`` (see the module docstring); returns the restored duplicate.

    ``merge.undo_report`` then lists the survivor fields that kept a later edit (``kept``:
    ``{field: {"before", "merged", "current"}}``), child rows that could not return (``lost``)
    and re-pointed rows that had moved on and stayed (``stayed``: counts per model).
    """
    return party_merge_undo(CONTACT, actor=actor, merge=merge, context=context)
