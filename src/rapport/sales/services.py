"""Writes of the sales process: opportunities and their moves through a pipeline's stages.

Every function here is one transaction: it checks the actor's rights, validates, writes the rows
and their audit events, so a refused request leaves nothing behind. Leads, quotes, assignment
and forecasts have their own service modules beside this one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from rapport.commerce.money import currency_clean
from rapport.commerce.pricing import company_currency
from rapport.commerce.writes import create
from rapport.core import permissions
from rapport.core.audit import audit_record
from rapport.core.errors import DomainError, NotFound, ValidationFailed
from rapport.core.models import User
from rapport.core.versioning import version_check, versioned_save
from rapport.parties.models import Account, Contact
from rapport.sales.choices import OpportunityStatus, StageKind
from rapport.sales.models import Lead, Opportunity, Pipeline, Stage, StageChange


class IllegalStageMove(DomainError):
    """The move is not allowed from where the opportunity is (e.g. into another pipeline's stage)."""

    status = 409
    slug = "illegal-stage-move"
    title = "This stage move is not allowed"


def default_pipeline() -> Pipeline:
    pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.order_by("pk").first()
    if pipeline is None:
        raise NotFound("No pipeline is defined. An administrator must create one.")
    return pipeline


def first_open_stage(pipeline: Pipeline) -> Stage:
    stage = pipeline.stages.filter(kind=StageKind.OPEN, is_active=True).order_by("position").first()
    if stage is None:
        raise ValidationFailed(f"The pipeline {pipeline.name!r} has no open stage.")
    return stage


def _status_of(stage: Stage) -> str:
    return {StageKind.WON: OpportunityStatus.WON, StageKind.LOST: OpportunityStatus.LOST}.get(
        stage.kind, OpportunityStatus.OPEN  # type: ignore[call-overload]
    )


def _enter(opportunity: Opportunity, stage: Stage, *, actor: User | None, at: dt.datetime) -> StageChange:
    """Point ``opportunity`` at ``stage`` (status, probability, forecast category, dates); not saved."""
    previous = opportunity.stage if opportunity.stage_id else None
    opportunity.stage = stage
    opportunity.status = _status_of(stage)
    if not opportunity.probability_overridden or stage.kind != StageKind.OPEN:
        opportunity.probability = stage.probability
        opportunity.probability_overridden = False
    opportunity.forecast_category = stage.forecast_category
    opportunity.stage_entered_at = at
    if opportunity.status == OpportunityStatus.OPEN:
        opportunity.closed_at = None
    elif previous is None or previous.kind == StageKind.OPEN or opportunity.closed_at is None:
        opportunity.closed_at = at
    return StageChange(
        opportunity=opportunity, from_stage=previous, to_stage=stage, changed_at=at,
        changed_by=actor if getattr(actor, "pk", None) else None,
        amount=opportunity.amount, probability=opportunity.probability,
    )


@transaction.atomic
def opportunity_create(
    *,
    actor: User,
    account: Account,
    name: str,
    amount: Decimal | int | str = Decimal(0),
    currency: str = "",
    expected_close_date: dt.date | None = None,
    pipeline: Pipeline | None = None,
    stage: Stage | None = None,
    contact: Contact | None = None,
    owner: User | None = None,
    lead: Lead | None = None,
    probability: int | None = None,
    **fields: Any,
) -> Opportunity:
    """Open a deal for ``account`` in ``stage`` (default: the pipeline's first open stage).

    Owned by ``owner`` (default the actor) and the owner's team. Refused, with nothing written,
    when the actor may not add opportunities or read the account/contact, the stage is not of the
    pipeline, the currency is not ISO 4217 or the amount is negative.
    """
    permissions.require_model_perm(actor, Opportunity, "add")
    for party in (account, contact):
        if party is not None and not permissions.can_read(actor, party):
            raise NotFound(f"{party._meta.verbose_name.capitalize()} {party.pk} was not found.")
    pipeline = pipeline or (stage.pipeline if stage is not None else default_pipeline())
    stage = stage or first_open_stage(pipeline)
    if stage.pipeline_id != pipeline.pk:
        raise IllegalStageMove(
            f"The stage {stage.name!r} is not a stage of the pipeline {pipeline.name!r}.",
            field_errors={"stage_id": ["Choose a stage of this pipeline."]},
        )
    owner = owner or actor
    now = timezone.now()
    opportunity = Opportunity(
        name=(name or "").strip(), account=account, contact=contact, pipeline=pipeline,
        amount=Decimal(str(amount)), currency=currency_clean(currency or account.currency or company_currency()),
        expected_close_date=expected_close_date or (timezone.localdate() + dt.timedelta(days=30)),
        owner=owner, team_id=owner.team_id, lead=lead, probability=0, **fields,
    )
    change = _enter(opportunity, stage, actor=actor, at=now)
    if probability is not None and stage.kind == StageKind.OPEN:
        opportunity.probability = probability
        opportunity.probability_overridden = probability != stage.probability
    create(opportunity, actor=actor, what="opportunity")
    change.opportunity = opportunity
    change.probability = opportunity.probability
    change.save()
    return opportunity


@transaction.atomic
def opportunity_move(
    *, actor: User, opportunity: Opportunity, stage: Stage, expected_version: int | None,
    close_reason: str = "",
) -> Opportunity:
    """Move ``opportunity`` to ``stage`` of its pipeline, refusing a stale version.

    Moving to the stage it is in is a no-op (no history row). Moving into a lost stage needs a
    reason; leaving a won or lost stage reopens the deal (a correction, kept in the history).
    """
    permissions.check_write(actor, opportunity)
    if stage.pipeline_id != opportunity.pipeline_id:
        raise IllegalStageMove(
            f"{stage.name!r} is not a stage of the pipeline this opportunity is in.",
            field_errors={"stage_id": ["Choose a stage of this opportunity's pipeline."]},
        )
    if not stage.is_active:
        raise IllegalStageMove(f"The stage {stage.name!r} is no longer in use.")
    # Checked here and not only by versioned_save: a stale move to the stage the deal is already
    # in must be refused too, not answered as a no-op.
    version_check(opportunity, expected_version)
    if stage.pk == opportunity.stage_id:
        return opportunity
    reason = (close_reason or "").strip()
    if stage.kind == StageKind.LOST and not reason:
        raise ValidationFailed("Say why the deal was lost.", field_errors={"close_reason": ["Required."]})
    before = {"stage": opportunity.stage_id, "status": opportunity.status, "probability": opportunity.probability}
    change = _enter(opportunity, stage, actor=actor, at=timezone.now())
    if reason:
        opportunity.close_reason = reason
    versioned_save(
        opportunity, expected_version=expected_version,
        fields=["stage", "status", "probability", "probability_overridden", "forecast_category",
                "stage_entered_at", "closed_at", "close_reason"],
    )
    change.save()
    after = {"stage": stage.pk, "status": opportunity.status, "probability": opportunity.probability}
    audit_record(actor=actor, action="update", instance=opportunity,
                 changes={k: [before[k], after[k]] for k in before if before[k] != after[k]},
                 context={"stage_move": stage.name})
    return opportunity
