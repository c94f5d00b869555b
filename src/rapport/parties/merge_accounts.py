"""Merge two accounts (companies) into one, and undo it exactly: the account half of ``parties.merge_engine``.

``account_merge`` keeps the *survivor* and removes the *duplicate*:

* **Fields** by survivorship rule: ``survivor`` by default; ``recent`` for what goes stale
  (industry, size, revenue, tier, description); ``RAPPORT_ACCOUNT_MERGE_RULES`` over the
  defaults, the reviewer's ``field_choices`` over both. Owner and team stay the survivor's.
* **Own values**: addresses (compared folded) and tags the survivor lacks are added to it.
* **Everything that points at the duplicate** moves to the survivor through the engine's generic
  re-pointing: contacts' primary account, memberships (a contact member of both keeps the
  survivor's membership; the duplicate's is kept in the merge record), child accounts, the
  timeline (interactions, notes, tasks, attachments) and any app above. A contact whose primary
  membership was the dropped one gets its membership of the survivor as primary, so
  ``Contact.account`` still repeats its primary membership; the undo takes that back.
* **The hierarchy**: a survivor whose parent was the duplicate gets the duplicate's parent; a
  merge that would make an account its own ancestor — through the chosen parent or through the
  duplicate's children that become the survivor's — is refused before anything is written.
* Contacts' search text names their company, so the contacts of both accounts are re-indexed.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy

from rapport.core.models import User
from rapport.parties.merge_engine import (
    MergeField,
    MergeSpec,
    dump,
    load,
    merge_plan,
    party_merge,
    party_merge_get,
    party_merge_undo,
)
from rapport.parties.models import (
    Account,
    AccountDuplicatePair,
    AccountMembership,
    AccountMerge,
    Address,
    Tag,
)
from rapport.parties.services import (
    ACCOUNT_SCALARS,
    _account_children_snapshot,
    _contacts_reindex_for_account,
    account_search_text,
)

DEFAULT_ACCOUNT_RULES: dict[str, str] = {
    "industry": "recent",
    "size": "recent",
    "annual_revenue": "recent",
    "tier": "recent",
    "description": "recent",
}
ACCOUNT_MERGE_FIELDS = (*ACCOUNT_SCALARS, "parent")
_ADDRESS_VALUE = ("street", "city", "region", "postal_code", "country")
_ACCOUNT_CHILDREN = frozenset({(Address, "account"), (Account.tags.through, "account")})
_WRITE_FIELDS = (*ACCOUNT_SCALARS, "parent", "custom", "search_text")


def _address_key(values: dict[str, Any] | Address) -> tuple[str, ...]:
    get = values.get if isinstance(values, dict) else lambda name: getattr(values, name)
    return tuple(" ".join(str(get(name) or "").lower().split()) for name in _ADDRESS_VALUE)


def _children_dump(account: Account) -> dict[str, Any]:
    return {
        "addresses": [dump(row) for row in Address.objects.filter(account=account).order_by("id")],
        "tags": [
            {**dump(row), "name": row.tag.name}
            for row in Account.tags.through.objects.filter(account=account).select_related("tag").order_by("id")
        ],
    }


def _add_children(survivor: Account, duplicate: Account) -> dict[str, Any]:
    """Give the survivor the duplicate's addresses and tags it lacks; returns what was added."""
    added: dict[str, Any] = {"addresses": [], "tags": []}
    keys = {_address_key(a) for a in Address.objects.filter(account=survivor)}
    for row in Address.objects.filter(account=duplicate).order_by("id"):
        key = _address_key(row)
        if key not in keys:
            Address.objects.create(account=survivor, kind=row.kind, **{n: getattr(row, n) for n in _ADDRESS_VALUE})
            keys.add(key)
            added["addresses"].append({name: getattr(row, name) for name in ("kind", *_ADDRESS_VALUE)})
    have = set(survivor.tags.values_list("id", flat=True))
    new_tags = [pk for pk in duplicate.tags.values_list("id", flat=True) if pk not in have]
    survivor.tags.add(*new_tags)
    added["tags"] = sorted(new_tags)
    return added


def _remove_added(survivor: Account, added: dict[str, Any]) -> None:
    wanted = [_address_key(values) for values in added.get("addresses", [])]
    for address in Address.objects.filter(account=survivor).order_by("-id"):
        key = _address_key(address)
        if key in wanted:
            wanted.remove(key)
            address.delete()
    survivor.tags.remove(*added.get("tags", []))


