"""The merged timeline of a contact or an account, read in one SQL statement.

The timeline is the hottest read of the CRM (every 360° page, every "load more"), so it is not
built from four ORM querysets: compiling those cost more than running them. One ``UNION ALL``
reads each source (interactions, notes, tasks, attachments) through its own
``(party, time desc, id desc)`` index, at most ``limit + 1`` rows each after the cursor, and the
outer ``ORDER BY … LIMIT`` merges them, so a page costs the same however long the history is.
The statement is plain SQL that SQLite and PostgreSQL both run; table and column names come
from the models' ``_meta``, every value is a parameter.

Order (and the cursor): time descending, then kind in ``SOURCES`` order, then id descending.
Entries are flat, display-ready ``TimelineEntry`` rows, not model instances: the API and the
templates need the same dozen fields of every kind.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Model
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from rapport.activities.choices import Direction, Outcome, TimelineKind
from rapport.activities.models import Attachment, Interaction, Note, Task
from rapport.core.errors import ValidationFailed
from rapport.core.models import User
from rapport.core.pagination import cursor_decode, cursor_encode
from rapport.parties.choices import Channel
from rapport.parties.models import Account, Contact

_NULL_TEXT = "CAST(NULL AS VARCHAR(20))"
_NULL_TIME = "CAST(NULL AS TIMESTAMP WITH TIME ZONE)"
_NULL_INT = "CAST(NULL AS BIGINT)"


@dataclass(frozen=True)
class _Source:
    model: type[Model]
    time: str  # the column the timeline orders by
    user: str  # the user shown beside the entry
    columns: dict[str, str]  # output column -> SQL over alias ``s`` (missing ones are NULL)


# Kinds in the order ties on time are broken.
SOURCES: dict[str, _Source] = {
    TimelineKind.INTERACTION: _Source(
        Interaction,
        "occurred_at",
        "owner_id",
        {"title": "s.subject", "body": "s.body", "channel": "s.channel", "direction": "s.direction",
         "outcome": "s.outcome", "duration_seconds": "s.duration_seconds"},
    ),
    TimelineKind.NOTE: _Source(Note, "created_at", "created_by_id", {"title": "''", "body": "s.body"}),
    TimelineKind.TASK: _Source(
        Task,
        "created_at",
        "assignee_id",
        {"title": "s.title", "body": "s.description", "due_at": "s.due_at", "done_at": "s.done_at"},
    ),
    TimelineKind.ATTACHMENT: _Source(
        Attachment, "created_at", "created_by_id", {"title": "s.name", "body": "''", "size": "s.size"}
    ),
}
KIND_RANK = {kind: rank for rank, kind in enumerate(SOURCES)}
_OPTIONAL = {
    "channel": _NULL_TEXT,
    "direction": _NULL_TEXT,
    "outcome": _NULL_TEXT,
    "duration_seconds": _NULL_INT,
    "due_at": _NULL_TIME,
    "done_at": _NULL_TIME,
    "size": _NULL_INT,
}
_CHANNEL_LABELS = dict(Channel.choices)
_DIRECTION_LABELS = dict(Direction.choices)
_OUTCOME_LABELS = dict(Outcome.choices)


@dataclass(frozen=True)
class TimelineEntry:
    """One row of the merged timeline; the fields a kind does not have are ``None``."""

    kind: str
    at: dt.datetime
    id: int
    title: str
    body: str
    by: str | None
    channel: str | None = None
    direction: str | None = None
    outcome: str | None = None
    duration_seconds: int | None = None
    due_at: dt.datetime | None = None
    done_at: dt.datetime | None = None
    size: int | None = None

    @property
    def channel_label(self) -> str:
        return str(_CHANNEL_LABELS.get(self.channel or "", self.channel or ""))

    @property
    def direction_label(self) -> str:
        return str(_DIRECTION_LABELS.get(self.direction or "", self.direction or ""))

    @property
    def outcome_label(self) -> str:
        return str(_OUTCOME_LABELS.get(self.outcome, self.outcome)) if self.outcome else ""

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_overdue(self) -> bool:
        return self.kind == TimelineKind.TASK and not self.is_done and self.due_at is not None and (
            self.due_at < timezone.now()
        )


@dataclass(frozen=True)
class TimelinePage:
    entries: list[TimelineEntry]
    next_cursor: str | None


def timeline(
    *,
    party: Contact | Account,
    channels: list[str] | None = None,
    kinds: list[str] | None = None,
    cursor: str | None = None,
    limit: int = 25,
    body_chars: int | None = None,
) -> TimelinePage:
    """Newest first: interactions, notes, tasks and attachments of one party, merged.

    ``channels`` keeps only interactions on those channels; ``kinds`` only those kinds;
    ``body_chars`` cuts each body to that many characters. The caller has checked that the
    actor may read ``party``.
    """
    wanted = [TimelineKind.INTERACTION] if channels else list(kinds or SOURCES)
    unknown = [kind for kind in wanted if kind not in SOURCES]
    if unknown:
        raise ValidationFailed("Unknown timeline kind.", field_errors={"kind": [f"Use {', '.join(SOURCES)}."]})
    position = _position(cursor) if cursor else None
    party_column = "contact_id" if isinstance(party, Contact) else "account_id"
    branches: list[str] = []
    params: list[Any] = []
    for kind in wanted:
        sql, branch_params = _branch(kind, party_column, party.pk, channels, position, limit + 1, body_chars)
        branches.append(sql)
        params += branch_params
    sql = " UNION ALL ".join(branches) + f" ORDER BY tl_at DESC, tl_rank ASC, id DESC LIMIT {int(limit) + 1}"
    with connection.cursor() as db:
        db.execute(sql, params)
        rows = db.fetchall()
    entries = [_entry(row) for row in rows]
    page = entries[:limit]
    next_cursor = None
    if len(entries) > limit:
        last = page[-1]
        next_cursor = cursor_encode([last.at, last.kind, last.id])
    return TimelinePage(entries=page, next_cursor=next_cursor)


def _position(cursor: str) -> tuple[dt.datetime, str, int]:
    at, kind, pk = cursor_decode(cursor, 3)
    at = dt.datetime.fromisoformat(at) if isinstance(at, str) else at
    if kind not in KIND_RANK or not isinstance(at, dt.datetime) or not isinstance(pk, int):
        raise ValidationFailed("The cursor is not valid.", field_errors={"cursor": ["Not a timeline cursor."]})
    if timezone.is_naive(at):
        at = timezone.make_aware(at, dt.UTC)
    return at, kind, pk


def _branch(
    kind: str,
    party_column: str,
    party_id: int,
    channels: list[str] | None,
    position: tuple[dt.datetime, str, int] | None,
    size: int,
    body_chars: int | None,
) -> tuple[str, list[Any]]:
    """One source's rows after ``position``, newest first, at most ``size``; its own index serves it."""
    source = SOURCES[kind]
    columns = dict(source.columns)
    if body_chars is not None and columns["body"] != "''":
        columns["body"] = f"SUBSTR({columns['body']}, 1, {int(body_chars)})"
    select = [f"'{kind}' AS kind", f"{KIND_RANK[kind]} AS tl_rank", f"s.{source.time} AS tl_at", "s.id AS id",
              f"{columns['title']} AS title", f"{columns['body']} AS body"]
    select += [f"{columns.get(name, null)} AS {name}" for name, null in _OPTIONAL.items()]
    select += ["u.first_name AS first_name", "u.last_name AS last_name", "u.username AS username"]
    where = [f"s.{party_column} = %s"]
    params: list[Any] = [party_id]
    if channels and kind == TimelineKind.INTERACTION:
        where.append(f"s.channel IN ({', '.join(['%s'] * len(channels))})")
        params += channels
    if position is not None:
        at, cursor_kind, cursor_id = position
        adapted = connection.ops.adapt_datetimefield_value(at)
        rank, cursor_rank = KIND_RANK[kind], KIND_RANK[cursor_kind]
        if rank > cursor_rank:  # this kind sorts after the cursor's at the same time
            where.append(f"s.{source.time} <= %s")
            params.append(adapted)
        elif rank == cursor_rank:
            where.append(f"(s.{source.time} < %s OR (s.{source.time} = %s AND s.id < %s))")
            params += [adapted, adapted, cursor_id]
        else:
            where.append(f"s.{source.time} < %s")
            params.append(adapted)
    table, users = source.model._meta.db_table, User._meta.db_table
    # Wrapped in a subquery: SQLite allows ORDER BY/LIMIT in a compound SELECT's parts only so.
    sql = (
        f"SELECT * FROM (SELECT {', '.join(select)} FROM {table} s LEFT JOIN {users} u ON u.id = s.{source.user} "
        f"WHERE {' AND '.join(where)} ORDER BY s.{source.time} DESC, s.id DESC LIMIT {int(size)}) AS {kind}_rows"
    )
    return sql, params


def _entry(row: tuple[Any, ...]) -> TimelineEntry:
    (kind, _rank, at, pk, title, body, channel, direction, outcome, duration, due_at, done_at, size,
     first_name, last_name, username) = row
    by = f"{first_name or ''} {last_name or ''}".strip() or username  # User.__str__
    return TimelineEntry(
        kind=kind, at=_aware(at), id=int(pk), title=title or "", body=body or "", by=by, channel=channel,
        direction=direction, outcome=outcome, duration_seconds=duration, due_at=_aware(due_at),
        done_at=_aware(done_at), size=size,
    )


def _aware(value: Any) -> Any:
    """A stored time as an aware UTC datetime (SQLite hands raw SQL text in naive UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_datetime(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return value
