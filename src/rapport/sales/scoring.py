"""Lead scoring: the administrator's rules turned into ``score_fit``, ``score_engagement`` and ``score``.

A fit rule compares one lead field with a value; an engagement rule counts the lead's timeline
events of one kind (``each``: points per event, ``any``: points once). ``score`` is the sum of
both parts. The same evaluation produces the "why this score" breakdown, so what the page
explains is exactly what was added up.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from rapport.core.errors import ValidationFailed
from rapport.sales.models import Lead
from rapport.sales.models_leads import ENGAGEMENT_EVENTS, LeadEvent, LeadScoringRule, ScoreKind, ScoreOperator

# Lead fields a fit rule may test; numbers compare as numbers, text case-insensitively.
FIT_FIELDS = ("company", "title", "email", "phone", "website", "industry", "employees", "country", "region",
              "city", "postal_code", "source", "campaign", "marketing_consent")
NUMERIC_FIELDS = ("employees",)
FIT_OPERATORS = {ScoreOperator.EQUALS, ScoreOperator.NOT_EQUALS, ScoreOperator.CONTAINS, ScoreOperator.STARTS,
                 ScoreOperator.ONE_OF, ScoreOperator.AT_LEAST, ScoreOperator.AT_MOST, ScoreOperator.PRESENT,
                 ScoreOperator.ABSENT}
ENGAGEMENT_OPERATORS = {ScoreOperator.EACH, ScoreOperator.ANY}


@dataclass(frozen=True)
class ScoreLine:
    rule_id: int
    rule: str
    kind: str
    points: int
    times: int = 1


@dataclass(frozen=True)
class Score:
    fit: int
    engagement: int
    lines: tuple[ScoreLine, ...]

    @property
    def total(self) -> int:
        return self.fit + self.engagement


def rule_validate(*, kind: str, field: str, operator: str, value: str) -> None:
    """Refuse a rule that could never be evaluated (unknown field, operator of the other kind, bad number)."""
    errors: dict[str, list[str]] = {}
    if kind == ScoreKind.FIT:
        if field not in FIT_FIELDS:
            errors["field"] = [f"A fit rule tests one of: {', '.join(FIT_FIELDS)}."]
        if operator not in FIT_OPERATORS:
            errors["operator"] = ["Not an operator for fit rules."]
        elif operator in (ScoreOperator.AT_LEAST, ScoreOperator.AT_MOST):
            try:
                float(value)
            except ValueError:
                errors["value"] = ["Give a number."]
    elif kind == ScoreKind.ENGAGEMENT:
        if field not in ENGAGEMENT_EVENTS:
            errors["field"] = [f"An engagement rule counts one of: {', '.join(ENGAGEMENT_EVENTS)}."]
        if operator not in ENGAGEMENT_OPERATORS:
            errors["operator"] = ["Engagement rules count events: 'each' or 'any'."]
    else:
        errors["kind"] = ["Choose fit or engagement."]
    if errors:
        raise ValidationFailed("The scoring rule is not valid.", field_errors=errors)


def _fit_holds(rule: LeadScoringRule, lead: Lead) -> bool:
    raw = getattr(lead, rule.field, None)
    if rule.operator == ScoreOperator.PRESENT:
        return raw not in (None, "", False)
    if rule.operator == ScoreOperator.ABSENT:
        return raw in (None, "", False)
    if rule.operator in (ScoreOperator.AT_LEAST, ScoreOperator.AT_MOST):
        if raw in (None, ""):
            return False
        try:
            number, bound = float(raw), float(rule.value)
        except (TypeError, ValueError):
            return False
        return number >= bound if rule.operator == ScoreOperator.AT_LEAST else number <= bound
    text = ("yes" if raw else "no") if isinstance(raw, bool) else str(raw if raw is not None else "")
    text, wanted = text.strip().lower(), rule.value.strip().lower()
    if rule.operator == ScoreOperator.EQUALS:
        return text == wanted
    if rule.operator == ScoreOperator.NOT_EQUALS:
        return text != wanted
    if rule.operator == ScoreOperator.CONTAINS:
        return bool(wanted) and wanted in text
    if rule.operator == ScoreOperator.STARTS:
        return bool(wanted) and text.startswith(wanted)
    if rule.operator == ScoreOperator.ONE_OF:
        return text in {part.strip() for part in wanted.split(",") if part.strip()}
    return False


def score_compute(lead: Lead, rules: Iterable[LeadScoringRule], event_counts: Counter[str]) -> Score:
    """Evaluate ``rules`` (active ones, in order) on ``lead`` and its timeline's ``event_counts``."""
    fit = engagement = 0
    lines: list[ScoreLine] = []
    for rule in rules:
        if not rule.is_active:
            continue
        if rule.kind == ScoreKind.FIT:
            if _fit_holds(rule, lead):
                fit += rule.points
                lines.append(ScoreLine(rule.pk, rule.name, rule.kind, rule.points))
        else:
            times = event_counts.get(rule.field, 0)
            if times and rule.operator == ScoreOperator.ANY:
                times = 1
            if times:
                engagement += rule.points * times
                lines.append(ScoreLine(rule.pk, rule.name, rule.kind, rule.points * times, times))
    return Score(fit=fit, engagement=engagement, lines=tuple(lines))


