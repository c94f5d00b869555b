"""The create-time duplicate check: "possible duplicate of …" while a contact is being entered.

``duplicate_check(actor=..., data=...)`` takes the same ``data`` as ``services.contact_create``
(valid or not: it reads what it can) and answers, in tens of milliseconds at a million
contacts, which existing contacts the new one probably is, with the evidence per field.

1. **Candidates** come from indexes, never from a scan: contacts holding one of the new emails
   or phone numbers (any of theirs, not only the primary), contacts whose names match the new
   name within one edit per word in any order (the search rule, so "Jonh Smtih" and "Smith,
   John" are found), and — capped — contacts with the same surname and given-name initial or
   a nickname of the given name ("Bob" for "Robert") — or, when the new record has a birthday
   or postal code, every contact with its surname that shares one of them (two small indexed
   reads). At most ``CANDIDATES`` in all.
2. **Scoring** is the identity matcher of the duplicate scan: the ``FittedMatcher`` the last
   scan stored for contacts (the model learnt from this database), or the built-in prior
   before any scan, rescaled to the table's present size (``fitted.current_matcher``). A
   candidate that shares an email or phone with the new record is compared on that value (it
   is one of its values, even if not its primary one).
3. **Access**: only contacts the actor may read are shown; ``hidden`` counts the others that
   reach the warning bar, so a user is told a duplicate exists without seeing whose it is.

Nothing here writes, except ``duplicate_check_record``, which queues the pairs of a contact
created in spite of a warning (source "New contact"), so that a reviewer sees them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rapport.analytics.resolve.nicknames import CANONICAL, NICKNAMES
from rapport.core import permissions
from rapport.core.errors import DomainError, ValidationFailed
from rapport.core.models import User
from rapport.parties.choices import DuplicateSource
from rapport.parties.duplicates import PairProposal, RecordResult, duplicate_pairs_record
from rapport.parties.fitted import current_matcher
from rapport.parties.identity_batch import COLUMNS
from rapport.parties.models import Account, Address, Contact, ContactEmail, ContactPhone
from rapport.parties.normalize import email_normalize, phone_normalize
from rapport.parties.search import MIN_FUZZY_WORD, NameQuery, contact_name_ids_many, name_tokens
from rapport.parties.services import contact_create

CANDIDATES = 60  # scoring is linear in these; 60 keep the check well inside its 50 ms budget
NAME_CANDIDATES = 40  # of which at most this many from the full-name rule …
LOOSE_CANDIDATES = 15  # … and this many from each looser name rule (initial, nickname)
NICKNAME_VARIANTS = 4
SHOWN = 5  # a warning lists at most this many contacts
REVIEW_AT = 0.8  # a contact created in spite of a warning is queued with pairs from here (the scan's default)
ON_DUPLICATE = ("warn", "block", "off")


# The matcher's fields as a user reads them, in the order a warning lists their evidence.
FIELD_LABELS = {
    "email": gettext_lazy("Email"),
    "phone": gettext_lazy("Phone"),
    "surname": gettext_lazy("Last name"),
    "given_name": gettext_lazy("First name"),
    "date_of_birth": gettext_lazy("Birthday"),
    "location": gettext_lazy("Address"),
    "organisation": gettext_lazy("Employer"),
}
LEVEL_LABELS = {
    "exact": gettext_lazy("same"),
    "different": gettext_lazy("different"),
    "missing": gettext_lazy("missing"),
    "nickname": gettext_lazy("nickname"),
    "initial": gettext_lazy("initial"),
    "similar": gettext_lazy("similar"),
    "very similar": gettext_lazy("very similar"),
    "one typo": gettext_lazy("one typo"),
    "one digit off": gettext_lazy("one digit off"),
    "two of day, month and year": gettext_lazy("two of day, month and year"),
    "day and month swapped": gettext_lazy("day and month swapped"),
    "same city or postcode": gettext_lazy("same city or postcode"),
    "same city and postcode": gettext_lazy("same city and postcode"),
    "similar street": gettext_lazy("similar street"),
    "same street": gettext_lazy("same street"),
}


@dataclass(frozen=True)
class PossibleDuplicate:
    """One existing contact the new record may be: its probability and per-field evidence."""

    contact_id: int
    name: str
    email: str
    phone: str
    account_name: str
    probability: float
    likely: bool  # at or above the matcher's threshold: "probably the same person"
    evidence: Mapping[str, str]  # matcher field -> level name ("exact", "one typo", "missing", …)
    exact_copy: bool = False

    @property
    def percent(self) -> int:
        return round(self.probability * 100)

    @property
    def evidence_shown(self) -> list[tuple[str, str, str]]:
        """(field label, level label, level) for the fields both records have, in ``FIELD_LABELS`` order."""
        return [(str(label), str(LEVEL_LABELS.get(self.evidence[name], self.evidence[name])), self.evidence[name])
                for name, label in FIELD_LABELS.items() if self.evidence.get(name, "missing") != "missing"]


@dataclass(frozen=True)
class DuplicateCheck:
    """The answer for one record. ``matches`` is strongest first, at most ``SHOWN``."""

    matches: tuple[PossibleDuplicate, ...] = ()
    hidden: int = 0  # contacts the actor may not read that reach ``warn_at``
    candidates: int = 0
    matcher: str = "none"  # "fitted" (the last scan's), "default" (the prior), "none" (nothing to compare)
    scores: tuple[tuple[int, float, dict[str, Any]], ...] = field(default=(), repr=False)

    @property
    def likely(self) -> tuple[PossibleDuplicate, ...]:
        return tuple(m for m in self.matches if m.likely)


class PossibleDuplicates(DomainError):
    """A create with ``on_duplicate="block"`` found a likely duplicate; nothing was written."""

    slug = "possible-duplicate"
    status = 409
    title = "The contact probably exists already"


@dataclass(frozen=True)
class CheckedCreate:
    contact: Contact
    check: DuplicateCheck
    queued: int  # pairs put in the review queue


def warn_at() -> float:
    """The probability from which a candidate is shown (``RAPPORT_DUPLICATE_WARN_AT``, default 0.5)."""
    return float(settings.RAPPORT_DUPLICATE_WARN_AT)


# --- the record ------------------------------------------------------------------------------------


def _primary(items: Iterable[Any], key: str, parse: Any) -> tuple[str, list[str]]:
    """(primary value, all values) of ``emails``/``phones`` as contact_create accepts them; bad ones skipped."""
    values: list[str] = []
    primary = ""
    for entry in items or []:
        raw = entry if isinstance(entry, str) else (entry or {}).get(key)
        try:
            value = parse(str(raw or ""))
        except ValueError:
            continue
        if value in values:
            continue
        values.append(value)
        if not primary or (isinstance(entry, Mapping) and entry.get("is_primary")):
            primary = value
    return primary, values


def _phone(raw: str) -> str:
    return phone_normalize(raw, settings.RAPPORT_DEFAULT_PHONE_REGION)


def _record(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[str], list[str]]:
    """The matcher's view of ``data`` (``identity_batch.COLUMNS`` keys), and all its emails and phones."""
    email, emails = _primary(data.get("emails") or [], "email", email_normalize)
    phone, phones = _primary(data.get("phones") or [], "number", _phone)
    addresses = [a for a in data.get("addresses") or [] if isinstance(a, Mapping)]
    address = addresses[0] if addresses else {}
    birthday = data.get("birthday")
    record = {
        "id": None,
        "first_name": str(data.get("first_name") or "").strip(),
        "last_name": str(data.get("last_name") or "").strip(),
        "email": email or None,
        "phone": phone or None,
        "street": str(address.get("street") or "") or None,
        "city": str(address.get("city") or "") or None,
        "postal_code": str(address.get("postal_code") or "") or None,
        "region": str(address.get("region") or "") or None,
        "birthday": birthday.isoformat() if isinstance(birthday, dt.date) else (str(birthday) if birthday else None),
        "company": _company(data),
    }
    return record, emails, phones


