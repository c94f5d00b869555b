"""The duplicate scan: every contact (or account) through the identity matcher, sure pairs merged,
doubtful ones queued.

``dedupe_run`` is the one entry point (the ``rapport dedupe`` command and the Celery task call it);
``kind="account"`` scans accounts the same way, with the organisation matcher
(``rapport.analytics.resolve.organisations``: name, domain, phone, address, external id) and
``account_merge``, and stores the fitted matcher as ``FittedMatcher(kind="account")``:

1. **Read** every contact the actor may read — id, names, primary email and phone, first address
   (street, city, postal code, region), birthday — in chunks (``values_list(...).iterator()``),
   contacts and addresses both in id order and merged as they stream, into a pandas frame.
2. **Match** with ``rapport.analytics.resolve.resolve`` (Fellegi–Sunter). Decided pairs are its
   labels: merged = match, not a duplicate = no match, so a "not a duplicate" is never proposed
   again and every decision sharpens the model.
3. **Merge** each cluster linked at ``auto_merge_at`` or above into its most complete (then
   oldest) member, one transaction per merge, unless a reviewer said two of its members are
   different people — then the cluster goes to review instead.
4. **Queue** every other pair at or above ``review_at`` (``duplicate_pairs_record``).
5. **Keep the model**: the fitted matcher is stored (``fitted.matcher_store``) for the
   create-time check and imports to score with — or, when the table held too few duplicates to
   learn from, the built-in model with this table's name frequencies (``matcher_of_run``).

Re-running changes nothing that was decided: merged contacts are gone, decided pairs are skipped,
open pairs get their new probability.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.db import transaction
from django.utils.translation import gettext as _

from rapport.analytics.resolve import FIELDS, ColumnMap, matcher_of_run, resolve
from rapport.analytics.resolve.org_compare import ORG_FIELDS
from rapport.analytics.resolve.organisations import OrgColumnMap, OrgMatcher, resolve_organisations
from rapport.core import permissions
from rapport.core.errors import DomainError, ValidationFailed
from rapport.core.models import User
from rapport.parties.choices import DuplicateSource, DuplicateStatus
from rapport.parties.duplicates import PairProposal, duplicate_pairs_record, survivor_pick
from rapport.parties.fitted import matcher_store
from rapport.parties.identity_kinds import IdentityKind, kind_named
from rapport.parties.models import Account, Address, Contact

Progress = Callable[[str, float], None]
FRAME_COLUMNS = ("id", "first_name", "last_name", "email", "phone", "street", "city", "postal_code", "region",
                 "birthday", "company")
COLUMNS = ColumnMap(
    given_name="first_name",
    surname="last_name",
    email="email",
    phone="phone",
    street_address="street",
    city="city",
    postcode="postal_code",
    state="region",
    date_of_birth="birthday",
    organisation="company",  # the contact's (primary) account
)
ACCOUNT_FRAME_COLUMNS = ("id", "name", "domain", "website", "phone", "street", "city", "postal_code", "external_id")
ACCOUNT_COLUMNS = OrgColumnMap(name="name", domain="domain", website="website", email=None, phone="phone",
                               street_address="street", city="city", postcode="postal_code", identifier="external_id")
_LEVELS = {"contact": {spec.name: spec.levels for spec in FIELDS},
           "account": {spec.name: spec.levels for spec in ORG_FIELDS}}
CHUNK = 5000


@dataclass(frozen=True)
class DedupeSummary:
    contacts: int  # records scanned (contacts, or accounts when kind is "account")
    pairs: int  # scored pairs at or above review_at
    merged: int
    queued: int
    warnings: tuple[str, ...]
    seconds: float
    dry_run: bool = False
    kind: str = "contact"

    @property
    def records(self) -> int:
        return self.contacts

    def line(self) -> str:
        verb = _("would merge") if self.dry_run else _("merged")
        what = _("accounts") if self.kind == "account" else _("contacts")
        return _(
            "%(contacts)s %(what)s, %(pairs)s possible duplicate pairs: %(verb)s %(merged)s, queued %(queued)s for "
            "review, %(warnings)s warning(s), %(seconds).1f s."
        ) % {
            "contacts": f"{self.contacts:,}",
            "what": what,
            "pairs": f"{self.pairs:,}",
            "verb": verb,
            "merged": f"{self.merged:,}",
            "queued": f"{self.queued:,}",
            "warnings": len(self.warnings),
            "seconds": self.seconds,
        }


def _quiet(stage: str, fraction: float) -> None:
    return None


def _check_thresholds(auto_merge_at: float, review_at: float) -> None:
    errors: dict[str, list[str]] = {}
    for name, value in (("auto_merge_at", auto_merge_at), ("review_at", review_at)):
        if not isinstance(value, int | float) or math.isnan(value) or not 0.0 < value <= 1.0:
            errors[name] = [_("Use a probability above 0 and at most 1.")]
    if not errors and review_at > auto_merge_at:
        errors["review_at"] = [_("Review from a probability at or below the one that merges.")]
    if errors:
        raise ValidationFailed(_("The thresholds are not valid."), field_errors=errors)


# --- 1. read --------------------------------------------------------------------------------


def _first_addresses(chunk_size: int, owner: str = "contact") -> Iterator[tuple[Any, ...]]:
    """(owner_id, street, city, postal_code, region) of each contact's (or account's) first address, in id order."""
    rows = (
        Address.objects.filter(**{f"{owner}__isnull": False})
        .order_by(f"{owner}_id", "id")
        .values_list(f"{owner}_id", "street", "city", "postal_code", "region")
        .iterator(chunk_size=chunk_size)
    )
    last = None
    for row in rows:
        if row[0] != last:
            last = row[0]
            yield row


def contacts_frame(*, actor: User, chunk_size: int = CHUNK, progress: Progress | None = None) -> pd.DataFrame:
    """The matcher's input: one row per contact ``actor`` may read, read in chunks."""
    report = progress or _quiet
    contacts = permissions.readable(actor, Contact.objects.all()).order_by("pk")
    total = contacts.count()
    rows = contacts.values_list("id", "first_name", "last_name", "email", "phone", "birthday",
                                "account__name").iterator(chunk_size=chunk_size)
    addresses = _first_addresses(chunk_size)
    address = next(addresses, None)
    frames: list[pd.DataFrame] = []
    batch: list[tuple[Any, ...]] = []
    done = 0
    for pk, first, last, email, phone, birthday, company in rows:
        while address is not None and address[0] < pk:
            address = next(addresses, None)
        street, city, postal, region = address[1:] if address is not None and address[0] == pk else ("",) * 4
        batch.append((pk, first, last, email, phone, street, city, postal, region,
                      birthday.isoformat() if birthday else None, company or ""))
        if len(batch) >= chunk_size:
            frames.append(pd.DataFrame(batch, columns=list(FRAME_COLUMNS)))
            done += len(batch)
            batch = []
            report("read", done / max(total, 1))
    if batch or not frames:
        frames.append(pd.DataFrame(batch, columns=list(FRAME_COLUMNS)))
    report("read", 1.0)
    return pd.concat(frames, ignore_index=True)


