"""Writes of opportunities beyond create/move (edit, delete, products) and of pipelines and stages.

Each function is one transaction that checks the actor's rights, validates and audits; a refused
write leaves nothing behind. Stage moves stay in ``sales.services.opportunity_move`` so that the
board, the API and quote acceptance share one path.

Invariants kept here:
* editing ``probability`` sets ``probability_overridden`` (unless it equals the stage's);
* a stage that a deal or a history row points at is never deleted, only deactivated, so stage
  history and conversion rates stay explainable;
* stage positions of a pipeline stay unique; ``stages_reorder`` rewrites them in one go.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import Max

from rapport.commerce.models import Product
from rapport.commerce.money import currency_clean, decimal_clean
from rapport.commerce.writes import clean, create, update
from rapport.core import permissions
from rapport.core.audit import audit_record
from rapport.core.errors import Conflict, NotFound, ValidationFailed
from rapport.core.models import User
from rapport.core.versioning import version_check, versioned_save
from rapport.parties.models import Contact
from rapport.sales.choices import StageKind
from rapport.sales.models import Opportunity, OpportunityLine, Pipeline, Stage
from rapport.sales.selectors import stages_in_use

# What an edit may change; stage changes are moves, owner changes go with the team.
OPPORTUNITY_FIELDS = ("name", "amount", "currency", "expected_close_date", "next_step", "competitors",
                      "description", "source", "campaign", "probability", "contact", "owner", "close_reason")



@transaction.atomic
def opportunity_update(
    *, actor: User, opportunity: Opportunity, data: dict[str, Any], expected_version: int | None
) -> Opportunity:
    """Change the fields named in ``data`` (see ``OPPORTUNITY_FIELDS``), refusing a stale version."""
    permissions.check_write(actor, opportunity)
    data = dict(data)
    if "amount" in data:
        data["amount"] = decimal_clean(data["amount"], field="amount", places=4)
    if "currency" in data:
        data["currency"] = currency_clean(data["currency"])
    if "contact" in data and data["contact"] is not None:
        contact: Contact = data["contact"]
        if not permissions.can_read(actor, contact):
            raise NotFound(f"Contact {contact.pk} was not found.")
    if "owner" in data:
        owner: User | None = data["owner"]
        if owner is None or not owner.is_active:
            raise ValidationFailed("Choose an active user as owner.", field_errors={"owner_id": ["Unknown user."]})
        data["team_id"] = owner.team_id
    if "probability" in data:
        probability = data["probability"]
        if probability is None:
            data["probability"] = opportunity.stage.probability
            data["probability_overridden"] = False
        else:
            if opportunity.stage.kind != StageKind.OPEN and probability != opportunity.stage.probability:
                raise ValidationFailed("A closed deal's probability is its stage's.",
                                       field_errors={"probability": ["Fixed by the stage."]})
            data["probability_overridden"] = probability != opportunity.stage.probability
    update(opportunity, actor=actor, data=data, fields=(*OPPORTUNITY_FIELDS, "team_id", "probability_overridden"),
           expected_version=expected_version, what="opportunity")
    return opportunity


@transaction.atomic
def opportunity_delete(*, actor: User, opportunity: Opportunity, expected_version: int | None) -> None:
    permissions.check_write(actor, opportunity, "delete")
    version_check(opportunity, expected_version)
    audit_record(actor=actor, action="delete", instance=opportunity, changes={})
    opportunity.delete()


@transaction.atomic
def opportunity_lines_set(
    *, actor: User, opportunity: Opportunity, lines: Sequence[dict[str, Any]], expected_version: int | None
) -> list[OpportunityLine]:
    """Replace the deal's products with ``lines`` (``product``, ``quantity``, ``unit_price``,
    ``discount_percent``); the deal's version grows so concurrent edits are detected."""
    permissions.check_write(actor, opportunity)
    built = []
    for index, spec in enumerate(lines):
        where = f"lines.{index}"
        product = spec.get("product")
        if not isinstance(product, Product):
            raise ValidationFailed("Unknown product.", field_errors={f"{where}.product_id": ["Unknown product."]})
        line = OpportunityLine(
            opportunity=opportunity, product=product, position=index + 1,
            quantity=decimal_clean(spec.get("quantity", 1), field=f"{where}.quantity", places=3, positive=True),
            unit_price=decimal_clean(spec.get("unit_price", 0), field=f"{where}.unit_price", places=4),
            discount_percent=decimal_clean(spec.get("discount_percent", 0), field=f"{where}.discount_percent",
                                           places=2),
        )
        if line.discount_percent > 100:
            raise ValidationFailed("A discount is at most 100 %.",
                                   field_errors={f"{where}.discount_percent": ["At most 100."]})
        clean(line, "product line")
        built.append(line)
    versioned_save(opportunity, expected_version=expected_version, fields=[])
    OpportunityLine.objects.filter(opportunity=opportunity).delete()
    OpportunityLine.objects.bulk_create(built)
    audit_record(actor=actor, action="update", instance=opportunity,
                 changes={"lines": [None, [[ln.product_id, str(ln.quantity), str(ln.unit_price)] for ln in built]]})
    return built