def active_rules() -> list[LeadScoringRule]:
    return list(LeadScoringRule.objects.filter(is_active=True).order_by("position", "id"))


def event_counts(lead: Lead) -> Counter[str]:
    if not lead.pk:
        return Counter()
    rows = LeadEvent.objects.filter(lead=lead, kind__in=ENGAGEMENT_EVENTS).values_list("kind", flat=True)
    return Counter(rows)


def lead_score(lead: Lead, rules: list[LeadScoringRule] | None = None) -> Score:
    return score_compute(lead, active_rules() if rules is None else rules, event_counts(lead))


def lead_score_refresh(lead: Lead, rules: list[LeadScoringRule] | None = None) -> bool:
    """Recompute and store the lead's scores (a derived value: no version bump, no audit). True if changed."""
    score = lead_score(lead, rules)
    if (lead.score_fit, lead.score_engagement, lead.score) == (score.fit, score.engagement, score.total):
        return False
    lead.score_fit, lead.score_engagement, lead.score = score.fit, score.engagement, score.total
    if lead.pk:
        Lead.objects.filter(pk=lead.pk).update(score_fit=score.fit, score_engagement=score.engagement,
                                               score=score.total)
    return True


def leads_rescore_all(*, batch: int = 2000) -> int:
    """Recompute every unconverted lead after the rules changed; returns how many changed.

    Per batch: one read of the leads, one grouped count of their events, one UPDATE per changed
    lead, so a rule change over 100k leads costs ~50 reads plus the writes it needs.
    """
    from django.db.models import Count

    rules = active_rules()
    changed = 0
    qs = Lead.objects.exclude(status="converted").order_by("pk")
    last = 0
    while True:
        leads = list(qs.filter(pk__gt=last)[:batch])
        if not leads:
            return changed
        counts: dict[int, Counter[str]] = {}
        rows = (LeadEvent.objects.filter(lead_id__in=[lead.pk for lead in leads], kind__in=ENGAGEMENT_EVENTS)
                .values_list("lead_id", "kind").annotate(n=Count("id")).order_by())
        for lead_id, kind, n in rows:
            counts.setdefault(lead_id, Counter())[kind] = n
        for lead in leads:
            score = score_compute(lead, rules, counts.get(lead.pk, Counter()))
            if (lead.score_fit, lead.score_engagement, lead.score) != (score.fit, score.engagement, score.total):
                Lead.objects.filter(pk=lead.pk).update(score_fit=score.fit, score_engagement=score.engagement,
                                                       score=score.total)
                changed += 1
        last = leads[-1].pk
