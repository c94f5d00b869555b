"""`rapport demo` loads leads through the services: scored, assigned by the demo rules, some converted."""

from __future__ import annotations

import pytest

from rapport.demo.generate import DemoOptions, demo_generate
from rapport.sales.models import Lead
from rapport.sales.models_leads import AssignmentRule, LeadEvent, LeadScoringRule, WebForm


@pytest.mark.django_db
def test_demo_leads() -> None:
    summary = demo_generate(DemoOptions(accounts=20, contacts=40, interactions=0, orders=3, leads=80, seed=7))
    assert summary.leads == 80 and "80 leads" in summary.line()
    assert Lead.objects.count() == 80
    assert AssignmentRule.objects.count() == 3 and LeadScoringRule.objects.count() == 9 and WebForm.objects.count() == 1
    statuses = set(Lead.objects.values_list("status", flat=True))
    assert {"new", "contacted", "disqualified", "qualified"} <= statuses
    assert Lead.objects.filter(owner__username="rep3", employees__gte=1000).exists()
    assert LeadEvent.objects.filter(kind="assigned").count() == 80
    assert Lead.objects.filter(score__gt=0).count() > 40
    # and again with --reset: the same number, nothing left over
    demo_generate(DemoOptions(accounts=20, contacts=40, interactions=0, orders=3, leads=80, seed=7, reset=True))
    assert Lead.objects.count() == 80


@pytest.mark.django_db
def test_demo_leads_send_no_notifications() -> None:
    from rapport.core.models import Notification

    demo_generate(DemoOptions(accounts=5, contacts=10, interactions=0, orders=0, leads=30, seed=3))
    assert not Notification.objects.filter(kind="lead_assigned").exists()