# --- pipelines and stages ------------------------------------------------------------------

PIPELINE_FIELDS = ("name", "description", "is_active", "is_default")
STAGE_FIELDS = ("name", "probability", "kind", "forecast_category", "is_active")


def _default_switch(pipeline: Pipeline) -> None:
    """Only one default pipeline: clear the flag elsewhere before this one takes it."""
    Pipeline.objects.filter(is_default=True).exclude(pk=pipeline.pk).update(is_default=False)


@transaction.atomic
def pipeline_create(*, actor: User, data: dict[str, Any], stages: Sequence[dict[str, Any]] = ()) -> Pipeline:
    """A pipeline with ``stages`` (in order). It needs at least one open stage to be used."""
    permissions.require_model_perm(actor, Pipeline, "add")
    unknown = sorted(set(data) - set(PIPELINE_FIELDS))
    if unknown:
        raise ValidationFailed(f"Unknown fields: {', '.join(unknown)}.")
    pipeline = Pipeline(**{**data, "name": str(data.get("name", "")).strip()})
    if pipeline.is_default:
        _default_switch(pipeline)
    create(pipeline, actor=actor, what="pipeline")
    for spec in stages:
        stage_create(actor=actor, pipeline=pipeline, data=spec)
    return pipeline


@transaction.atomic
def pipeline_update(*, actor: User, pipeline: Pipeline, data: dict[str, Any], expected_version: int | None) -> Pipeline:
    permissions.require_model_perm(actor, Pipeline, "change")
    if data.get("is_default"):
        _default_switch(pipeline)
    if data.get("is_default") is False and pipeline.is_default:
        raise ValidationFailed("Make another pipeline the default instead.",
                               field_errors={"is_default": ["One pipeline is the default."]})
    update(pipeline, actor=actor, data=data, fields=PIPELINE_FIELDS, expected_version=expected_version,
           what="pipeline")
    return pipeline


@transaction.atomic
def pipeline_delete(*, actor: User, pipeline: Pipeline) -> None:
    """Only a pipeline no deal was ever in may be deleted; others are deactivated."""
    permissions.require_model_perm(actor, Pipeline, "delete")
    if pipeline.is_default:
        raise Conflict("The default pipeline cannot be deleted.")
    if Opportunity.objects.filter(pipeline=pipeline).exists():
        raise Conflict(f"Deals are in {pipeline.name!r}; deactivate it instead.")
    audit_record(actor=actor, action="delete", instance=pipeline, changes={})
    pipeline.delete()


def _stage_values(data: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(data) - set(STAGE_FIELDS) - {"position"})
    if unknown:
        raise ValidationFailed(f"Unknown fields: {', '.join(unknown)}.",
                               field_errors={name: ["Unknown field."] for name in unknown})
    values = dict(data)
    if "name" in values:
        values["name"] = str(values["name"]).strip()
    kind = values.get("kind")
    if kind is not None and kind not in StageKind.values:
        raise ValidationFailed("Unknown stage kind.", field_errors={"kind": ["open, won or lost."]})
    return values


