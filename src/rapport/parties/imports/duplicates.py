"""The import's duplicate stage: each batch's new contact rows against existing contacts and each other.

Per batch of rows the engine is about to *create* (rows whose match key found nothing), in three
steps whose cost grows with the batch, never with the database:

1. **Candidates** (set-based SQL on indexed columns, a few queries per batch): the contacts that
   share an email (``ContactEmail.email``), a phone (``ContactPhone.number``) or the exact first
   and last name, in either order (the ``(last_name, first_name)`` index), with a new row, among
   those the importer may read (``permissions.readable``). A key value shared by more than
   ``KEY_CAP`` contacts (a switchboard number, "info@", "John Smith") is no evidence of identity
   and brings no candidates.
2. **Scores**: ``rapport.analytics.resolve.link`` blocks the new rows with those candidates in
   DuckDB and scores every pair with the stored matcher's fixed parameters (the
   ``FittedMatcher`` of kind ``contact`` the last full scan fitted, else ``default_matcher()``):
   no EM on this biased sample. Pairs are new–existing and new–earlier-new.
3. **Decisions** by the job's ``duplicates`` option:

   * ``skip`` (before writing): a row with a pair at or above ``review_at`` to an existing contact
     or to an earlier row of the file that is imported is not imported; it goes to the skip
     report with the contact (or line) it matched and the probability;
   * ``review`` (after writing, same transaction): every pair at or above ``review_at`` goes to the
     review queue (``DuplicateSource.IMPORT``);
   * ``auto_merge``: a row whose best pair is at or above ``auto_merge_at`` is merged into that
     contact (the existing one, or the contact of the earlier row) through ``contact_merge`` —
     survivorship rules, audit, undo — unless the importer may not change that contact, which
     sends the pair to review instead; other pairs at or above ``review_at`` are queued.

Rows of the same file are matched as if the earlier row were already a contact (within a batch
by step 2, across batches because the earlier batch is committed). Pairs of a row that was merged
away are dropped: they named a contact that no longer exists, and the next scan scores the
survivor itself. Nothing is written in a dry run; the counts say what would happen.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from rapport.analytics.resolve import ColumnMap, Matcher, link
from rapport.analytics.resolve.compare import FIELDS
from rapport.core import permissions
from rapport.core.errors import DomainError
from rapport.core.models import User
from rapport.parties.choices import DuplicateSource, ImportDuplicates
from rapport.parties.duplicates import PairProposal, duplicate_pairs_record
from rapport.parties.fitted import current_matcher
from rapport.parties.imports.rows import Prepared
from rapport.parties.merge import contact_merge
from rapport.parties.models import Contact, ContactEmail, ContactPhone

KEY_CAP = 50
SQL_CHUNK = 500
COLUMNS = ColumnMap(given_name="first_name", surname="last_name", email="email", phone="phone",
                    street_address=None, city=None, postcode=None, state=None, date_of_birth="birthday",
                    organisation="company")
FRAME_COLUMNS = ["id", "first_name", "last_name", "email", "phone", "birthday", "company"]
_LEVELS = {spec.name: spec.levels for spec in FIELDS}


def contact_matcher() -> tuple[Matcher, str]:
    """The matcher to score with and where it came from: ``"fitted"`` (the last scan's) or ``"default"``;
    rescaled to the contact table's size (``parties.fitted.current_matcher``)."""
    return current_matcher()


@dataclass(frozen=True, slots=True)
class Hit:
    """One scored pair of a new row: with an existing contact (``contact_id``) or an earlier row (``row``)."""

    probability: float
    evidence: dict[str, Any]
    contact_id: int | None = None
    row: int | None = None  # index into the batch's new rows


@dataclass(frozen=True, slots=True)
class SkippedRow:
    """A row not imported because it probably duplicates ``contact_id`` or the row on ``matched_line``."""

    line: int
    probability: float
    raw: str
    contact_id: int | None = None
    contact: str = ""
    matched_line: int | None = None


@dataclass
class Screened:
    """One batch after matching: the rows to create and each row's pairs (strongest first)."""

    rows: list[Prepared]
    hits: list[list[Hit]] = field(default_factory=list)


def _evidence(pair: Any, job_id: int, line: int) -> dict[str, Any]:
    context = {"import_job": job_id, "line": line}
    if pair.exact_copy:
        return {"exact_copy": True, "fields": {}, **context}
    fields = {}
    for name, levels in _LEVELS.items():
        level = int(getattr(pair, name))
        if level >= 0:
            fields[name] = {"level": level, "label": levels[level]}
    return {"fields": fields, "match_weight": round(float(pair.match_weight), 3), "swapped": bool(pair.swapped),
            **context}


def _chunks(items: list[Any], size: int = SQL_CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _capped(pairs: Iterable[tuple[Any, int]]) -> set[int]:
    """Contact ids of the key values shared by at most ``KEY_CAP`` contacts."""
    by_key: dict[Any, set[int]] = {}
    for key, pk in pairs:
        by_key.setdefault(key, set()).add(pk)
    return {pk for ids in by_key.values() if len(ids) <= KEY_CAP for pk in ids}


class DuplicateStage:
    """The duplicate stage of one contact import (see the module docstring). One per job run."""

    def __init__(
        self,
        *,
        actor: User,
        mode: str,
        auto_merge_at: float,
        review_at: float,
        dry_run: bool,
        job_id: int,
        skip_report: Callable[[list[SkippedRow]], None],
    ) -> None:
        self.actor, self.mode, self.dry_run, self.job_id = actor, mode, dry_run, job_id
        self.auto_merge_at, self.review_at = auto_merge_at, review_at
        self.skip_report = skip_report
        self.matcher, self.matcher_source = contact_matcher()
        self.seconds = 0.0
        self.warnings: list[str] = []
        self.merged = self.queued = self.skipped = 0

    # --- 1. candidates --------------------------------------------------------------------------

    def candidates(self, rows: list[Prepared]) -> pd.DataFrame:
        emails = sorted({e for row in rows for e in row.emails})
        phones = sorted({p for row in rows for p in row.phones})
        names: set[tuple[str, str]] = set()
        for row in rows:
            first, last = row.scalars.get("first_name", ""), row.scalars.get("last_name", "")
            if first and last:
                for a, b in ((first, last), (last, first)):
                    names.add((a, b))
                    names.add((a.title(), b.title()))
        ids: set[int] = set()
        for chunk in _chunks(emails):
            ids |= _capped(ContactEmail.objects.filter(email__in=chunk).values_list("email", "contact_id"))
        for chunk in _chunks(phones):
            ids |= _capped(ContactPhone.objects.filter(number__in=chunk).values_list("number", "contact_id"))
        for chunk in _chunks(sorted(names), 200):
            where = Q()
            for first, last in chunk:
                where |= Q(last_name=last, first_name=first)
            # Counted first (an index-only read of the name index), so a name shared by thousands of
            # contacts costs a count, not thousands of rows.
            rare = Q()
            for row in (
                Contact.objects.filter(where)
                .values("last_name", "first_name")
                .annotate(n=Count("id"))
                .filter(n__lte=KEY_CAP)
                .order_by()
            ):
                rare |= Q(last_name=row["last_name"], first_name=row["first_name"])
            if rare:
                ids.update(Contact.objects.filter(rare).values_list("id", flat=True))
        out: list[tuple[Any, ...]] = []
        readable = permissions.readable(self.actor, Contact.objects.all())
        for chunk in _chunks(sorted(ids), 2000):
            for pk, first, last, email, phone, birthday, company in readable.filter(pk__in=chunk).values_list(
                "id", "first_name", "last_name", "email", "phone", "birthday", "account__name"
            ):
                out.append((f"c{pk}", first, last, email, phone, birthday.isoformat() if birthday else None,
                            company or ""))
        return pd.DataFrame(out, columns=FRAME_COLUMNS)

    # --- 2. scores ------------------------------------------------------------------------------

    def match(self, rows: list[Prepared]) -> Screened:
        """Score ``rows`` (about to be created) and, in skip mode, leave out the probable duplicates."""
        started = time.perf_counter()
        screened = Screened(rows=list(rows), hits=[[] for _row in rows])
        if not rows:
            return screened
        existing = self.candidates(rows)
        new = pd.DataFrame(
            [
                (
                    f"n{i}",
                    row.scalars.get("first_name", ""),
                    row.scalars.get("last_name", ""),
                    row.emails[0] if row.emails else "",
                    row.phones[0] if row.phones else "",
                    row.scalars["birthday"].isoformat() if row.scalars.get("birthday") else None,
                    row.company,
                )
                for i, row in enumerate(rows)
            ],
            columns=FRAME_COLUMNS,
        )
        linkage = link(existing, new, matcher=self.matcher, columns=COLUMNS, min_probability=self.review_at,
                       threads=1)
        self.warnings.extend(w for w in linkage.warnings if w not in self.warnings)
        for pair in linkage.pairs.itertuples(index=False):
            index = int(pair.id_r[1:])
            evidence = _evidence(pair, self.job_id, rows[index].line)
            other = int(pair.id_l[1:])
            if pair.id_l.startswith("c"):
                hit = Hit(float(pair.probability), evidence, contact_id=other)
            else:
                evidence["matched_line"] = rows[other].line
                hit = Hit(float(pair.probability), evidence, row=other)
            screened.hits[index].append(hit)  # pairs come strongest first
        if self.mode == ImportDuplicates.SKIP:
            screened = self._skip(screened, existing)
        self.seconds += time.perf_counter() - started
        return screened

    def _skip(self, screened: Screened, existing: pd.DataFrame) -> Screened:
        names = {
            int(r.id[1:]): " ".join(p for p in (r.first_name, r.last_name) if p) or r.email or f"#{r.id[1:]}"
            for r in existing.itertuples(index=False)
        }
        kept_rows: list[Prepared] = []
        kept_hits: list[list[Hit]] = []
        position: dict[int, int] = {}  # old index -> index among the kept rows
        skipped: list[SkippedRow] = []
        for index, (row, hits) in enumerate(zip(screened.rows, screened.hits, strict=True)):
            # An earlier row that was skipped itself is not a contact: it cannot be duplicated.
            live = [h for h in hits if h.contact_id is not None or h.row in position]
            if live:
                best = live[0]
                skipped.append(
                    SkippedRow(
                        line=row.line,
                        probability=best.probability,
                        raw=row.raw,
                        contact_id=best.contact_id,
                        contact=names.get(best.contact_id, "") if best.contact_id is not None else "",
                        matched_line=None if best.row is None else screened.rows[best.row].line,
                    )
                )
                continue
            position[index] = len(kept_rows)
            kept_rows.append(row)
            kept_hits.append([])
        self.skipped += len(skipped)
        if skipped:
            self.skip_report(skipped)
        return Screened(rows=kept_rows, hits=kept_hits)

    # --- 3. decisions (after the rows are written) -----------------------------------------------

    def apply(self, screened: Screened, created: dict[int, int | None]) -> int:
        """Merge and queue the pairs of the rows just written; returns how many rows were merged away.

        ``created``: index into ``screened.rows`` → the new contact's id (``None`` in a dry run);
        rows missing from it were rejected by the engine and have no contact.
        """
        if self.mode not in (ImportDuplicates.REVIEW, ImportDuplicates.AUTO_MERGE):
            return 0
        started = time.perf_counter()
        may_merge = self.mode == ImportDuplicates.AUTO_MERGE
        targets = {h.contact_id for hits in screened.hits for h in hits if h.contact_id is not None}
        writable: set[int] = set()
        if may_merge and targets:
            writable = set(
                permissions.writable(self.actor, Contact.objects.filter(pk__in=sorted(targets))).values_list(
                    "pk", flat=True
                )
            )
        # Row index -> the contact it lives on now: its own, or its survivor's. In a dry run rows have
        # no ids, so a row stands for itself as ("row", index).
        home: dict[int, Any] = {}
        merged_rows = 0
        proposals: list[PairProposal] = []
        would_queue: set[tuple[int, Any]] = set()
        for index in range(len(screened.rows)):
            if index not in created:
                continue  # rejected by the engine: no contact
            own = created[index]
            home[index] = own if own is not None else ("row", index)
            queue: list[tuple[Hit, Any]] = []
            merged = False
            for hit in screened.hits[index]:
                if hit.row is not None and hit.row not in home:
                    continue  # that row was rejected: no contact to pair with
                other = hit.contact_id if hit.contact_id is not None else home[hit.row]  # type: ignore[index]
                if (
                    may_merge
                    and not merged
                    and hit.probability >= self.auto_merge_at
                    and (hit.contact_id is None or hit.contact_id in writable)
                    and self._merge(own, other, hit)
                ):
                    merged = True
                    home[index] = other
                    continue
                queue.append((hit, other))
            if merged:
                merged_rows += 1
                continue  # the row's contact is gone: its other pairs name nothing
            for hit, other in queue:
                if self.dry_run:
                    would_queue.add((index, other))
                elif isinstance(other, int) and own is not None and other != own:
                    proposals.append(PairProposal(own, other, hit.probability, hit.evidence))
        if self.dry_run:
            self.queued += len(would_queue)
        elif proposals:
            recorded = duplicate_pairs_record(pairs=proposals, source=DuplicateSource.IMPORT)
            self.queued += recorded.created + recorded.updated
        self.merged += merged_rows
        self.seconds += time.perf_counter() - started
        return merged_rows

    def _merge(self, own: int | None, other: Any, hit: Hit) -> bool:
        if self.dry_run:
            return True
        if own is None or not isinstance(other, int) or other == own:
            return False
        context = {"via": "import", "import_job": self.job_id, "line": hit.evidence.get("line"),
                   "probability": round(hit.probability, 6)}
        try:
            # The pair is recorded first, so the merge marks it merged (a label for the next scan)
            # and an undo puts it back in the review queue.
            duplicate_pairs_record(pairs=[PairProposal(own, other, hit.probability, hit.evidence)],
                                   source=DuplicateSource.IMPORT)
            contact_merge(actor=self.actor, survivor=Contact.objects.get(pk=other),
                          duplicate=Contact.objects.get(pk=own), context=context)
        except (DomainError, Contact.DoesNotExist) as exc:
            reason = exc.detail if isinstance(exc, DomainError) else _("the contact no longer exists")
            self.warnings.append(
                _("Line %(line)s was not merged into contact %(id)s: %(reason)s")
                % {"line": hit.evidence.get("line"), "id": other, "reason": reason}
            )
            return False
        return True