def _restore_children(account: Account, children: dict[str, Any]) -> list[str]:
    Address._base_manager.bulk_create([load(Address, row) for row in children.get("addresses", [])])
    through = Account.tags.through
    links = []
    for item in children.get("tags", []):
        if Tag.objects.filter(pk=item["tag_id"]).exists():
            links.append(through(id=item["id"], account_id=account.pk, tag_id=item["tag_id"]))
        else:  # the tag was deleted since: the same name again
            links.append(through(account_id=account.pk, tag=Tag.objects.get_or_create(name=item["name"])[0]))
    through.objects.bulk_create(links)
    return []


def _finish(survivor: Account, duplicate_pk: int, added: dict[str, Any]) -> dict[str, Any]:
    """After re-pointing: contacts now at the survivor whose primary membership was dropped get the
    survivor's membership as primary (recorded, so the undo can take it back); search texts."""
    promoted = list(
        AccountMembership.objects.filter(account=survivor, is_primary=False, contact__account=survivor)
        .exclude(contact__memberships__is_primary=True)
        .values_list("pk", flat=True)
    )
    AccountMembership.objects.filter(pk__in=promoted).update(is_primary=True)
    survivor.search_text = account_search_text(survivor)
    _contacts_reindex_for_account(survivor)
    return {"promoted_memberships": sorted(promoted)}


def _after_restore(duplicate: Account) -> None:
    _contacts_reindex_for_account(duplicate)


def _undo_finish(survivor: Account, duplicate: Account, added: dict[str, Any]) -> None:
    AccountMembership.objects.filter(pk__in=added.get("promoted_memberships", [])).update(is_primary=False)
    survivor.search_text = account_search_text(survivor)
    _contacts_reindex_for_account(survivor)


ACCOUNT = MergeSpec(
    model=Account,
    merge_model=AccountMerge,
    pair_model=AccountDuplicatePair,
    pair_fields=("account_a_id", "account_b_id"),
    merge_fields=ACCOUNT_MERGE_FIELDS,
    default_rules=DEFAULT_ACCOUNT_RULES,
    rules_setting="RAPPORT_ACCOUNT_MERGE_RULES",
    children=_ACCOUNT_CHILDREN,
    self_link="parent",
    write_fields=_WRITE_FIELDS,
    dump_children=_children_dump,
    add_children=_add_children,
    remove_added=_remove_added,
    restore_children=_restore_children,
    finish=_finish,
    after_restore=_after_restore,
    undo_finish=_undo_finish,
    snapshot_extra=_account_children_snapshot,
    audit_key="merged_account",
    self_merge_message=gettext_lazy("An account cannot be merged with itself."),
    gone_message=gettext_lazy("Account %(id)s was deleted or merged meanwhile; reload the page."),
    loop_message=gettext_lazy(
        "This merge would make an account its own parent (through the chosen parent or the duplicate's "
        "child accounts); change the parent first."
    ),
    loop_field_message=gettext_lazy("That would make a loop in the account hierarchy."),
    not_found_message=gettext_lazy("Account merge %(id)s was not found."),
)


def account_merge_plan(
    *, survivor: Account, duplicate: Account, field_choices: dict[str, str] | None = None
) -> list[MergeField]:
    """What a merge would keep, field by field (the review page's rows and its radio defaults)."""
    return merge_plan(ACCOUNT, survivor=survivor, duplicate=duplicate, field_choices=field_choices)


@transaction.atomic
def account_merge(
    *,
    actor: User,
    survivor: Account,
    duplicate: Account,
    field_choices: dict[str, str] | None = None,
    survivor_version: int | None = None,
    duplicate_version: int | None = None,
    pair: AccountDuplicatePair | None = None,
    context: dict[str, Any] | None = None,
) -> AccountMerge:
    """Merge ``duplicate`` into ``survivor`` (see the module docstring) and return the merge record.

    Needs ``parties.merge_account`` and the right to change both accounts; a version the caller saw
    that is stale is refused with ``Conflict``, a hierarchy loop with ``ValidationFailed``; either
    way nothing is written.
    """
    return party_merge(ACCOUNT, actor=actor, survivor=survivor, duplicate=duplicate, field_choices=field_choices,
                       survivor_version=survivor_version, duplicate_version=duplicate_version, pair=pair,
                       context=context)


def account_merge_get(*, actor: User, merge_id: Any) -> AccountMerge:
    """An account merge record if ``actor`` may merge accounts and read its survivor, else ``NotFound``."""
    return party_merge_get(ACCOUNT, actor=actor, merge_id=merge_id)


@transaction.atomic
def account_merge_undo(*, actor: User, merge: AccountMerge, context: dict[str, Any] | None = None) -> Account:
    """Undo ``merge``: the duplicate account returns with its id, values, contacts, memberships, child
    accounts and timeline; survivor fields edited since the merge keep the later value
    (``merge.undo_report["kept"]``)."""
    return party_merge_undo(ACCOUNT, actor=actor, merge=merge, context=context)
