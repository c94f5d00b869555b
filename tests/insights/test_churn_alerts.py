"""Churn alerts: raised once on crossing, once on a jump, never twice while open; the retention task
goes to the owner (or the save team) with the drivers and a suggested action; outcomes give the
save rate; settings refuse thresholds out of order."""

from __future__ import annotations

import pandas as pd
import pytest
from django.core.exceptions import ValidationError

from rapport.activities.models import Task
from rapport.core.errors import Conflict, ValidationFailed
from rapport.core.models import AuditEvent, Notification
from rapport.insights.alerts import alert_outcome_set, alerts_raise, save_rate, suggested_action
from rapport.insights.models import ChurnAlert, ScoringSettings
from rapport.parties.services import account_create


@pytest.fixture
def cfg(db):
    return ScoringSettings.load()  # threshold 0.7, jump 0.25


@pytest.fixture
def acme(rep):
    return account_create(actor=rep, data={"name": "Acme & <Sons>"})


def test_crossing_raises_one_alert_with_a_task_for_the_owner(cfg, rep, acme):
    # when: the probability crosses 0.7 (previous 0.5)
    made = alerts_raise(
        probability=pd.Series({acme.pk: 0.82}), previous=pd.Series({acme.pk: 0.5}), settings=cfg,
        drivers=pd.Series({acme.pk: ["+days_since_last_order", "+spend_change", "-orders"]}, dtype=object))
    # then
    assert made == 1
    alert = ChurnAlert.objects.get()
    assert (alert.account_id, alert.status, alert.trigger) == (acme.pk, "open", "threshold")
    assert (alert.probability, alert.previous_probability) == (0.82, 0.5)
    assert alert.suggested_action == "call"
    assert alert.assignee == rep
    task = Task.objects.get()
    assert alert.task == task
    assert (task.account_id, task.assignee, task.priority, task.done_at) == (acme.pk, rep, "high", None)
    assert task.title == "Retention (Call): Acme & <Sons>"
    assert "Churn risk 82% (was 50%)" in task.description
    assert "days since the last order, spend against the period before" in task.description
    note = Notification.objects.get(user=rep)
    assert note.kind == "churn_alert_task"
    assert note.message == "Churn risk 82% for Acme & <Sons>: call suggested"
    assert note.url == f"/insights/churn/alerts/?account_id={acme.pk}"
    assert AuditEvent.objects.filter(object_id=alert.pk, action="create", context={"job": "churn_alert"}).exists()


def test_no_second_alert_while_one_is_open(cfg, acme):
    alerts_raise(probability=pd.Series({acme.pk: 0.8}), previous=pd.Series({acme.pk: None}, dtype=float),
                 settings=cfg)
    # when: the next run jumps further (0.3 → 0.9 would be a jump) with the alert still open
    again = alerts_raise(probability=pd.Series({acme.pk: 0.95}), previous=pd.Series({acme.pk: 0.3}), settings=cfg)
    # then
    assert again == 0
    assert ChurnAlert.objects.count() == 1
    assert Task.objects.count() == 1


def test_staying_above_the_threshold_is_not_a_new_crossing(cfg, rep, acme):
    alerts_raise(probability=pd.Series({acme.pk: 0.8}), previous=pd.Series({acme.pk: 0.5}), settings=cfg)
    alert = ChurnAlert.objects.get()
    alert_outcome_set(actor=rep, alert=alert, status="saved", expected_version=alert.version)
    # when: still 0.85 the next run (it was 0.8): neither a crossing nor a jump of 0.25
    made = alerts_raise(probability=pd.Series({acme.pk: 0.85}), previous=pd.Series({acme.pk: 0.8}), settings=cfg)
    # then
    assert made == 0
    assert ChurnAlert.objects.count() == 1


