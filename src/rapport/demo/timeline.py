"""The timeline: interactions on every channel, notes and tasks.

Interactions are generated per chunk of contacts with numpy (a chunk's times, channels,
directions and outcomes are drawn as arrays), because at ten million rows per-row Python work
is what limits the load. Invariants: every interaction has its contact's primary account as
``account`` (as ``activities.services.interaction_record`` would set it); ``occurred_at`` is
within the contact's active window and never in the future; a duration exists only for
channels that have one.
"""

from __future__ import annotations

import numpy as np

from rapport.activities.choices import Direction, Outcome, Priority
from rapport.activities.models import Interaction, Note, Task
from rapport.demo.activity import ActivityPlan
from rapport.demo.vocab import BODIES, NOTE_TEXTS, PRODUCTS, SUBJECTS, TASK_TITLES
from rapport.demo.world import World, datetime_of, datetimes
from rapport.demo.writers import Table
from rapport.parties.choices import Channel

INTERACTION_TABLE = Table(
    Interaction,
    [
        "contact_id", "account_id", "channel", "direction", "subject", "body", "occurred_at", "duration_seconds",
        "outcome", "owner_id", "created_at", "updated_at", "created_by_id",
    ],
)
NOTE_TABLE = Table(Note, ["contact_id", "account_id", "body", "created_at", "updated_at", "created_by_id"])
TASK_TABLE = Table(
    Task,
    [
        "contact_id", "account_id", "title", "description", "due_at", "priority", "assignee_id", "reminder_at",
        "reminder_sent_at", "done_at", "created_at", "updated_at", "created_by_id",
    ],
)

CHANNELS = list(Channel.values)
CHANNEL_WEIGHTS = np.array([0.34, 0.18, 0.08, 0.06, 0.14, 0.05, 0.05, 0.07, 0.03, 0.04])
INBOUND_SHARE = np.array([0.45, 0.40, 0.80, 0.30, 0.97, 0.60, 0.30, 0.95, 0.20, 0.15])
PREFERRED_SHARE = 0.45  # how often a contact's preferred channel is used instead of the mix
SERVICE_CHANNELS = {"phone", "chat", "portal", "email"}
# Outcomes per channel as (values, weights); channels not listed mostly have none.
OUTCOMES = {
    "phone": ((Outcome.COMPLETED, Outcome.NO_ANSWER, Outcome.LEFT_MESSAGE, Outcome.FOLLOW_UP, Outcome.INTERESTED),
              (0.55, 0.18, 0.14, 0.07, 0.06)),
    "email": ((Outcome.NONE, Outcome.COMPLETED, Outcome.INTERESTED, Outcome.FOLLOW_UP, Outcome.BOUNCED,
               Outcome.NOT_INTERESTED), (0.55, 0.20, 0.10, 0.08, 0.03, 0.04)),
    "in_person": ((Outcome.COMPLETED, Outcome.INTERESTED, Outcome.FOLLOW_UP, Outcome.NOT_INTERESTED),
                  (0.65, 0.20, 0.10, 0.05)),
    "chat": ((Outcome.COMPLETED, Outcome.FOLLOW_UP, Outcome.NONE), (0.75, 0.10, 0.15)),
    "sms": ((Outcome.NONE, Outcome.COMPLETED), (0.8, 0.2)),
    "social": ((Outcome.NONE, Outcome.INTERESTED), (0.85, 0.15)),
}
# Mean duration in seconds for channels that have one; lognormal around it.
DURATION_MEAN = {"phone": 420.0, "chat": 540.0, "in_person": 3600.0, "meeting": 2700.0}
DAY = 86400.0


def _render(templates: tuple[str, ...], rng: np.random.Generator, copies: int) -> list[str]:
    out = []
    for template in templates:
        for _ in range(copies if "{" in template else 1):
            out.append(template.format(p=PRODUCTS[int(rng.integers(len(PRODUCTS)))], n=int(rng.integers(1000, 99999))))
    return out