def _company(data: Mapping[str, Any]) -> str | None:
    """The employer the new contact is being given: its account's name (one primary-key read)."""
    account = data.get("account")
    if isinstance(account, Account):
        return account.name or None
    account_id = data.get("account_id") or (account if isinstance(account, int | str) else None)
    if not account_id:
        return None
    try:
        return Account.objects.filter(pk=int(account_id)).values_list("name", flat=True).first() or None
    except (TypeError, ValueError):
        return None


# --- candidates ------------------------------------------------------------------------------------


def _name_queries(first: str, last: str) -> tuple[list[str], list[str]]:
    """Name queries for candidates: (the full name), (surname + initial, surname + each nickname)."""
    given = name_tokens(first)
    family = [w for w in name_tokens(last) if len(w) >= MIN_FUZZY_WORD]
    strict: list[str] = []
    loose: list[str] = []
    full = " ".join([*given, *name_tokens(last)])
    if any(len(w) >= MIN_FUZZY_WORD for w in name_tokens(full)):
        strict.append(full)
    if family and given:
        surname = " ".join(family)
        # One letter is matched as a prefix: "J. Smith", "Jon Smith", "Johnny Smith".
        loose.append(f"{surname} {given[0][0]}")
        canonical = CANONICAL.get(given[0])
        if canonical is not None:
            variants = [canonical, *NICKNAMES.get(canonical, ())]
            others = [v for v in variants if v[0] != given[0][0] and len(v) >= MIN_FUZZY_WORD]
            loose.extend(f"{surname} {v}" for v in others[:NICKNAME_VARIANTS])
    return strict, loose


