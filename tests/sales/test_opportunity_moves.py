"""Opening deals and moving them through the default pipeline: history, status, rules, rights."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rapport.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from rapport.sales.models import Opportunity, Pipeline, Stage, StageChange
from rapport.sales.services import IllegalStageMove, opportunity_create, opportunity_move


def test_default_pipeline_is_the_issues_sales_process(pipeline, stages):
    assert [s.name for s in pipeline.stages.order_by("position")][:6] == [
        "Opportunity generated", "Lead sent to salesperson", "Customer contacted", "Meeting",
        "Problems and solutions identified", "Quote generated",
    ]
    assert [s.kind for s in stages.values()].count("won") == 3
    assert stages["lost"].probability == 0 and stages["ordered"].probability == 100


def test_create_starts_in_the_first_open_stage_with_its_probability(rep, customer, stages):
    deal = opportunity_create(actor=rep, account=customer, name="Widgets", amount="1200.50")
    assert deal.stage == stages["generated"] and deal.probability == 5 and deal.status == "open"
    assert deal.currency == "EUR" and deal.owner == rep and deal.team_id == rep.team_id
    assert deal.weighted_amount == Decimal("60.025")
    assert list(StageChange.objects.filter(opportunity=deal).values_list("from_stage", "to_stage")) == [
        (None, stages["generated"].pk)
    ]


def test_moves_keep_history_and_close_on_won(rep, customer, stages):
    deal = opportunity_create(actor=rep, account=customer, name="Deal", amount=100)
    deal = opportunity_move(actor=rep, opportunity=deal, stage=stages["quote"], expected_version=deal.version)
    assert (deal.probability, deal.forecast_category, deal.closed_at) == (70, "commit", None)
    deal = opportunity_move(actor=rep, opportunity=deal, stage=stages["ordered"], expected_version=deal.version)
    assert deal.status == "won" and deal.closed_at is not None
    won_at = deal.closed_at
    deal = opportunity_move(actor=rep, opportunity=deal, stage=stages["billed"], expected_version=deal.version)
    assert deal.closed_at == won_at  # moving between won stages does not re-date the win
    history = StageChange.objects.filter(opportunity=deal).order_by("changed_at", "id")
    assert [c.to_stage.name for c in history] == ["Opportunity generated", "Quote generated",
                                                  "Sales order placed", "Customer billed"]
    stored = Opportunity.objects.get(pk=deal.pk)
    assert (stored.status, stored.version) == ("won", 4)


def test_stale_move_is_a_conflict_and_writes_nothing(rep, customer, stages):
    deal = opportunity_create(actor=rep, account=customer, name="Deal")
    stale = Opportunity.objects.get(pk=deal.pk)
    opportunity_move(actor=rep, opportunity=deal, stage=stages["meeting"], expected_version=1)
    with pytest.raises(Conflict) as caught:
        opportunity_move(actor=rep, opportunity=stale, stage=stages["quote"], expected_version=1)
    assert caught.value.extra.get("current_version", 2) == 2
    assert Opportunity.objects.get(pk=deal.pk).stage == stages["meeting"]
    assert StageChange.objects.filter(opportunity=deal).count() == 2


def test_lost_needs_a_reason_and_reopening_clears_closed(rep, customer, stages):
    deal = opportunity_create(actor=rep, account=customer, name="Deal")
    with pytest.raises(ValidationFailed):
        opportunity_move(actor=rep, opportunity=deal, stage=stages["lost"], expected_version=deal.version)
    deal = opportunity_move(actor=rep, opportunity=Opportunity.objects.get(pk=deal.pk), stage=stages["lost"],
                            expected_version=1, close_reason="Price")
    assert (deal.status, deal.close_reason, deal.probability) == ("lost", "Price", 0)
    deal = opportunity_move(actor=rep, opportunity=deal, stage=stages["meeting"], expected_version=deal.version)
    assert deal.status == "open" and deal.closed_at is None


def test_a_stage_of_another_pipeline_is_refused(admin_user, rep, customer):
    other = Pipeline.objects.create(name="Renewals")
    foreign = Stage.objects.create(pipeline=other, name="Renewal due", position=0, probability=50)
    deal = opportunity_create(actor=rep, account=customer, name="Deal")
    with pytest.raises(IllegalStageMove):
        opportunity_move(actor=rep, opportunity=deal, stage=foreign, expected_version=deal.version)
    assert Opportunity.objects.get(pk=deal.pk).version == 1


def test_rights(rep, teammate, other_rep, analyst, customer, stages):
    deal = opportunity_create(actor=rep, account=customer, name="Deal")
    with pytest.raises(PermissionDenied):
        opportunity_create(actor=analyst, account=customer, name="No")
    with pytest.raises(NotFound):
        opportunity_create(actor=other_rep, account=customer, name="Not theirs")
    with pytest.raises((NotFound, PermissionDenied)):
        opportunity_move(actor=other_rep, opportunity=deal, stage=stages["meeting"], expected_version=1)
    moved = opportunity_move(actor=teammate, opportunity=deal, stage=stages["meeting"], expected_version=1)
    assert moved.stage == stages["meeting"]