def accounts_frame(*, actor: User, chunk_size: int = CHUNK, progress: Progress | None = None) -> pd.DataFrame:
    """The organisation matcher's input: one row per account ``actor`` may read, read in chunks."""
    report = progress or _quiet
    accounts = permissions.readable(actor, Account.objects.all()).order_by("pk")
    total = accounts.count()
    rows = accounts.values_list("id", "name", "domain", "website", "phone", "external_id").iterator(
        chunk_size=chunk_size
    )
    addresses = _first_addresses(chunk_size, owner="account")
    address = next(addresses, None)
    frames: list[pd.DataFrame] = []
    batch: list[tuple[Any, ...]] = []
    done = 0
    for pk, name, domain, website, phone, external_id in rows:
        while address is not None and address[0] < pk:
            address = next(addresses, None)
        street, city, postal = address[1:4] if address is not None and address[0] == pk else ("",) * 3
        batch.append((pk, name, domain, website, phone, street, city, postal, external_id))
        if len(batch) >= chunk_size:
            frames.append(pd.DataFrame(batch, columns=list(ACCOUNT_FRAME_COLUMNS)))
            done += len(batch)
            batch = []
            report("read", done / max(total, 1))
    if batch or not frames:
        frames.append(pd.DataFrame(batch, columns=list(ACCOUNT_FRAME_COLUMNS)))
    report("read", 1.0)
    return pd.concat(frames, ignore_index=True)


