"""Demo deals: opportunities across the default pipeline's stages with their stage history, won
and lost ones with reasons, quotes for those that got that far, quotas for the demo reps, and the
exchange rates their currencies need — so the board, the forecast and the metrics look alive.

Written with ``bulk_create`` (a few hundred deals take well under a second), keeping the sales
invariants by construction: the stage is of the pipeline, ``status`` follows the stage's kind,
``closed_at`` is set exactly when the deal is closed and equals its last stage change, every
stage entered has one ``StageChange`` (the first without ``from_stage``), times only grow and
lie before the demo's anchor. Seeded: the same seed and day give the same rows.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.conf import settings
from django.db import connection

from rapport.commerce.models import ExchangeRate, Product
from rapport.core.models import User
from rapport.parties.models import Account
from rapport.sales.choices import StageKind
from rapport.sales.forecasting import period_bounds
from rapport.sales.models import Opportunity, OpportunityLine, Pipeline, Quota, Stage, StageChange
from rapport.sales.models_quotes import Quote, QuoteLine, QuoteStatus

OWNERS = ("rep", "rep2", "rep3", "manager")
WON_REASONS = ("Best fit for their process", "Existing relationship", "Strong demo", "Price/performance")
LOST_REASONS = ("Price too high", "Went with a competitor", "No decision", "Bad timing", "No budget")
# Units of US dollars per unit, to derive a rate to whatever the company currency is.
_USD_PER = {"USD": Decimal("1"), "EUR": Decimal("1.08"), "GBP": Decimal("1.27"), "CHF": Decimal("1.13")}
SALES_MODELS = (QuoteLine, Quote, StageChange, OpportunityLine, Opportunity)


def opportunities_reset() -> None:
    """Delete every deal, its history, lines and quotes, and the demo reps' quotas."""
    Quota.objects.filter(user__username__in=OWNERS).delete()
    if connection.vendor == "postgresql":
        tables = ", ".join(f'"{m._meta.db_table}"' for m in SALES_MODELS)
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {tables} CASCADE")
        return
    for model in SALES_MODELS:
        model.objects.all().delete()


def rates_ensure(today: dt.date) -> None:
    """Monthly rates for the demo's currencies into the company currency over the last two years,
    where none exist yet (the metrics and the forecast refuse to guess a missing rate)."""
    company = str(settings.RAPPORT_COMPANY_CURRENCY).upper()
    if company not in _USD_PER:
        return
    rows = [ExchangeRate(currency=code, date=today - dt.timedelta(days=30 * months), rate=per / _USD_PER[company])
            for code, per in _USD_PER.items() if code != company for months in range(25, 0, -1)]
    ExchangeRate.objects.bulk_create(rows, ignore_conflicts=True)


def _path(rng: random.Random, funnel: list[Stage], won: list[Stage], lost: Stage) -> list[Stage]:
    """The stages one deal went through: open stages (sometimes one skipped), then maybe closed."""
    outcome = rng.random()
    furthest = rng.choice(range(len(funnel)))
    path = [s for i, s in enumerate(funnel[: furthest + 1]) if i == 0 or rng.random() > 0.15]
    if outcome < 0.38:
        return path  # still open
    if outcome < 0.68:
        return [*funnel[: max(furthest, 3) + 1], *won[: rng.choice([1, 1, 2, 3])]]
    return [*path, lost]


