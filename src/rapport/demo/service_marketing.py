"""The demo's service cases, campaigns and exit surveys, shaped so the analytics have something
true to find: customers who stopped buying (no order for 180 days) raised more complaints, rated
service lower and opened fewer mailings than those still buying, and cancelled subscriptions say
why in the exit survey.

Rows are bulk-inserted (they keep the models' invariants: ``resolved_at`` exactly for done cases,
satisfaction only on them, response times after the send and in funnel order). Seeded and separate
from the other generators' random streams, so adding this changed none of their rows.
"""

from __future__ import annotations

import datetime as dt
import random

from rapport.commerce import services as commerce_services
from rapport.commerce.choices import CancellationReason
from rapport.commerce.models import AccountPurchaseStats, Subscription
from rapport.core.models import User
from rapport.marketing.models import Campaign, CampaignMember
from rapport.parties.models import AccountMembership
from rapport.service.models import Case

LAPSED_AFTER_DAYS = 180
_SUBJECTS = {
    "question": ("How do I export my invoices?", "Question about seat licences", "Where is the API token page?"),
    "problem": ("Scanner not pairing", "Label printer prints blank labels", "Login fails after password reset"),
    "complaint": ("Delivery arrived late again", "Invoice charged twice", "Nobody called back as promised"),
    "request": ("Please add two seats", "Change of billing address", "Request for a training day"),
}
_CAMPAIGNS = (  # name, channel, days ago it started
    ("Spring newsletter", "email", 330), ("Product launch: Label printer P30", "email", 250),
    ("Webinar: warehouse automation", "email", 180), ("Customer survey", "email", 120),
    ("Autumn offer", "email", 75), ("Year-end renewal reminder", "email", 30),
)  # fmt: skip
_COMMENTS = {
    CancellationReason.PRICE: "The price went up and the budget did not.",
    CancellationReason.COMPETITOR: "We moved to another supplier with a bundle deal.",
    CancellationReason.NO_NEED: "We closed the warehouse that used it.",
    CancellationReason.SERVICE: "Support took too long to answer.",
    CancellationReason.PRODUCT: "It did not integrate with our ERP.",
}


def _at(today: dt.date, days_ago: float, rng: random.Random) -> dt.datetime:
    base = dt.datetime.combine(today, dt.time(0), tzinfo=dt.UTC)
    return base - dt.timedelta(days=days_ago) + dt.timedelta(hours=rng.uniform(8, 18))


def _lapsed(today: dt.date) -> dict[int, bool]:
    """Buying accounts → whether they stopped buying (their last order is long ago)."""
    cut = today - dt.timedelta(days=LAPSED_AFTER_DAYS)
    return {a: last < cut for a, last in AccountPurchaseStats.objects.values_list("account_id", "last_order_date")}


def service_marketing_generate(*, seed: int, today: dt.date) -> tuple[int, int]:
    """Cases, campaigns and cancellations, after the orders (who stopped buying shapes all three).
    Returns (cases, campaign messages sent)."""
    lapsed = _lapsed(today)
    contacts = _primary_contacts(lapsed)
    cases = cases_generate(seed=seed, today=today, lapsed=lapsed, contacts=contacts)
    messages = campaigns_generate(seed=seed, today=today, lapsed=lapsed, contacts=contacts)
    subscriptions_cancel_some(seed=seed, today=today)
    return cases, messages