def _corroborations(record: Mapping[str, Any]) -> list[tuple[str, list[Any]]]:
    """SQL conditions ("same birthday", "an address with the same postal code"; ``{c}``: the contact
    table) for the record's birthday and postal code, each answered by its own index.

    With one of them in common, a contact with the new surname is worth scoring whatever its
    given name (nickname, initial, a second name used instead of the first); without, only the
    same initial or a nickname is, and at a million contacts an arbitrary few of those.
    """
    conditions: list[tuple[str, list[Any]]] = []
    try:
        birthday = dt.date.fromisoformat(record["birthday"]) if record["birthday"] else None
    except ValueError:
        birthday = None
    if birthday is not None:
        conditions.append(('{c}."birthday" = %s', [birthday]))
    if record["postal_code"]:
        conditions.append((
            f'{{c}}."id" IN (SELECT a."contact_id" FROM "{Address._meta.db_table}" a '
            'WHERE upper(a."postal_code") = upper(%s) AND a."contact_id" IS NOT NULL)',
            [record["postal_code"].strip()],
        ))
    return conditions


def _sharing(emails: list[str], phones: list[str]) -> tuple[set[int], set[int]]:
    """Contacts holding one of ``emails`` (any of theirs, or the primary) and one of ``phones``: one statement."""
    parts: list[str] = []
    params: list[Any] = []
    # Each lookup is one index; 20 holders of one address are plenty to score (a shared inbox).
    for kind, table, key, column, values in (
        ("e", ContactEmail._meta.db_table, "contact_id", "email", emails),
        ("e", Contact._meta.db_table, "id", "email", emails),
        ("p", ContactPhone._meta.db_table, "contact_id", "number", phones),
    ):
        if values:
            marks = ", ".join(["%s"] * len(values))
            parts.append(f'SELECT * FROM (SELECT \'{kind}\' AS k, "{key}" AS id FROM "{table}" '
                         f'WHERE "{column}" IN ({marks}) LIMIT 20) AS {kind}{len(parts)}')
            params.extend(values)
    by_email: set[int] = set()
    by_phone: set[int] = set()
    if parts:
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            for kind, pk in cursor.fetchall():
                (by_email if kind == "e" else by_phone).add(pk)
    return by_email, by_phone


