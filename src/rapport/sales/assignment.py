"""Lead assignment: the first matching rule picks the salesperson; the choice is logged and notified.

Rules are tried in the administrator's order; a rule matches when every criterion it sets holds
(territory: country list, region, postcode prefix; industry; employees range). Its strategy then
picks among *available* users (active, not away today, i.e. not ``today <= away_until``):

* ``user``: the named salesperson, if available;
* ``round_robin``: the team's next available member after the rule's pointer (member ids in
  ascending order, wrapping); the rule row is locked with ``select_for_update`` while the pointer
  moves, so concurrent assignments each get the next member, never the same one twice;
* ``least_loaded``: the team's available member with the fewest open (new/contacted/qualified)
  leads, ties to the lowest id.

A rule whose strategy finds nobody is skipped. When no rule assigns, the fallback owner keeps it
(the web form's owner, or whoever created the lead), and the timeline says so.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from rapport.core.models import User
from rapport.core.notifications import notification_send
from rapport.sales.choices import LeadStatus
from rapport.sales.models import Lead
from rapport.sales.models_leads import AssignmentRule, AssignmentStrategy, LeadEvent, LeadEventKind

OPEN_STATUSES = (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED)


def _available(users):  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    return users.filter(is_active=True).filter(Q(away_until__isnull=True) | Q(away_until__lt=today))


def rule_matches(rule: AssignmentRule, lead: Lead) -> bool:
    countries = {c.strip().upper() for c in rule.countries.split(",") if c.strip()}
    if countries and (lead.country or "").upper() not in countries:
        return False
    if rule.region and (lead.region or "").strip().lower() != rule.region.strip().lower():
        return False
    if rule.postcode_prefix and not (lead.postal_code or "").replace(" ", "").upper().startswith(
            rule.postcode_prefix.replace(" ", "").upper()):
        return False
    if rule.industry and (lead.industry or "").strip().lower() != rule.industry.strip().lower():
        return False
    if rule.employees_min is not None and (lead.employees is None or lead.employees < rule.employees_min):
        return False
    return not (rule.employees_max is not None and (lead.employees is None or lead.employees > rule.employees_max))


def _pick(rule: AssignmentRule) -> User | None:
    if rule.strategy == AssignmentStrategy.USER:
        return _available(User.objects.filter(pk=rule.user_id)).first() if rule.user_id else None
    members = _available(User.objects.filter(team_id=rule.team_id)).order_by("pk")
    if rule.strategy == AssignmentStrategy.LEAST_LOADED:
        ids = list(members.values_list("pk", flat=True))
        if not ids:
            return None
        counts = dict(Lead.objects.filter(owner_id__in=ids, status__in=OPEN_STATUSES)
                      .values_list("owner_id").annotate(n=Count("pk")).values_list("owner_id", "n"))
        chosen = min(ids, key=lambda pk: (counts.get(pk, 0), pk))
        return User.objects.get(pk=chosen)
    # Round-robin: lock the rule so the pointer read and the pointer write are one step.
    locked = AssignmentRule.objects.select_for_update().get(pk=rule.pk)
    ids = list(members.values_list("pk", flat=True))
    if not ids:
        return None
    after = locked.rr_last_user_id or 0
    chosen = next((pk for pk in ids if pk > after), ids[0])
    AssignmentRule.objects.filter(pk=rule.pk).update(rr_last_user_id=chosen)
    rule.rr_last_user_id = chosen
    return User.objects.get(pk=chosen)


@transaction.atomic
def lead_assign(
    *, lead: Lead, actor: User | None, fallback: User | None = None, notify: bool = True
) -> tuple[User | None, AssignmentRule | None]:
    """Run the rules on ``lead`` and give it to whoever they pick (or ``fallback``); log and notify.

    Returns (owner, rule). Called by every channel right after the lead is written, and by
    "re-run assignment"; ``notify=False`` (bulk loaders such as the demo) skips the notification.
    Owner and team change without a version check: the calling service holds the row it just
    wrote or re-read.
    """
    chosen: User | None = None
    used: AssignmentRule | None = None
    for rule in AssignmentRule.objects.filter(is_active=True).order_by("position", "id"):
        if not rule_matches(rule, lead):
            continue
        chosen = _pick(rule)
        if chosen is not None:
            used = rule
            break
    if chosen is None:
        chosen = fallback if fallback is not None and fallback.is_active else (
            lead.owner if lead.owner_id else None)
    now = timezone.now()
    previous = lead.owner_id
    if chosen is not None:
        lead.owner, lead.team_id = chosen, chosen.team_id
    lead.assigned_at = now
    Lead.objects.filter(pk=lead.pk).update(owner=lead.owner, team_id=lead.team_id, assigned_at=now)
    body = (f"Assigned to {chosen.get_full_name() or chosen.username} by the rule “{used.name}”." if used and chosen
            else f"No assignment rule matched; it stays with {chosen.get_full_name() or chosen.username}."
            if chosen else "No assignment rule matched and there is no fallback owner.")
    LeadEvent.objects.create(lead=lead, kind=LeadEventKind.ASSIGNED, actor=actor if getattr(actor, "pk", None)
                             else None, subject="Assignment", body=body, rule=used, assignee=chosen, at=now)
    someone_else = chosen is not None and chosen.pk != getattr(actor, "pk", None)
    if notify and someone_else and (chosen.pk != previous or used is not None):
        notification_send(user=chosen, kind="lead_assigned",
                          message=f"New lead for you: {lead}" + (f" (rule “{used.name}”)" if used else ""),
                          url=reverse("lead_detail", args=[lead.pk]))
    return chosen, used