class _Texts:
    """Pre-rendered subjects and bodies per channel and direction, as numpy object arrays."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.subjects = {key: np.array(_render(t, rng, 12), dtype=object) for key, t in SUBJECTS.items()}
        self.bodies = {key: np.array(_render(t, rng, 6), dtype=object) for key, t in BODIES.items()}


def interactions_generate(world: World, plan: ActivityPlan, chunk_contacts: int = 20_000) -> int:
    """Write ``plan.counts[i]`` interactions for every contact i; return how many were written."""
    rng = world.np_rng
    texts = _Texts(rng)
    total = int(plan.counts.sum())
    advance = world.progress.phase("interactions", total)
    users = world.users
    service_staff = np.array([users.by_username["agent"], users.by_username["service_manager"]], dtype=np.int64)
    written = 0
    n = plan.counts.shape[0]
    for start in range(0, n, chunk_contacts):
        stop = min(n, start + chunk_contacts)
        counts = plan.counts[start:stop]
        m = int(counts.sum())
        if m == 0:
            continue
        who = np.repeat(np.arange(start, stop), counts)
        # When: uniform over the active window, moved to working hours of that day.
        t = plan.start[who] + rng.random(m) * (plan.end[who] - plan.start[who])
        t = np.floor(t / DAY) * DAY + (7.0 + 12.0 * rng.beta(2.0, 2.0, m)) * 3600.0 + rng.random(m)
        t = np.minimum(t, world.now - rng.random(m) * 3600.0)
        # Channel: the contact's preferred one some of the time, else the overall mix.
        mix = rng.choice(len(CHANNELS), size=m, p=CHANNEL_WEIGHTS / CHANNEL_WEIGHTS.sum())
        preferred = world.contact_channel[who].astype(np.int64)
        channel = np.where((preferred >= 0) & (rng.random(m) < PREFERRED_SHARE), preferred, mix)
        inbound = rng.random(m) < INBOUND_SHARE[channel]
        owner = world.contact_owner[who].copy()
        service = inbound & np.isin(channel, [CHANNELS.index(c) for c in SERVICE_CHANNELS]) & (rng.random(m) < 0.6)
        owner[service] = service_staff[rng.integers(0, len(service_staff), int(service.sum()))]

        subject = np.empty(m, dtype=object)
        body = np.empty(m, dtype=object)
        outcome = np.full(m, "", dtype=object)
        duration = np.full(m, None, dtype=object)
        for c, name in enumerate(CHANNELS):
            in_channel = channel == c
            if not in_channel.any():
                continue
            for is_in, direction in ((True, Direction.INBOUND), (False, Direction.OUTBOUND)):
                sel = in_channel & (inbound == is_in)
                k = int(sel.sum())
                if k:
                    pool = texts.subjects[(name, direction.value)]
                    subject[sel] = pool[rng.integers(0, len(pool), k)]
            bodies = texts.bodies[name]
            body[in_channel] = bodies[rng.integers(0, len(bodies), int(in_channel.sum()))]
            k = int(in_channel.sum())
            if name in OUTCOMES:
                values, weights = OUTCOMES[name]
                picks = rng.choice(len(values), size=k, p=np.array(weights) / sum(weights))
                outcome[in_channel] = np.array([v.value for v in values], dtype=object)[picks]
            if name in DURATION_MEAN:
                seconds = rng.lognormal(np.log(DURATION_MEAN[name]) - 0.18, 0.6, k).astype(np.int64) + 15
                if name == "phone":
                    seconds = np.where(outcome[in_channel] == Outcome.NO_ANSWER.value, 0, seconds)
                duration[in_channel] = seconds.tolist()

        contact_ids = (world.contact_base + who).tolist()
        account_ids = [a or None for a in world.contact_account[who].tolist()]
        when = datetimes(t)
        channel_names = np.array(CHANNELS, dtype=object)[channel].tolist()
        directions = np.where(inbound, Direction.INBOUND.value, Direction.OUTBOUND.value).tolist()
        owners = owner.tolist()
        rows = zip(
            contact_ids, account_ids, channel_names, directions, subject.tolist(), body.tolist(), when,
            duration.tolist(), outcome.tolist(), owners, when, when, owners, strict=True,
        )
        written += world.writer.write(INTERACTION_TABLE, rows)
        advance(m)
    return written


def notes_and_tasks_generate(world: World, notes: int, tasks: int) -> None:
    """Notes on contacts (or only their account) and tasks, some overdue, some with reminders."""
    rng = world.rng
    contacts = world.contact_owner.shape[0]
    if contacts == 0:
        return
    advance = world.progress.phase("notes & tasks", notes + tasks)
    contact_account = world.contact_account.tolist()
    contact_owner = world.contact_owner.tolist()
    contact_created = world.contact_created.tolist()
    everyone_sales = world.users.sales_owners + world.users.enterprise_owners[:1]
    batch: list[tuple] = []
    for i in range(notes):
        pos = int(rng.random() * contacts)
        account = contact_account[pos] or None
        contact = world.contact_base + pos
        if account and rng.random() < 0.3:
            contact = None  # an account-level note
        created = contact_created[pos] + rng.random() * (world.now - contact_created[pos])
        when = datetime_of(created)
        batch.append((contact, account, world.pick(NOTE_TEXTS), when, when, contact_owner[pos]))
        if len(batch) >= 20_000 or i == notes - 1:
            world.writer.write(NOTE_TABLE, batch)
            advance(len(batch))
            batch = []
    priorities = (Priority.LOW, Priority.NORMAL, Priority.NORMAL, Priority.NORMAL, Priority.HIGH, Priority.URGENT)
    for i in range(tasks):
        pos = int(rng.random() * contacts)
        account = contact_account[pos] or None
        owner = contact_owner[pos]
        assignee = owner if rng.random() < 0.8 else world.pick(everyone_sales)
        created = contact_created[pos] + rng.random() * (world.now - contact_created[pos])
        state = rng.random()
        reminder = reminder_sent = done = None
        if state < 0.45:  # done, due in the past
            due = created + rng.random() * 14 * DAY
            done = min(world.now - 60, due + (rng.random() - 0.7) * 3 * DAY)
            done = max(done, created)
        elif state < 0.70:  # open and overdue
            due = world.now - rng.random() * 30 * DAY
            created = min(created, due - DAY)
        else:  # open, due soon
            due = world.now + rng.random() * 21 * DAY
            created = min(created, world.now - 60)
        if done is None and rng.random() < 0.4:
            reminder = due - (1 + int(rng.random() * 3)) * DAY / 2
            if reminder < world.now:
                reminder_sent = reminder + 60
        batch.append((
            world.contact_base + pos, account, world.pick(TASK_TITLES), "", datetime_of(due),
            priorities[int(rng.random() * len(priorities))], assignee,
            datetime_of(reminder) if reminder is not None else None,
            datetime_of(reminder_sent) if reminder_sent is not None else None,
            datetime_of(done) if done is not None else None,
            datetime_of(created), datetime_of(done or created), owner,
        ))
        if len(batch) >= 20_000 or i == tasks - 1:
            world.writer.write(TASK_TABLE, batch)
            advance(len(batch))
            batch = []