def opportunities_generate(*, seed: int, today: dt.date, count: int) -> int:
    """``count`` deals over the demo reps' accounts, with history, quotes and quotas; returns how many."""
    rng = random.Random(seed + 8)
    anchor = dt.datetime(today.year, today.month, today.day, tzinfo=dt.UTC)
    rates_ensure(today)
    users = {u.username: u for u in User.objects.filter(username__in=OWNERS)}
    owners = [users[name] for name in OWNERS if name in users]
    pipeline = Pipeline.objects.filter(is_default=True).first()
    accounts = list(Account.objects.filter(owner__in=owners).order_by("id").values_list("id", "owner_id", "currency")
                    [: max(count, 1) * 2])
    if not owners or pipeline is None or not accounts:
        return 0
    stages = list(pipeline.stages.filter(is_active=True).order_by("position"))
    funnel = [s for s in stages if s.kind == StageKind.OPEN]
    won = [s for s in stages if s.kind == StageKind.WON]
    lost = next(s for s in stages if s.kind == StageKind.LOST)
    team_of = {u.pk: u.team_id for u in owners}
    deals, histories = [], []
    for i in range(count):
        account_id, owner_id, currency = accounts[rng.randrange(len(accounts))]
        owner_id = owner_id if owner_id in team_of else owners[i % len(owners)].pk
        path = _path(rng, funnel, won, lost)
        created = anchor - dt.timedelta(days=rng.uniform(2, 420), hours=rng.randint(0, 12))
        steps = sorted(rng.uniform(0.5, 20) for _ in path[1:])
        span = (anchor - created).total_seconds() / 86400 - 0.1
        scale = min(1.0, span / (sum(steps) or 1))  # squeeze a history that would run past the anchor
        times, at = [created], created
        for gap in steps:
            at = at + dt.timedelta(days=gap * scale)
            times.append(at)
        last = path[-1]
        closed = last.kind != StageKind.OPEN
        amount = Decimal(int(rng.lognormvariate(9.3, 0.9)) // 100 * 100 + 500)
        deals.append(Opportunity(
            name=f"{rng.choice(['New', 'Expansion', 'Renewal', 'Pilot'])} deal #{i + 1}", account_id=account_id,
            pipeline=pipeline, stage=last, status={"open": "open", "won": "won", "lost": "lost"}[last.kind],
            amount=amount, currency=currency if currency in _USD_PER else "EUR", probability=last.probability,
            forecast_category=last.forecast_category,
            expected_close_date=times[-1].date() if closed else today + dt.timedelta(days=rng.randint(5, 100)),
            close_reason=rng.choice(WON_REASONS if last.kind == StageKind.WON else LOST_REASONS) if closed else "",
            stage_entered_at=times[-1], closed_at=times[-1] if closed else None, created_at=created,
            updated_at=times[-1], owner_id=owner_id, team_id=team_of[owner_id], created_by_id=owner_id,
            source=rng.choice(["web", "referral", "trade fair", "outbound"]),
        ))
        histories.append(list(zip(path, times, strict=True)))
    Opportunity.objects.bulk_create(deals, batch_size=500)
    changes = []
    for deal, history in zip(deals, histories, strict=True):
        previous = None
        for stage, at in history:
            changes.append(StageChange(opportunity=deal, from_stage=previous, to_stage=stage, changed_at=at,
                                       changed_by_id=deal.owner_id, amount=deal.amount, probability=stage.probability))
            previous = stage
    StageChange.objects.bulk_create(changes, batch_size=1000)
    _quotes(deals, histories, anchor)
    _quotas(owners, today)
    return len(deals)


def _quotes(deals: list[Opportunity], histories: list[list[tuple[Stage, dt.datetime]]], anchor: dt.datetime) -> None:
    """A quote for every deal that reached "Quote generated" (position 5) or further: sent, then
    accepted (won), expired (lost) or still out (open)."""
    product = Product.objects.order_by("id").first()
    if product is None:
        return
    quotes, lines = [], []
    for deal, history in zip(deals, histories, strict=True):
        quoted = [at for stage, at in history if stage.position >= 5 and stage.kind != StageKind.LOST]
        if not quoted:
            continue
        sent = quoted[0]
        status = {"won": QuoteStatus.ACCEPTED, "lost": QuoteStatus.EXPIRED}.get(deal.status, QuoteStatus.SENT)
        valid = sent.date() + dt.timedelta(days=30)
        if status == QuoteStatus.SENT and valid < anchor.date():
            status = QuoteStatus.EXPIRED
        quote = Quote(
            opportunity=deal, account_id=deal.account_id, number=f"Q-D{deal.pk:08d}", status=status,
            currency=deal.currency, quote_date=sent.date(), valid_until=valid, subtotal=deal.amount,
            total=deal.amount, sent_at=sent, sent_to="buyer@example.com", owner_id=deal.owner_id,
            team_id=deal.team_id, created_at=sent, updated_at=sent, created_by_id=deal.owner_id,
            accepted_at=deal.closed_at if status == QuoteStatus.ACCEPTED else None,
            decided_by_name="Demo Buyer" if status == QuoteStatus.ACCEPTED else "",
        )
        quotes.append(quote)
        lines.append(QuoteLine(quote=quote, position=1, product=product, description=product.name, quantity=1,
                               unit_price=deal.amount, net=deal.amount, tax=Decimal(0), total=deal.amount))
    Quote.objects.bulk_create(quotes, batch_size=500)
    QuoteLine.objects.bulk_create(lines, batch_size=500)


def _quotas(owners: list[User], today: dt.date) -> None:
    """Monthly quotas for the last 12 months and this one, quarterly ones for the last 4 quarters."""
    Quota.objects.filter(user__in=owners).delete()
    currency = str(settings.RAPPORT_COMPANY_CURRENCY).upper()
    rows = []
    for owner in owners:
        base = Decimal(60_000 if owner.username == "rep3" else 35_000)
        day = today
        for _ in range(13):
            start, _end = period_bounds("month", day)
            rows.append(Quota(user=owner, period="month", period_start=start, amount=base, currency=currency))
            day = start - dt.timedelta(days=1)
        day = today
        for _ in range(4):
            start, _end = period_bounds("quarter", day)
            rows.append(Quota(user=owner, period="quarter", period_start=start, amount=base * 3, currency=currency))
            day = start - dt.timedelta(days=1)
    Quota.objects.bulk_create(rows)