@transaction.atomic
def stage_create(*, actor: User, pipeline: Pipeline, data: dict[str, Any]) -> Stage:
    """A stage at ``position`` (default: last); the stages from there on shift right by one."""
    permissions.require_model_perm(actor, Stage, "add")
    values = _stage_values(data)
    last = pipeline.stages.aggregate(m=Max("position"))["m"]
    end = 0 if last is None else last + 1
    position = values.pop("position", None)
    position = end if position is None else min(max(int(position), 0), end)
    if position < end:
        _shift(pipeline, from_position=position)
    stage = Stage(pipeline=pipeline, position=position, **values)
    create(stage, actor=actor, what="stage", exclude=["pipeline"])
    return stage


def _shift(pipeline: Pipeline, *, from_position: int) -> None:
    # Two steps so that the unique (pipeline, position) holds after every statement.
    stages = list(Stage.objects.select_for_update().filter(pipeline=pipeline, position__gte=from_position)
                  .order_by("-position"))
    for stage in stages:
        Stage.objects.filter(pk=stage.pk).update(position=stage.position + 1)


@transaction.atomic
def stage_update(*, actor: User, stage: Stage, data: dict[str, Any]) -> Stage:
    """Rename, re-weigh, re-kind or (de)activate a stage. A stage with deals in it keeps its kind,
    since the deals' status follows it."""
    permissions.require_model_perm(actor, Stage, "change")
    values = _stage_values(data)
    values.pop("position", None)
    if "kind" in values and values["kind"] != stage.kind and Opportunity.objects.filter(stage=stage).exists():
        raise Conflict(f"Deals are in {stage.name!r}; move them before changing its kind.")
    if values.get("is_active") is False and stage.kind == StageKind.OPEN and not stage.pipeline.stages.filter(
            kind=StageKind.OPEN, is_active=True).exclude(pk=stage.pk).exists():
        raise ValidationFailed("A pipeline keeps at least one active open stage.",
                               field_errors={"is_active": ["Last open stage."]})
    for name, value in values.items():
        setattr(stage, name, value)
    clean(stage, "stage")
    stage.save(update_fields=list(values) or None)
    audit_record(actor=actor, action="update", instance=stage, changes={k: [None, v] for k, v in values.items()})
    return stage


@transaction.atomic
def stage_delete(*, actor: User, stage: Stage) -> None:
    """Delete an unused stage; a stage any deal is or was in is refused (deactivate it instead)."""
    permissions.require_model_perm(actor, Stage, "delete")
    if stage.pk in stages_in_use(pipeline=stage.pipeline):
        raise Conflict(f"The stage {stage.name!r} is in use by deals or their history; deactivate it instead.")
    audit_record(actor=actor, action="delete", instance=stage, changes={})
    stage.delete()


@transaction.atomic
def stages_reorder(*, actor: User, pipeline: Pipeline, stage_ids: Sequence[int]) -> list[Stage]:
    """Put the pipeline's stages in the order of ``stage_ids`` (which must name each exactly once)."""
    permissions.require_model_perm(actor, Stage, "change")
    stages = {s.pk: s for s in Stage.objects.select_for_update().filter(pipeline=pipeline)}
    if sorted(stage_ids) != sorted(stages) or len(set(stage_ids)) != len(stage_ids):
        raise ValidationFailed("Name every stage of the pipeline exactly once.",
                               field_errors={"stage_ids": ["Each stage of this pipeline, once."]})
    # Park them beyond the current range first, then number them 0..n-1, so that the unique
    # (pipeline, position) is never violated mid-way.
    offset = max((s.position for s in stages.values()), default=0) + 1
    for index, pk in enumerate(stage_ids):
        Stage.objects.filter(pk=pk).update(position=offset + index)
    for index, pk in enumerate(stage_ids):
        Stage.objects.filter(pk=pk).update(position=index)
    audit_record(actor=actor, action="update", instance=pipeline, changes={"stage_order": [None, list(stage_ids)]})
    return list(pipeline.stages.order_by("position"))
