"""The kinds of party that identity resolution handles — contacts and accounts — and what differs between them.

The review queue (``parties.duplicates``), the batch scan (``parties.identity_batch``), the API
and the pages are written once against :class:`IdentityKind`; each kind names its models, its
merge service, how complete a record is, and which matcher field backs which model field on the
review page. ``KINDS["contact"]`` and ``KINDS["account"]`` are the two instances.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from rapport.core.errors import ValidationFailed
from rapport.parties.merge import contact_merge, contact_merge_get, contact_merge_plan, contact_merge_undo
from rapport.parties.merge_accounts import account_merge, account_merge_get, account_merge_plan, account_merge_undo
from rapport.parties.models import (
    Account,
    AccountDuplicatePair,
    AccountMerge,
    Address,
    Contact,
    ContactEmail,
    ContactMerge,
    ContactPhone,
    DuplicatePair,
)
from rapport.parties.services import ACCOUNT_SCALARS, CONTACT_SCALARS


@dataclass(frozen=True)
class IdentityKind:
    """One kind of party as the identity code sees it.

    ``a_field``/``b_field``: the pair model's two links (``a`` has the lower id). ``merge``,
    ``merge_plan``, ``merge_get``, ``merge_undo``: the kind's merge services, all keyword-only as
    ``contact_merge`` is. ``completeness(party)``: filled values, the survivor pick's measure.
    ``evidence_fields``: model field -> the matcher field whose level the review page shows.
    """

    name: str
    model: type[Model]
    pair_model: type[Model]
    merge_model: type[Model]
    a_field: str
    b_field: str
    merge: Callable[..., Any]
    merge_plan: Callable[..., Any]
    merge_get: Callable[..., Any]
    merge_undo: Callable[..., Any]
    completeness: Callable[[Any], int]
    evidence_fields: dict[str, str]
    label: Promise
    label_plural: Promise

    def pair_ids(self, low: int, high: int) -> dict[str, int]:
        return {f"{self.a_field}_id": low, f"{self.b_field}_id": high}


def _filled(party: Model, scalars: tuple[str, ...]) -> int:
    return sum(1 for name in scalars if getattr(party, name) not in (None, "")) + len(party.custom or {})  # type: ignore[attr-defined]


def contact_completeness(contact: Contact) -> int:
    return (
        _filled(contact, CONTACT_SCALARS)
        + ContactEmail.objects.filter(contact=contact).count()
        + ContactPhone.objects.filter(contact=contact).count()
        + Address.objects.filter(contact=contact).count()
    )


def account_completeness(account: Account) -> int:
    return (
        _filled(account, ACCOUNT_SCALARS)
        + Address.objects.filter(account=account).count()
        + Contact.objects.filter(account=account).count()
    )


CONTACT_KIND = IdentityKind(
    name="contact", model=Contact, pair_model=DuplicatePair, merge_model=ContactMerge,
    a_field="contact_a", b_field="contact_b",
    merge=contact_merge, merge_plan=contact_merge_plan, merge_get=contact_merge_get, merge_undo=contact_merge_undo,
    completeness=contact_completeness,
    evidence_fields={"first_name": "given_name", "last_name": "surname", "birthday": "date_of_birth"},
    label=_("contact"), label_plural=_("contacts"),
)
ACCOUNT_KIND = IdentityKind(
    name="account", model=Account, pair_model=AccountDuplicatePair, merge_model=AccountMerge,
    a_field="account_a", b_field="account_b",
    merge=account_merge, merge_plan=account_merge_plan, merge_get=account_merge_get, merge_undo=account_merge_undo,
    completeness=account_completeness,
    evidence_fields={"name": "name", "domain": "domain", "website": "domain", "phone": "phone",
                     "external_id": "identifier"},
    label=_("account"), label_plural=_("accounts"),
)
KINDS: dict[str, IdentityKind] = {"contact": CONTACT_KIND, "account": ACCOUNT_KIND}
_BY_PAIR = {kind.pair_model: kind for kind in KINDS.values()}
_BY_MODEL = {kind.model: kind for kind in KINDS.values()}


def kind_named(name: str) -> IdentityKind:
    """The kind called ``name``; ``ValidationFailed`` for any other."""
    try:
        return KINDS[name]
    except (KeyError, TypeError):
        raise ValidationFailed(
            _("Unknown kind of record."), field_errors={"kind": [_("Use “contact” or “account”.")]}
        ) from None


def kind_of_pair(pair: Model) -> IdentityKind:
    return _BY_PAIR[type(pair)]


def kind_of_party(party: Model) -> IdentityKind:
    return _BY_MODEL[type(party)]