def test_a_jump_below_the_threshold_raises_one_alert(cfg, rep, acme):
    # when: 0.2 → 0.5 (below 0.7, but up by 0.3 ≥ 0.25), drivers: inbound contacts first
    made = alerts_raise(probability=pd.Series({acme.pk: 0.5}), previous=pd.Series({acme.pk: 0.2}), settings=cfg,
                        drivers=pd.Series({acme.pk: ["+inbound_contacts", "+days_since_last_order"]}, dtype=object))
    # then
    assert made == 1
    alert = ChurnAlert.objects.get()
    assert (alert.trigger, alert.suggested_action) == ("jump", "service")
    # and a smaller rise (0.2 → 0.4) on another account raises nothing
    other = account_create(actor=rep, data={"name": "Bolt"})
    assert alerts_raise(probability=pd.Series({other.pk: 0.4}), previous=pd.Series({other.pk: 0.2}),
                        settings=cfg) == 0


def test_first_score_above_the_threshold_counts_as_crossing_and_unknown_is_ignored(cfg, rep, acme):
    bolt = account_create(actor=rep, data={"name": "Bolt"})
    made = alerts_raise(probability=pd.Series({acme.pk: 0.9, bolt.pk: float("nan")}),
                        previous=pd.Series({acme.pk: None, bolt.pk: 0.1}, dtype=float), settings=cfg)
    assert made == 1
    assert list(ChurnAlert.objects.values_list("account_id", flat=True)) == [acme.pk]


def test_suggested_action_follows_the_risk_raising_drivers():
    assert suggested_action(["+days_since_last_order"]) == "call"
    assert suggested_action(["-days_since_last_order", "+inbound_contacts"]) == "service"
    assert suggested_action(["+spend_change", "+days_since_last_order"]) == "voucher"
    assert suggested_action(["-spend_change", "+segment"]) == "review"
    assert suggested_action([]) == "review"


def test_unowned_accounts_go_to_the_save_team_user(cfg, admin_user, manager, rep):
    unowned = account_create(actor=admin_user, data={"name": "Nobody's", "owner_id": None})
    assert unowned.owner_id is None
    cfg.save_team_user = manager
    cfg.save()
    alerts_raise(probability=pd.Series({unowned.pk: 0.9}), previous=pd.Series({unowned.pk: 0.1}), settings=cfg)
    assert ChurnAlert.objects.get().assignee == manager
    assert Task.objects.get().assignee == manager


def test_save_team_can_take_every_alert_through_its_manager(cfg, team_a, manager, rep, acme):
    cfg.save_team, cfg.always_save_team = team_a, True
    cfg.save()
    alerts_raise(probability=pd.Series({acme.pk: 0.9}), previous=pd.Series({acme.pk: 0.1}), settings=cfg)
    assert ChurnAlert.objects.get().assignee == manager  # team A's manager, not the owner


def test_nobody_to_assign_still_records_the_alert_without_a_task(cfg, admin_user):
    unowned = account_create(actor=admin_user, data={"name": "Nobody's", "owner_id": None})
    alerts_raise(probability=pd.Series({unowned.pk: 0.9}), previous=pd.Series({unowned.pk: 0.1}), settings=cfg)
    alert = ChurnAlert.objects.get()
    assert (alert.assignee, alert.task) == (None, None)
    assert not Task.objects.exists()


def test_outcomes_give_the_save_rate_by_action(cfg, rep, other_rep):
    accounts = [account_create(actor=rep, data={"name": f"A{i}"}) for i in range(4)]
    drivers = [["+days_since_last_order"], ["+days_since_last_order"], ["+spend_change"], ["+spend_change"]]
    alerts_raise(probability=pd.Series({a.pk: 0.9 for a in accounts}),
                 previous=pd.Series({a.pk: 0.1 for a in accounts}), settings=cfg,
                 drivers=pd.Series({a.pk: d for a, d in zip(accounts, drivers, strict=True)}, dtype=object))
    alerts = {a.account_id: a for a in ChurnAlert.objects.all()}
    outcomes = ["saved", "lost", "saved", "dismissed"]
    for account, outcome in zip(accounts, outcomes, strict=True):
        alert = alerts[account.pk]
        alert_outcome_set(actor=rep, alert=alert, status=outcome, expected_version=alert.version)
    # then: dismissed is not a decision; call 1 of 2, voucher 1 of 1
    rate = save_rate(actor=rep)
    assert (rate["saved"], rate["lost"], rate["decided"]) == (2, 1, 3)
    assert rate["rate"] == pytest.approx(2 / 3)
    by_action = {r["suggested_action"]: (r["saved"], r["decided"], r["rate"]) for r in rate["by_action"]}
    assert by_action == {"call": (1, 2, 0.5), "voucher": (1, 1, 1.0)}
    assert len(rate["by_month"]) == 1 and rate["by_month"][0]["decided"] == 3
    # the retention tasks were closed with their alerts
    assert Task.objects.filter(done_at__isnull=True).count() == 0
    # another team's rep sees none of it
    assert save_rate(actor=other_rep) == {"saved": 0, "decided": 0, "lost": 0, "rate": None, "by_month": [],
                                          "by_action": []}


