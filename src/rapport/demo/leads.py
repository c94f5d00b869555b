"""Demo leads: a few hundred over the last months from every channel, the rules that score and
route them, and a web form. Written through the sales services, so they are scored, assigned
and on their timelines exactly as real ones (the whole part takes about a second)."""

from __future__ import annotations

import datetime as dt
import random

from django.db import connection
from django.utils import timezone

from rapport.core.models import Team, User
from rapport.demo.people import build_pools
from rapport.demo.vocab import COUNTRIES, INDUSTRY_WORDS, NAME_STEMS
from rapport.sales.conversion import lead_convert
from rapport.sales.models import Lead, Opportunity
from rapport.sales.models_leads import AssignmentRule, LeadEvent, LeadScoringRule, WebForm
from rapport.sales.services_leads import lead_create, lead_log, lead_status_set, setup_create

SOURCES = (("web", 0.35), ("import", 0.15), ("email", 0.15), ("trade fair", 0.15), ("referral", 0.1), ("api", 0.1))
CAMPAIGNS = ("", "", "spring-webinar", "cebit-2026", "newsletter-q2")
SCORING = (
    ("Large company", "fit", "employees", "gte", "500", 30),
    ("Mid-size", "fit", "employees", "gte", "50", 10),
    ("Target industry", "fit", "industry", "in", "software, finance, retail", 15),
    ("Webmail address", "fit", "email", "contains", "@gmail.", -10),
    ("Has a phone", "fit", "phone", "present", "", 5),
    ("Each call", "engagement", "call", "each", "", 5),
    ("Each meeting", "engagement", "meeting", "each", "", 15),
    ("Submitted a form", "engagement", "web_form", "any", "", 20),
    ("Confirmed opt-in", "engagement", "opt_in", "any", "", 10),
)


def leads_reset() -> None:
    """Delete demo leads, their rules and forms, and opportunities converted from them."""
    if connection.vendor == "postgresql":
        # TRUNCATE, not DELETE: the commerce reset truncates right after, and PostgreSQL refuses to
        # truncate tables with row-level foreign-key checks still pending from deletes.
        models = (LeadEvent, Lead, AssignmentRule, LeadScoringRule, WebForm)
        tables = ", ".join(f'"{m._meta.db_table}"' for m in models)
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {tables} CASCADE")
        return
    Opportunity.objects.filter(lead__isnull=False).delete()
    LeadEvent.objects.all().delete()
    Lead.objects.all().delete()
    for model in (AssignmentRule, LeadScoringRule, WebForm):
        model.objects.all().delete()


def _setup(admin: User) -> None:
    teams = {t.name: t for t in Team.objects.all()}
    for position, (name, kind, field, operator, value, points) in enumerate(SCORING):
        setup_create(actor=admin, model=LeadScoringRule, data={
            "name": name, "kind": kind, "field": field, "operator": operator, "value": value, "points": points,
            "position": position})
    users = {u.username: u for u in User.objects.filter(username__in=["rep", "rep2", "rep3", "manager"])}
    rules = [("Enterprise (1000+ staff)", {"employees_min": 1000, "strategy": "user", "user_id": users["rep3"].pk}),
             ("DACH", {"countries": "DE,AT,CH", "strategy": "user", "user_id": users["rep"].pk}),
             ("Rest: round-robin West", {"strategy": "round_robin", "team_id": teams["West"].pk}
              if "West" in teams else {"strategy": "user", "user_id": users["rep2"].pk})]
    for position, (name, data) in enumerate(rules):
        setup_create(actor=admin, model=AssignmentRule, data={"name": name, "position": position, **data})
    setup_create(actor=admin, model=WebForm, data={
        "name": "Website contact form", "fields": ["first_name", "last_name", "email", "company", "country",
                                                  "employees", "description", "marketing_consent"],
        "required": ["email"], "source": "web", "campaign": "", "owner_id": users["manager"].pk,
        "thank_you_text": "Thank you! A member of our team will contact you within one business day."})


def leads_generate(*, seed: int, count: int = 300) -> int:
    """``count`` leads (new, contacted, qualified, disqualified, a few converted); returns how many."""
    admin = User.objects.get(username="admin")
    _setup(admin)
    rng = random.Random(seed + 4)
    pools = build_pools(seed)
    reps = list(User.objects.filter(username__in=["rep", "rep2", "rep3"]).order_by("username"))
    industries = list(INDUSTRY_WORDS)
    made = 0
    for i in range(count):
        index = rng.choices(range(len(COUNTRIES)), weights=[c.weight for c in COUNTRIES])[0]
        pool, country = pools[index], COUNTRIES[index]
        first = rng.choice(pool.first_names_female + pool.first_names_male)
        last = rng.choice(pool.last_names)
        industry = rng.choice(industries)
        company = f"{rng.choice(NAME_STEMS)} {rng.choice(INDUSTRY_WORDS[industry])}"
        domain = "".join(ch for ch in company.lower() if ch.isalnum()) + ".example"
        mail = rng.choice(country.free_mail) if rng.random() < 0.25 else domain
        local = "".join(ch for ch in f"{first}.{last}".lower() if ch.isascii() and (ch.isalnum() or ch == ".")) or "x"
        source = rng.choices([s for s, _ in SOURCES], weights=[w for _, w in SOURCES])[0]
        actor = rng.choice(reps)
        lead = lead_create(actor=actor, data={
            "first_name": first, "last_name": last, "company": company, "email": f"{local}{i}@{mail}",
            "industry": industry, "employees": int(rng.lognormvariate(4, 1.6)), "country": country.code,
            "city": rng.choice(pool.cities), "postal_code": rng.choice(pool.postcodes),
            "source": source, "campaign": rng.choice(CAMPAIGNS)}, channel="demo", notify=False)
        created = timezone.now() - dt.timedelta(days=rng.expovariate(1 / 40), hours=rng.randint(0, 23))
        Lead.objects.filter(pk=lead.pk).update(created_at=created)
        owner = lead.owner or actor
        roll = rng.random()
        if roll < 0.45:
            made += 1
            continue
        lead_log(actor=owner, lead=lead, kind=rng.choice(["call", "call", "email", "meeting"]),
                 subject="First contact", body="Introduced ourselves and asked about their needs.")
        lead = Lead.objects.get(pk=lead.pk)
        if roll < 0.7:
            made += 1
            continue
        if roll < 0.82:
            lead_status_set(actor=owner, lead=lead, status="disqualified", expected_version=None,
                            reason=rng.choice(["no_budget", "no_need", "bad_timing", "competitor"]))
        else:
            lead = lead_status_set(actor=owner, lead=lead, status="qualified", expected_version=None)
            if roll > 0.95:
                lead_convert(actor=owner, lead=lead, expected_version=None,
                             amount=rng.choice([2400, 6000, 12000, 30000]))
        made += 1
    return made