def _decided(kind: IdentityKind, status: list[str]) -> list[tuple[int, int, str]]:
    rows = kind.pair_model._default_manager.filter(status__in=status)
    return list(rows.values_list(f"{kind.a_field}_id", f"{kind.b_field}_id", "status"))


def decided_labels(kind: str = "contact") -> pd.DataFrame:
    """Reviewed pairs as the matcher's labels: ``id_l``, ``id_r``, ``match``."""
    values = _decided(kind_named(kind), [DuplicateStatus.MERGED, DuplicateStatus.NOT_DUPLICATE])
    return pd.DataFrame(
        {
            "id_l": [str(a) for a, _b, _s in values],
            "id_r": [str(b) for _a, b, _s in values],
            "match": [status == DuplicateStatus.MERGED for _a, _b, status in values],
        }
    )


# --- 2-4. match, merge, queue ---------------------------------------------------------------------


def _evidence(row: dict[str, Any], kind: str = "contact") -> dict[str, Any]:
    weight = row.get("match_weight")
    if weight is None or (isinstance(weight, float) and math.isinf(weight)):
        return {"exact_copy": True, "fields": {}}
    fields = {}
    for name, levels in _LEVELS[kind].items():
        level = row.get(name)
        if level is None or (isinstance(level, float) and math.isnan(level)):
            continue
        level = int(level)
        fields[name] = {"level": level, "label": levels[level] if 0 <= level < len(levels) else "missing"}
    return {"fields": fields, "match_weight": round(float(weight), 3), "swapped": bool(row.get("swapped", False))}


def _survivor_of(members: list[Any]) -> Any:
    best = members[0]
    for other in members[1:]:
        best, _dropped = survivor_pick(best, other)
    return best


def _match(kind: IdentityKind, frame: pd.DataFrame, *, auto_merge_at: float, review_at: float,
           report: Progress) -> Any:
    """The kind's resolver over ``frame``, decided pairs as labels."""
    options: dict[str, Any] = {
        "id_column": "id", "labels": decided_labels(kind.name), "threshold": min(auto_merge_at, 0.999999),
        "min_pair_probability": review_at, "progress": lambda stage, fraction: report("match", 0.3 + 0.5 * fraction),
    }
    if kind.name == "account":
        return resolve_organisations(frame, columns=ACCOUNT_COLUMNS, **options)
    return resolve(frame, columns=COLUMNS, **options)


def _store_matcher(kind: IdentityKind, result: Any, records: int, *, auto_merge_at: float, review_at: float) -> None:
    """Keep the model this scan fitted, as ``FittedMatcher(kind=...)``, for single-record scoring.

    Contacts: what the create-time check and imports score with — the scan's own model, or, when
    the table held too few duplicates to learn from, the prior's with this table's name
    frequencies (``matcher_of_run``). Accounts: the organisation matcher of the scan.
    """
    if result.model is None:
        return
    if kind.name == "account":
        threshold = min(auto_merge_at, 0.999999)
        org = OrgMatcher.from_resolution(result, threshold=threshold, min_probability=min(review_at, threshold))
        matcher_store(matcher=org, records=records, kind="account")
        return
    matcher, learnt = matcher_of_run(result)
    matcher_store(matcher=matcher, records=records, learnt=learnt)