def _candidate_ids(record: Mapping[str, Any], emails: list[str], phones: list[str],
                   exclude_id: int | None) -> tuple[list[int], set[int], set[int]]:
    """Candidate ids (strongest kind first, at most ``CANDIDATES``) and those sharing an email / a phone."""
    by_email, by_phone = _sharing(emails, phones)
    found: dict[int, None] = dict.fromkeys(sorted(by_email | by_phone))
    strict, loose = _name_queries(record["first_name"], record["last_name"])
    surname = " ".join(w for w in name_tokens(record["last_name"]) if len(w) >= MIN_FUZZY_WORD)
    corroborations = _corroborations(record) if surname else []
    queries: list[NameQuery] = [(query, NAME_CANDIDATES, None) for query in strict]
    if corroborations:
        queries.extend((surname, LOOSE_CANDIDATES, also) for also in corroborations)
    else:
        queries.extend((query, LOOSE_CANDIDATES, None) for query in loose)
    for ids in contact_name_ids_many(queries):  # in query order: the strongest kind of match first
        found.update(dict.fromkeys(ids))
    found.pop(exclude_id, None)  # type: ignore[arg-type]
    return list(found)[:CANDIDATES], by_email, by_phone


def _candidate_rows(ids: list[int]) -> list[dict[str, Any]]:
    """The matcher's view of each candidate, with its name, company and first address; in ``ids`` order."""
    rows = {
        pk: {"id": pk, "first_name": first, "last_name": last, "email": email or None, "phone": phone or None,
             "birthday": birthday.isoformat() if birthday else None, "account_name": account or "",
             "company": account or None,
             "street": None, "city": None, "postal_code": None, "region": None}
        for pk, first, last, email, phone, birthday, account in Contact.objects.filter(pk__in=ids).values_list(
            "pk", "first_name", "last_name", "email", "phone", "birthday", "account__name")
    }
    seen: set[int] = set()
    for contact_id, street, city, postal, region in (
        Address.objects.filter(contact_id__in=ids).order_by("contact_id", "id")
        .values_list("contact_id", "street", "city", "postal_code", "region")
    ):
        if contact_id in seen:
            continue
        seen.add(contact_id)
        rows[contact_id].update(street=street or None, city=city or None, postal_code=postal or None,
                                region=region or None)
    return [rows[pk] for pk in ids if pk in rows]


def _readable_ids(actor: User, ids: list[int]) -> set[int]:
    if not ids or not actor.has_perm("parties.view_contact"):
        return set()
    return set(permissions.readable(actor, Contact.objects.filter(pk__in=ids)).values_list("pk", flat=True))


# --- the check ----------------------------------------------------------------------------------------


def duplicate_check(*, actor: User, data: Mapping[str, Any], exclude_id: int | None = None) -> DuplicateCheck:
    """Which existing contacts ``data`` probably duplicates (see the module docstring).

    Needs the right to add contacts; reads only. An empty or unusable record (no name, email or
    phone) has no candidates and an empty answer.
    """
    permissions.require_model_perm(actor, Contact, "add")
    record, emails, phones = _record(data)
    ids, by_email, by_phone = _candidate_ids(record, emails, phones, exclude_id)
    if not ids:
        return DuplicateCheck()
    candidates = _candidate_rows(ids)
    for candidate in candidates:
        # Holding one of the new record's values, primary or not, is agreement on that field.
        if candidate["id"] in by_email and record["email"]:
            candidate["email"] = record["email"]
        if candidate["id"] in by_phone and record["phone"]:
            candidate["phone"] = record["phone"]
    matcher, which = current_matcher()
    bar = warn_at()
    scores = [s for s in matcher.score(record, candidates, columns=COLUMNS, id_column="id") if s.probability >= bar]
    readable = _readable_ids(actor, [int(s.id) for s in scores])
    by_id = {c["id"]: c for c in candidates}
    shown: list[PossibleDuplicate] = []
    hidden = 0
    for score in scores:
        if score.id not in readable:
            hidden += 1
            continue
        if len(shown) >= SHOWN:
            continue
        row = by_id[score.id]
        shown.append(PossibleDuplicate(
            contact_id=int(score.id),
            name=" ".join(p for p in (row["first_name"], row["last_name"]) if p),
            email=row["email"] or "",
            phone=row["phone"] or "",
            account_name=row["account_name"],
            probability=round(float(score.probability), 4),
            likely=score.duplicate,
            evidence=dict(score.levels),
            exact_copy=score.exact_copy,
        ))
    return DuplicateCheck(
        matches=tuple(shown), hidden=hidden, candidates=len(candidates), matcher=which,
        scores=tuple((int(s.id), float(s.probability), {"fields": dict(s.levels), "swapped": s.swapped})
                     for s in scores),
    )


