"""The duplicate review queue: proposed pairs of contacts or of accounts, and the decisions reviewers make on them.

Every function takes the kind of party (``parties.identity_kinds``: ``"contact"``, the default,
or ``"account"``) or reads it from the pair; the rules are the same for both.

Services: ``duplicate_pairs_record`` (the matcher's proposals, upserted; decided pairs are left
alone), ``duplicate_decide`` (merge / not a duplicate / skip) and ``duplicate_bulk_accept``.
Selectors: ``duplicate_queue`` and ``duplicate_get``.

Rules:

* Reviewing needs the kind's merge right (``parties.merge_contact`` / ``parties.merge_account``)
  and read access to both records; merging needs, in addition, the right to change both. A pair
  with a record the reviewer may not read does not exist for them.
* ``not_duplicate`` and ``merged`` are decisions: the pair is never proposed again (the batch
  job passes them to the matcher as labels). ``skipped`` means "not now": the pair leaves the
  queue and the next duplicate scan proposes it again if the matcher still finds it.
* The survivor of a pair is the more complete record (filled fields, emails, phones, addresses;
  for accounts addresses and contacts), the older one on a tie; a reviewer may pick the other.
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
from rapport.parties.identity_kinds import CONTACT_KIND, IdentityKind, kind_named, kind_of_pair, kind_of_party

DECISIONS = ("merge", "not_duplicate", "skip")
DECIDED = (DuplicateStatus.MERGED, DuplicateStatus.NOT_DUPLICATE)
# Contact field -> the matcher's field whose evidence level the review page shows beside it.
EVIDENCE_FIELDS = CONTACT_KIND.evidence_fields
_CHUNK = 500


@dataclass(frozen=True)
class PairProposal:
    """One pair the matcher proposes (two contacts or two accounts), in either order."""

    a_id: int
    b_id: int
    probability: float
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordResult:
    created: int
    updated: int
    ignored: int


@dataclass(frozen=True)
class Decision:
    pair: Any  # DuplicatePair or AccountDuplicatePair
    merge: Any = None  # ContactMerge or AccountMerge


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


def _require_reviewer(actor: User, kind: IdentityKind) -> None:
    permissions.require_model_perm(actor, kind.model, "view")
    permissions.require_model_perm(actor, kind.model, "merge")


# --- the matcher's proposals -------------------------------------------------------------------


def duplicate_pairs_record(*, pairs: Iterable[PairProposal], source: str, kind: str = "contact") -> RecordResult:
    """Upsert open pairs: new ones are created, open and skipped ones get the new probability and
    evidence (and are open again), decided ones (merged, not a duplicate) are left alone, and pairs
    naming a record that does not exist are ignored."""
    spec = kind_named(kind)
    party, pair_model, a_id, b_id = spec.model, spec.pair_model, f"{spec.a_field}_id", f"{spec.b_field}_id"
    if source not in DuplicateSource.values:
        raise ValidationFailed(_("Unknown source of duplicates."), field_errors={"source": [str(source)]})
    wanted: dict[tuple[int, int], PairProposal] = {}
    for proposal in pairs:
        low, high = sorted((int(proposal.a_id), int(proposal.b_id)))
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
            existing = set(party._default_manager.filter(pk__in=ids).values_list("pk", flat=True))
            lows = sorted({low for low, _high in chunk})
            rows = {
                (getattr(row, a_id), getattr(row, b_id)): row
                for row in pair_model._default_manager.filter(**{f"{a_id}__in": lows, f"{b_id}__in": ids})
            }
            new, changed = [], []
            for key in chunk:
                proposal = wanted[key]
                if key[0] not in existing or key[1] not in existing:
                    ignored += 1
                    continue
                row = rows.get(key)
                if row is None:
                    new.append(
                        pair_model(
                            **spec.pair_ids(key[0], key[1]),
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
            pair_model._default_manager.bulk_create(new, ignore_conflicts=True)
            pair_model._default_manager.bulk_update(
                changed, ["probability", "evidence", "status", "updated_at", "decided_by", "decided_at"]
            )
            created += len(new)
            updated += len(changed)
    return RecordResult(created=created, updated=updated, ignored=ignored)


# --- reads -----------------------------------------------------------------------------------


def _visible(actor: User, kind: IdentityKind) -> QuerySet[Any]:
    readable_ids = permissions.readable(actor, kind.model._default_manager.all()).values("pk")
    return kind.pair_model._default_manager.filter(
        **{f"{kind.a_field}__in": readable_ids, f"{kind.b_field}__in": readable_ids}
    )


def duplicate_queue(
    *,
    actor: User,
    min_probability: float | None = None,
    cursor: str | None = None,
    limit: int = 50,
    status: str = DuplicateStatus.OPEN,
    kind: str = "contact",
) -> Page[Any]:
    """Pairs of ``status`` whose both records ``actor`` may read, most probable first (keyset pages)."""
    spec = kind_named(kind)
    _require_reviewer(actor, spec)
    if status not in DuplicateStatus.values:
        raise ValidationFailed(_("Unknown status."), field_errors={"status": [_("Use one of %(v)s.") % {
            "v": ", ".join(DuplicateStatus.values)}]})
    qs = _visible(actor, spec).filter(status=status).select_related(spec.a_field, spec.b_field)
    if min_probability is not None:
        qs = qs.filter(probability__gte=_probability(min_probability))
    return keyset_page(qs, ordering=["-probability"], cursor=cursor, limit=limit)


def duplicate_get(*, actor: User, pair_id: Any, kind: str = "contact") -> Any:
    """The pair if ``actor`` may review it and read both records, else ``NotFound``."""
    spec = kind_named(kind)
    _require_reviewer(actor, spec)
    try:
        return _visible(actor, spec).select_related(spec.a_field, spec.b_field, "decided_by").get(pk=pair_id)
    except (spec.pair_model.DoesNotExist, ValueError, TypeError):  # type: ignore[attr-defined]
        raise NotFound(_("Possible duplicate %(id)s was not found.") % {"id": pair_id}) from None


def duplicate_neighbours(*, actor: User, pair: Any) -> tuple[int | None, int | None]:
    """The ids of the open pairs before and after ``pair`` in queue order (for j/k)."""
    qs = _visible(actor, kind_of_pair(pair)).filter(status=DuplicateStatus.OPEN)
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


def completeness(party: Any) -> int:
    """How much a record holds: filled fields and its values (the survivor pick's measure)."""
    return kind_of_party(party).completeness(party)


def survivor_pick(first: Any, second: Any) -> tuple[Any, Any]:
    """``(survivor, duplicate)``: the more complete record survives, the older one on a tie."""

    def key(party: Any) -> tuple[int, float, int]:
        return (completeness(party), -party.created_at.timestamp(), -party.pk)

    return (first, second) if key(first) >= key(second) else (second, first)


# --- decisions -------------------------------------------------------------------------------


def _versions_of(versions: dict[Any, Any] | None, contact: Any) -> int | None:
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
    pair: Any,
    decision: str,
    field_choices: dict[str, str] | None = None,
    survivor_id: int | None = None,
    versions: dict[Any, Any] | None = None,
    context: dict[str, Any] | None = None,
) -> Decision:
    """Decide one pair (of contacts or accounts): ``merge`` (into the picked or the given survivor),
    ``not_duplicate`` or ``skip``.

    ``versions``: ``{record_id: version}`` the reviewer saw; a merge of a record changed since
    is refused with ``Conflict``. A pair decided already is refused with ``Conflict``.
    """
    if decision not in DECISIONS:
        raise ValidationFailed(
            _("Unknown decision."), field_errors={"decision": [_("Use one of %(v)s.") % {"v": ", ".join(DECISIONS)}]}
        )
    spec = kind_of_pair(pair)
    pair = duplicate_get(actor=actor, pair_id=pair.pk, kind=spec.name)
    if pair.status in DECIDED:
        raise Conflict(
            _("This pair was decided already (%(status)s).") % {"status": pair.get_status_display()}
        )
    first, second = pair.first, pair.second
    if decision == "merge":
        if survivor_id is None:
            survivor, duplicate = survivor_pick(first, second)
        elif int(survivor_id) in (first.pk, second.pk):
            survivor, duplicate = (first, second) if int(survivor_id) == first.pk else (second, first)
        else:
            raise ValidationFailed(
                _("The survivor must be one of the pair."), field_errors={"survivor_id": [_("Not in this pair.")]}
            )
        merge = spec.merge(
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
    updated = spec.pair_model._default_manager.filter(pk=pair.pk).exclude(status__in=DECIDED).update(
        status=status, decided_by=actor, decided_at=now, updated_at=now
    )
    if not updated:
        raise Conflict(_("This pair was decided meanwhile."))
    pair.refresh_from_db()
    return Decision(pair=pair)


def duplicate_bulk_accept(
    *, actor: User, min_probability: float, context: dict[str, Any] | None = None, kind: str = "contact"
) -> BulkAcceptResult:
    """Merge every open pair at or above ``min_probability`` that ``actor`` may merge, most probable
    first. Each merge is its own transaction; a pair whose record vanished (merged by an earlier
    pair) or that the actor may not change is skipped and counted."""
    spec = kind_named(kind)
    _require_reviewer(actor, spec)
    threshold = _probability(min_probability)
    ids = list(
        _visible(actor, spec)
        .filter(status=DuplicateStatus.OPEN, probability__gte=threshold)
        .order_by("-probability", "-id")
        .values_list("id", flat=True)
    )
    merged: list[int] = []
    skipped = 0
    problems: list[str] = []
    for pair_id in ids:
        try:
            pair = duplicate_get(actor=actor, pair_id=pair_id, kind=spec.name)
        except NotFound:
            skipped += 1  # a record of the pair was merged away by an earlier pair
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
