"""The duplicate review queue: proposed pairs of contacts, and the decisions reviewers make on them.

Services: ``duplicate_pairs_record`` (the matcher's proposals, upserted; decided pairs are left
alone), ``duplicate_decide`` (merge / not a duplicate / skip) and ``duplicate_bulk_accept``.
Selectors: ``duplicate_queue`` and ``duplicate_get``.

Rules:

* Reviewing needs the merge right (``parties.merge_contact``) and read access to both contacts;
  merging needs, in addition, the right to change both (``parties.merge``). A pair with a
  contact the reviewer may not read does not exist for them.
* ``not_duplicate`` and ``merged`` are decisions: the pair is never proposed again (the batch
  job passes them to the matcher as labels). ``skipped`` means "not now": the pair leaves the
  queue and the next duplicate scan proposes it again if the matcher still finds it.
* The survivor of a pair is the more complete contact (filled fields, emails, phones,
  addresses), the older one on a tie; a reviewer may pick the other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.core import permissions
from rapport.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from rapport.core.models import User
from rapport.core.pagination import Page, keyset_page
from rapport.parties.choices import DuplicateSource, DuplicateStatus
from rapport.parties.merge import contact_merge
from rapport.parties.models import Address, Contact, ContactEmail, ContactMerge, ContactPhone, DuplicatePair
from rapport.parties.selectors import contact_queryset
from rapport.parties.services import CONTACT_SCALARS

DECISIONS = ("merge", "not_duplicate", "skip")
DECIDED = (DuplicateStatus.MERGED, DuplicateStatus.NOT_DUPLICATE)
# Contact field -> the matcher's field whose evidence level the review page shows beside it.
EVIDENCE_FIELDS = {"first_name": "given_name", "last_name": "surname", "birthday": "date_of_birth"}
_CHUNK = 500


@dataclass(frozen=True)
class PairProposal:
    """One pair the matcher proposes, in either order."""

    contact_a_id: int
    contact_b_id: int
    probability: float
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordResult:
    created: int
    updated: int
    ignored: int


@dataclass(frozen=True)
class Decision:
    pair: DuplicatePair
    merge: ContactMerge | None = None


@dataclass(frozen=True)
class BulkAcceptResult:
    merged: int
    skipped: int
    merges: tuple[int, ...]
    problems: tuple[str, ...]


def _probability(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationFailed(
            _("A probability is a number between 0 and 1."), field_errors={"min_probability": [_("Not a number.")]}
        ) from None
    if not 0.0 <= number <= 1.0:
        raise ValidationFailed(
            _("A probability is a number between 0 and 1."),
            field_errors={"min_probability": [_("Use a number between 0 and 1.")]},
        )
    return number


def _require_reviewer(actor: User) -> None:
    permissions.require_model_perm(actor, Contact, "view")
    permissions.require_model_perm(actor, Contact, "merge")


# --- the matcher's proposals -------------------------------------------------------------------


def duplicate_pairs_record(*, pairs: Iterable[PairProposal], source: str) -> RecordResult:
    """Upsert open pairs: new ones are created, open and skipped ones get the new probability and
    evidence (and are open again), decided ones (merged, not a duplicate) are left alone, and pairs
    naming a contact that does not exist are ignored."""
    if source not in DuplicateSource.values:
        raise ValidationFailed(_("Unknown source of duplicates."), field_errors={"source": [str(source)]})
    wanted: dict[tuple[int, int], PairProposal] = {}
    for proposal in pairs:
        low, high = sorted((int(proposal.contact_a_id), int(proposal.contact_b_id)))
        if low == high:
            continue
        probability = min(max(float(proposal.probability), 0.0), 1.0)
        known = wanted.get((low, high))
        if known is None or probability > known.probability:
            wanted[(low, high)] = PairProposal(low, high, probability, proposal.evidence)
    created = updated = ignored = 0
    keys = sorted(wanted)
    now = timezone.now()
    with transaction.atomic():
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            ids = {pk for key in chunk for pk in key}
            existing_contacts = set(Contact.objects.filter(pk__in=ids).values_list("pk", flat=True))
            lows = sorted({low for low, _high in chunk})
            rows = {
                (row.contact_a_id, row.contact_b_id): row
                for row in DuplicatePair.objects.filter(contact_a_id__in=lows, contact_b_id__in=ids)
            }
            new, changed = [], []
            for key in chunk:
                proposal = wanted[key]
                if key[0] not in existing_contacts or key[1] not in existing_contacts:
                    ignored += 1
                    continue
                row = rows.get(key)
                if row is None:
                    new.append(
                        DuplicatePair(
                            contact_a_id=key[0],
                            contact_b_id=key[1],
                            probability=proposal.probability,
                            evidence=proposal.evidence,
                            source=source,
                            created_at=now,
                            updated_at=now,
                        )
                    )
                elif row.status in DECIDED:
                    ignored += 1
                else:
                    row.probability, row.evidence, row.status, row.updated_at = (
                        proposal.probability,
                        proposal.evidence,
                        DuplicateStatus.OPEN,
                        now,
                    )
                    row.decided_by, row.decided_at = None, None
                    changed.append(row)
            DuplicatePair.objects.bulk_create(new, ignore_conflicts=True)
            DuplicatePair.objects.bulk_update(
                changed, ["probability", "evidence", "status", "updated_at", "decided_by", "decided_at"]
            )
            created += len(new)
            updated += len(changed)
    return RecordResult(created=created, updated=updated, ignored=ignored)


# --- reads -----------------------------------------------------------------------------------


def _visible(actor: User) -> QuerySet[DuplicatePair]:
    readable_ids = contact_queryset(actor=actor).values("pk")
    return DuplicatePair.objects.filter(contact_a__in=readable_ids, contact_b__in=readable_ids)


def duplicate_queue(
    *,
    actor: User,
    min_probability: float | None = None,
    cursor: str | None = None,
    limit: int = 50,
    status: str = DuplicateStatus.OPEN,
) -> Page[DuplicatePair]:
    """Pairs of ``status`` whose both contacts ``actor`` may read, most probable first (keyset pages)."""
    _require_reviewer(actor)
    if status not in DuplicateStatus.values:
        raise ValidationFailed(_("Unknown status."), field_errors={"status": [_("Use one of %(v)s.") % {
            "v": ", ".join(DuplicateStatus.values)}]})
    qs = _visible(actor).filter(status=status).select_related("contact_a", "contact_b")
    if min_probability is not None:
        qs = qs.filter(probability__gte=_probability(min_probability))
    return keyset_page(qs, ordering=["-probability"], cursor=cursor, limit=limit)


def duplicate_get(*, actor: User, pair_id: Any) -> DuplicatePair:
    """The pair if ``actor`` may review it and read both contacts, else ``NotFound``."""
    _require_reviewer(actor)
    try:
        return _visible(actor).select_related("contact_a", "contact_b", "decided_by").get(pk=pair_id)
    except (DuplicatePair.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Possible duplicate %(id)s was not found.") % {"id": pair_id}) from None


def duplicate_neighbours(*, actor: User, pair: DuplicatePair) -> tuple[int | None, int | None]:
    """The ids of the open pairs before and after ``pair`` in queue order (for j/k)."""
    qs = _visible(actor).filter(status=DuplicateStatus.OPEN)
    p = pair.probability
    previous = (
        qs.filter(Q(probability__gt=p) | Q(probability=p, id__gt=pair.pk))
        .order_by("probability", "id")
        .values_list("id", flat=True)
        .first()
    )
    following = (
        qs.filter(Q(probability__lt=p) | Q(probability=p, id__lt=pair.pk))
        .order_by("-probability", "-id")
        .values_list("id", flat=True)
        .first()
    )
    return previous, following


def completeness(contact: Contact) -> int:
    filled = sum(1 for name in CONTACT_SCALARS if getattr(contact, name) not in (None, ""))
    return (
        filled
        + len(contact.custom or {})
        + ContactEmail.objects.filter(contact=contact).count()
        + ContactPhone.objects.filter(contact=contact).count()
        + Address.objects.filter(contact=contact).count()
    )


def survivor_pick(first: Contact, second: Contact) -> tuple[Contact, Contact]:
    """``(survivor, duplicate)``: the more complete contact survives, the older one on a tie."""

    def key(contact: Contact) -> tuple[int, float, int]:
        return (completeness(contact), -contact.created_at.timestamp(), -contact.pk)

    return (first, second) if key(first) >= key(second) else (second, first)


# --- decisions -------------------------------------------------------------------------------


def _versions_of(versions: dict[Any, Any] | None, contact: Contact) -> int | None:
    if not versions:
        return None
    value = versions.get(str(contact.pk), versions.get(contact.pk))
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(
            _("A version is a whole number."), field_errors={f"versions.{contact.pk}": [_("Not a number.")]}
        ) from None


def duplicate_decide(
    *,
    actor: User,
    pair: DuplicatePair,
    decision: str,
    field_choices: dict[str, str] | None = None,
    survivor_id: int | None = None,
    versions: dict[Any, Any] | None = None,
    context: dict[str, Any] | None = None,
) -> Decision:
    """Decide one pair: ``merge`` (into the picked or the given survivor), ``not_duplicate`` or ``skip``.

    ``versions``: ``{contact_id: version}`` the reviewer saw; a merge of a contact changed since
    is refused with ``Conflict``. A pair decided already is refused with ``Conflict``.
    """
    if decision not in DECISIONS:
        raise ValidationFailed(
            _("Unknown decision."), field_errors={"decision": [_("Use one of %(v)s.") % {"v": ", ".join(DECISIONS)}]}
        )
    pair = duplicate_get(actor=actor, pair_id=pair.pk)
    if pair.status in DECIDED:
        raise Conflict(
            _("This pair was decided already (%(status)s).") % {"status": pair.get_status_display()}
        )
    first, second = pair.contact_a, pair.contact_b
    if decision == "merge":
        if survivor_id is None:
            survivor, duplicate = survivor_pick(first, second)
        elif int(survivor_id) in (first.pk, second.pk):
            survivor, duplicate = (first, second) if int(survivor_id) == first.pk else (second, first)
        else:
            raise ValidationFailed(
                _("The survivor must be one of the pair."), field_errors={"survivor_id": [_("Not in this pair.")]}
            )
        merge = contact_merge(
            actor=actor,
            survivor=survivor,
            duplicate=duplicate,
            field_choices=field_choices,
            survivor_version=_versions_of(versions, survivor),
            duplicate_version=_versions_of(versions, duplicate),
            pair=pair,
            context={"via": "review", **(context or {}), "pair_id": pair.pk, "probability": pair.probability},
        )
        pair.refresh_from_db()
        return Decision(pair=pair, merge=merge)
    status = DuplicateStatus.NOT_DUPLICATE if decision == "not_duplicate" else DuplicateStatus.SKIPPED
    now = timezone.now()
    updated = DuplicatePair.objects.filter(pk=pair.pk).exclude(status__in=DECIDED).update(
        status=status, decided_by=actor, decided_at=now, updated_at=now
    )
    if not updated:
        raise Conflict(_("This pair was decided meanwhile."))
    pair.refresh_from_db()
    return Decision(pair=pair)


def duplicate_bulk_accept(
    *, actor: User, min_probability: float, context: dict[str, Any] | None = None
) -> BulkAcceptResult:
    """Merge every open pair at or above ``min_probability`` that ``actor`` may merge, most probable
    first. Each merge is its own transaction; a pair whose contact vanished (merged by an earlier
    pair) or that the actor may not change is skipped and counted."""
    _require_reviewer(actor)
    threshold = _probability(min_probability)
    ids = list(
        _visible(actor)
        .filter(status=DuplicateStatus.OPEN, probability__gte=threshold)
        .order_by("-probability", "-id")
        .values_list("id", flat=True)
    )
    merged: list[int] = []
    skipped = 0
    problems: list[str] = []
    for pair_id in ids:
        try:
            pair = duplicate_get(actor=actor, pair_id=pair_id)
        except NotFound:
            skipped += 1  # a contact of the pair was merged away by an earlier pair
            continue
        try:
            decision = duplicate_decide(
                actor=actor, pair=pair, decision="merge", context={"via": "bulk_accept", **(context or {})}
            )
        except DomainError as exc:
            skipped += 1
            problems.append(f"{pair}: {exc.detail}")
            continue
        assert decision.merge is not None
        merged.append(decision.merge.pk)
    return BulkAcceptResult(merged=len(merged), skipped=skipped, merges=tuple(merged), problems=tuple(problems))