def dedupe_run(
    *,
    actor: User,
    auto_merge_at: float = 0.98,
    review_at: float = 0.8,
    dry_run: bool = False,
    progress: Progress | None = None,
    chunk_size: int = CHUNK,
    kind: str = "contact",
) -> DedupeSummary:
    """Scan every contact (or, with ``kind="account"``, account) ``actor`` may read for duplicates
    (see the module docstring)."""
    _check_thresholds(auto_merge_at, review_at)
    spec = kind_named(kind)
    permissions.require_model_perm(actor, spec.model, "merge")
    report = progress or _quiet
    started = time.perf_counter()
    read = accounts_frame if spec.name == "account" else contacts_frame
    frame = read(actor=actor, chunk_size=chunk_size, progress=lambda s, f: report("read", f * 0.3))
    warnings: list[str] = []
    if len(frame) < 2:
        report("done", 1.0)
        return DedupeSummary(len(frame), 0, 0, 0, (), time.perf_counter() - started, dry_run, spec.name)
    result = _match(spec, frame, auto_merge_at=auto_merge_at, review_at=review_at, report=report)
    warnings.extend(result.warnings)
    if not dry_run:
        _store_matcher(spec, result, len(frame), auto_merge_at=auto_merge_at, review_at=review_at)
    pairs = result.pairs
    pair_rows = pairs.to_dict("records") if len(pairs) else []
    not_duplicates = {tuple(sorted((int(a), int(b)))) for a, b, _s in _decided(spec, [DuplicateStatus.NOT_DUPLICATE])}

    # Clusters linked at auto_merge_at: merge each into its best member.
    clusters = result.clusters
    sizes = clusters["cluster_id"].value_counts()
    multi = clusters[clusters["cluster_id"].isin(sizes[sizes > 1].index)]
    merged_away: set[int] = set()
    merged = 0
    groups = [sorted(int(i) for i in group["id"]) for _cid, group in multi.groupby("cluster_id", sort=False)]
    manager = spec.model._default_manager
    for index, ids in enumerate(groups):
        report("merge", 0.8 + 0.15 * index / max(len(groups), 1))
        id_set = set(ids)
        if any(a in id_set and b in id_set for a, b in not_duplicates):
            continue  # a reviewer said two of these are different: review instead
        members = list(manager.filter(pk__in=ids).order_by("pk"))
        if len(members) < 2:
            continue
        survivor = _survivor_of(members)
        for member in members:
            if member.pk == survivor.pk:
                continue
            if not dry_run:
                try:
                    spec.merge(
                        actor=actor,
                        survivor=manager.get(pk=survivor.pk),
                        duplicate=member,
                        context={"via": "dedupe", "cluster": ids},
                    )
                except DomainError as exc:
                    warnings.append(
                        _("%(what)s %(dup)s was not merged into %(survivor)s: %(reason)s")
                        % {"what": str(spec.label).capitalize(), "dup": member.pk, "survivor": survivor.pk,
                           "reason": exc.detail}
                    )
                    continue
            merged += 1
            merged_away.add(member.pk)

    # Everything else at or above review_at goes to the queue.
    report("queue", 0.95)
    proposals = []
    for row in pair_rows:
        low, high = sorted((int(row["id_l"]), int(row["id_r"])))
        if low in merged_away or high in merged_away or (low, high) in not_duplicates:
            continue
        if float(row["probability"]) < review_at:
            continue
        proposals.append(PairProposal(low, high, float(row["probability"]), _evidence(row, spec.name)))
    if dry_run:
        queued = len(proposals)
    else:
        recorded = duplicate_pairs_record(pairs=proposals, source=DuplicateSource.BATCH, kind=spec.name)
        queued = recorded.created + recorded.updated
    report("done", 1.0)
    return DedupeSummary(
        contacts=len(frame),
        pairs=len(pair_rows),
        merged=merged,
        queued=queued,
        warnings=tuple(warnings),
        seconds=time.perf_counter() - started,
        dry_run=dry_run,
        kind=spec.name,
    )


def dedupe_schedule(*, actor: User, auto_merge_at: float = 0.98, review_at: float = 0.8,
                    kind: str = "contact") -> None:
    """Run the scan in the background (a Celery task, enqueued when the transaction commits)."""
    _check_thresholds(auto_merge_at, review_at)
    spec = kind_named(kind)
    permissions.require_model_perm(actor, spec.model, "merge")
    from rapport.parties.tasks import dedupe_run_task

    transaction.on_commit(
        lambda: dedupe_run_task.apply_async(args=[actor.pk, auto_merge_at, review_at, spec.name], queue="imports")
    )