def test_outcome_is_set_once_and_a_stale_version_is_refused(cfg, rep, acme):
    alerts_raise(probability=pd.Series({acme.pk: 0.9}), previous=pd.Series({acme.pk: 0.1}), settings=cfg)
    alert = ChurnAlert.objects.get()
    with pytest.raises(Conflict):
        alert_outcome_set(actor=rep, alert=alert, status="saved", expected_version=alert.version + 1)
    assert ChurnAlert.objects.get().status == "open"
    with pytest.raises(ValidationFailed):
        alert_outcome_set(actor=rep, alert=alert, status="open", expected_version=alert.version)
    alert_outcome_set(actor=rep, alert=alert, status="lost", expected_version=alert.version)
    fresh = ChurnAlert.objects.get()
    assert (fresh.status, fresh.decided_by, fresh.version) == ("lost", rep, 2)
    assert fresh.outcome_at is not None
    with pytest.raises(ValidationFailed, match="already decided"):
        alert_outcome_set(actor=rep, alert=fresh, status="saved", expected_version=fresh.version)
    assert ChurnAlert.objects.get().status == "lost"


@pytest.mark.django_db(transaction=True)
def test_the_owner_is_emailed_over_smtp(rep, smtp):
    cfg = ScoringSettings.load()
    acme = account_create(actor=rep, data={"name": "Acme"})
    alerts_raise(probability=pd.Series({acme.pk: 0.9}), previous=pd.Series({acme.pk: 0.1}), settings=cfg)
    assert len(smtp.messages) == 1
    _sender, recipients, content = smtp.messages[0]
    assert recipients == [rep.email]
    assert "Churn risk 90% for Acme" in content
    assert f"/insights/churn/alerts/?account_id={acme.pk}" in content


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"platinum_at": 100, "gold_at": 200, "iron_at": 50}, "platinum_at"),
        ({"platinum_at": 1000, "gold_at": 50, "iron_at": 50}, "gold_at"),
        ({"iron_at": -1, "gold_at": 10, "platinum_at": 20}, "iron_at"),
        ({"churn_alert_threshold": 1.5}, "churn_alert_threshold"),
        ({"jump_threshold": 0}, "jump_threshold"),
        ({"horizon_days": 1}, "horizon_days"),
    ],
)
def test_settings_refuse_thresholds_out_of_order(db, values, field):
    cfg = ScoringSettings.load()
    for name, value in values.items():
        setattr(cfg, name, value)
    with pytest.raises(ValidationError) as err:
        cfg.full_clean()
    assert field in err.value.message_dict


def test_admin_refuses_settings_out_of_order_and_keeps_the_old_ones(admin_user, client_of):
    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])
    cfg = ScoringSettings.load()
    client = client_of(admin_user)
    url = f"/admin/insights/scoringsettings/{cfg.pk}/change/"
    form = {"pyramid_basis": "clv", "platinum_at": "100", "gold_at": "500", "iron_at": "50",
            "churn_alert_threshold": "0.7", "jump_threshold": "0.25", "horizon_days": "90", "clv_months": "12",
            "discount_rate": "0.01"}
    response = client.post(url, form)
    assert response.status_code == 200
    assert "Must be above the gold threshold." in response.content.decode()
    assert ScoringSettings.load().platinum_at == 10000
    response = client.post(url, {**form, "platinum_at": "5000"})
    assert response.status_code == 302
    assert ScoringSettings.load().platinum_at == 5000