def duplicate_check_record(*, contact: Contact, check: DuplicateCheck, review_at: float = REVIEW_AT) -> RecordResult:
    """Queue the pairs of ``contact`` (just created) with the contacts ``check`` found at ``review_at`` or above.

    Every pair is queued, readable by the creator or not: the reviewers who may see both decide.
    """
    proposals = [PairProposal(contact.pk, pk, probability, {**evidence, "via": "create"})
                 for pk, probability, evidence in check.scores if probability >= review_at and pk != contact.pk]
    if not proposals:
        return RecordResult(0, 0, 0)
    return duplicate_pairs_record(pairs=proposals, source=DuplicateSource.CREATE)


def duplicate_payload(match: PossibleDuplicate) -> dict[str, Any]:
    """``match`` as the API and the problem body show it."""
    return {"contact_id": match.contact_id, "name": match.name, "email": match.email, "phone": match.phone,
            "account_name": match.account_name, "probability": match.probability, "likely": match.likely,
            "exact_copy": match.exact_copy, "evidence": dict(match.evidence)}


def contact_create_checked(*, actor: User, data: dict[str, Any], on_duplicate: str = "warn",
                           context: dict[str, Any] | None = None, check: DuplicateCheck | None = None) -> CheckedCreate:
    """``services.contact_create`` behind the duplicate check, in one transaction.

    ``on_duplicate``: ``"warn"`` creates the contact and queues its likely pairs for review (the
    caller shows the check); ``"block"`` refuses with ``PossibleDuplicates`` (its ``extra`` lists
    them) when the actor can see a likely duplicate, and otherwise acts as ``"warn"``; ``"off"``
    skips the check (bulk loaders that dedupe later). ``check``: one already made of ``data``
    (the form shows it before the user confirms), not repeated.
    """
    if on_duplicate not in ON_DUPLICATE:
        raise ValidationFailed(
            _("on_duplicate must be one of: %(choices)s.") % {"choices": ", ".join(ON_DUPLICATE)},
            field_errors={"on_duplicate": [_("Unknown choice.")]},
        )
    if on_duplicate == "off":
        check = DuplicateCheck()
    elif check is None:
        check = duplicate_check(actor=actor, data=data)
    if on_duplicate == "block" and check.likely:
        first = check.likely[0]
        raise PossibleDuplicates(
            _("%(name)s (contact %(id)s) is probably the same person (%(percent)s%%). Open it, or create the "
              "contact anyway.") % {"name": first.name, "id": first.contact_id,
                                    "percent": round(first.probability * 100)},
            extra={"possible_duplicates": [duplicate_payload(m) for m in check.matches], "hidden": check.hidden},
        )
    with transaction.atomic():
        contact = contact_create(actor=actor, data=data, context=context)
        recorded = duplicate_check_record(contact=contact, check=check)
    return CheckedCreate(contact=contact, check=check, queued=recorded.created + recorded.updated)