def cases_generate(*, seed: int, today: dt.date, lapsed: dict[int, bool], contacts: dict[int, int]) -> int:
    """Cases for every buying account (``lapsed``: account → stopped buying; ``contacts``: account →
    the contact who raises them): more of them, more complaints and lower satisfaction for the
    lapsed. Returns how many."""
    rng = random.Random(seed + 101)
    agent = User.objects.get(username="agent")
    rows = []
    for account_id, gone in sorted(lapsed.items()):
        for _ in range(rng.choice([0, 1, 1, 2, 3, 4] if gone else [0, 0, 1, 1, 2])):
            kind = rng.choices(list(_SUBJECTS), weights=[2, 3, 4, 1] if gone else [4, 3, 1, 2])[0]
            opened = _at(today, rng.uniform(1, 400), rng)
            done = rng.random() < 0.85 and opened < _at(today, 1, rng)
            resolved = min(opened + dt.timedelta(hours=rng.uniform(1, 96)), _at(today, 0, rng)) if done else None
            rated = done and rng.random() < 0.6
            score = round(min(5, max(1, rng.gauss(2.2 if gone else 4.2, 0.9)))) if rated else None
            rows.append(Case(
                account_id=account_id, contact_id=contacts.get(account_id), subject=rng.choice(_SUBJECTS[kind]),
                channel=rng.choice(["email", "email", "phone", "chat", "portal"]), kind=kind,
                priority=rng.choice(["low", "normal", "normal", "high"]), status="resolved" if done else "open",
                opened_at=opened, resolved_at=resolved, satisfaction=score, owner=agent, team_id=agent.team_id,
                created_at=opened, updated_at=resolved or opened,
            ))  # fmt: skip
    Case.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _primary_contacts(accounts: dict[int, bool]) -> dict[int, int]:
    """Account → one of its contacts (the primary first), each contact for one account only: a
    contact of several accounts receives a campaign once."""
    out: dict[int, int] = {}
    taken: set[int] = set()
    for contact_id, account_id in (AccountMembership.objects.filter(account_id__in=list(accounts))
                                   .order_by("-is_primary", "contact_id").values_list("contact_id", "account_id")):
        if account_id not in out and contact_id not in taken:
            out[account_id] = contact_id
            taken.add(contact_id)
    return out


def campaigns_generate(*, seed: int, today: dt.date, lapsed: dict[int, bool], contacts: dict[int, int]) -> int:
    """Six campaigns of the past year, each sent to most buying accounts (as in ``cases_generate``);
    the lapsed open less. Returns the number of messages sent."""
    rng = random.Random(seed + 202)
    marketer = User.objects.get(username="marketer")
    sent = 0
    for name, channel, days_ago in _CAMPAIGNS:
        starts = today - dt.timedelta(days=days_ago)
        campaign = Campaign.objects.create(
            name=name, channel=channel, status="completed", starts_on=starts, ends_on=starts + dt.timedelta(days=14),
            owner=marketer, team_id=marketer.team_id, created_at=_at(starts, 7, rng),
        )  # fmt: skip
        rows = []
        for account_id, gone in sorted(lapsed.items()):
            if rng.random() > 0.8:
                continue
            at = _at(starts, 0, rng)
            member = CampaignMember(campaign=campaign, account_id=account_id, contact_id=contacts.get(account_id),
                                    sent_at=at, created_at=at, updated_at=at)
            if rng.random() < (0.12 if gone else 0.45):
                member.opened_at = at + dt.timedelta(hours=rng.uniform(0.2, 48))
                if rng.random() < 0.35:
                    member.clicked_at = member.opened_at + dt.timedelta(minutes=rng.uniform(0.5, 10))
                    if rng.random() < 0.3:
                        member.responded_at = member.clicked_at + dt.timedelta(minutes=rng.uniform(2, 30))
            if rng.random() < (0.06 if gone else 0.01):
                member.unsubscribed_at = at + dt.timedelta(hours=rng.uniform(1, 72))
            member.updated_at = max(t for t in (member.sent_at, member.opened_at, member.clicked_at,
                                                member.responded_at, member.unsubscribed_at) if t is not None)
            rows.append(member)
        CampaignMember.objects.bulk_create(rows, batch_size=2000)
        sent += len(rows)
    return sent


def subscriptions_cancel_some(*, seed: int, today: dt.date) -> int:
    """Cancel about one subscription in four, through the commerce service, with the exit survey's
    reason (and, for most, the customer's words). Returns how many."""
    rng = random.Random(seed + 303)
    reasons = list(CancellationReason)
    cancelled = 0
    for sub in Subscription.objects.select_related("owner").filter(status="active").order_by("id"):
        if rng.random() > 0.25 or sub.owner is None or (today - sub.start_date).days < 60:
            continue
        reason = rng.choices(reasons, weights=[5, 4, 3, 3, 2, 2, 1, 1])[0]
        commerce_services.subscription_update(
            actor=sub.owner, subscription=sub, expected_version=sub.version,
            data={"status": "cancelled", "cancelled_on": sub.start_date + dt.timedelta(
                days=rng.randint(30, (today - sub.start_date).days)), "cancellation_reason": reason.value,
                "cancellation_comment": _COMMENTS.get(reason, "") if rng.random() < 0.7 else ""},
        )  # fmt: skip
        cancelled += 1
    return cancelled


def service_marketing_reset() -> None:
    """Delete the demo's cases and campaigns (before the accounts they point at)."""
    CampaignMember.objects.all().delete()
    Campaign.objects.all().delete()
    Case.objects.all().delete()

