"""Pipeline set-up pages: the pipelines (create, rename, activate, make default) and one
pipeline's stages (add, edit, reorder with up/down, delete an unused one).

These pages are for whoever may change pipelines (sales managers and administrators, per
``core.roles``); reps, who only read pipelines to work the board, get the 403 page. Every write
is a ``services_deals`` call; a refusal (e.g. deleting a stage deals were in) is shown as the
service's message and nothing changes.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from rapport.core import permissions
from rapport.core.errors import DomainError, ValidationFailed
from rapport.core.views import domain_view
from rapport.sales import selectors, services_deals
from rapport.sales.choices import ForecastCategory, StageKind
from rapport.sales.models import Pipeline, Stage


def _require_setup(request: HttpRequest) -> None:
    permissions.require_model_perm(request.user, Pipeline, "change")


def _error(request: HttpRequest, exc: DomainError) -> None:
    messages.error(request, exc.detail + "".join(f" {k}: {' '.join(v)}" for k, v in exc.field_errors.items()))


@domain_view
@require_http_methods(["GET", "POST"])
def pipeline_list_view(request: HttpRequest) -> HttpResponse:
    _require_setup(request)
    actor = request.user
    if request.method == "POST":
        post = request.POST
        action = post.get("action", "")
        try:
            if action == "create":
                pipeline = services_deals.pipeline_create(
                    actor=actor, data={"name": post.get("name", "")[:100], "is_default": post.get("is_default") == "on",
                                       "description": post.get("description", "")[:5000]},
                    stages=[{"name": _("New"), "probability": 10}, {"name": _("Won"), "probability": 100, "kind": "won",
                             "forecast_category": "closed"},
                            {"name": _("Lost"), "probability": 0, "kind": "lost", "forecast_category": "omitted"}])
                messages.success(request, _("Pipeline “%(name)s” created.") % {"name": pipeline.name})
                return redirect("pipeline_setup", pipeline.pk)
            pipeline = selectors.pipeline_get(actor=actor, pk=_int(post.get("pipeline_id")))
            data: dict[str, Any] = {}
            if action == "rename":
                data = {"name": post.get("name", "")[:100]}
            elif action in ("activate", "deactivate"):
                data = {"is_active": action == "activate"}
            elif action == "default":
                data = {"is_default": True, "is_active": True}
            else:
                raise ValidationFailed(_("Unknown action."))
            services_deals.pipeline_update(actor=actor, pipeline=pipeline, data=data, expected_version=_version(post))
            messages.success(request, _("Saved."))
            return redirect("pipeline_list")
        except DomainError as exc:
            _error(request, exc)
    rows = selectors.pipeline_list(actor=actor, include_inactive=True).prefetch_related("stages")
    return render(request, "sales/pipeline_list.html", {"pipelines": rows, "post": request.POST})


def _int(raw: Any) -> int:
    raw = str(raw or "")
    return int(raw) if raw.isdigit() and len(raw) < 18 else 0


def _version(post: Any) -> int | None:
    raw = post.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _stage_data(post: Any) -> dict[str, Any]:
    raw = post.get("probability", "").strip()
    try:
        probability = int(raw)
    except ValueError:
        raise ValidationFailed(_("The probability is a whole percentage."),
                               field_errors={"probability": [_("0 to 100.")]}) from None
    return {"name": post.get("name", "")[:100], "probability": probability, "kind": post.get("kind", "open"),
            "forecast_category": post.get("forecast_category", ForecastCategory.PIPELINE)[:10]}


@domain_view
@require_http_methods(["GET", "POST"])
def pipeline_setup_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_setup(request)
    actor = request.user
    pipeline = selectors.pipeline_get(actor=actor, pk=pk)
    if request.method == "POST":
        post = request.POST
        action = post.get("action", "")
        try:
            if action == "add":
                stage = services_deals.stage_create(actor=actor, pipeline=pipeline, data=_stage_data(post))
                messages.success(request, _("Stage “%(name)s” added.") % {"name": stage.name})
            else:
                stage = Stage.objects.filter(pipeline=pipeline, pk=_int(post.get("stage_id"))).first()
                if stage is None:
                    raise ValidationFailed(_("No such stage in this pipeline."))
                if action == "edit":
                    services_deals.stage_update(actor=actor, stage=stage,
                                                data={**_stage_data(post), "is_active": post.get("is_active") == "on"})
                elif action in ("up", "down"):
                    order = list(pipeline.stages.order_by("position").values_list("pk", flat=True))
                    index = order.index(stage.pk)
                    other = index - 1 if action == "up" else index + 1
                    if 0 <= other < len(order):
                        order[index], order[other] = order[other], order[index]
                        services_deals.stages_reorder(actor=actor, pipeline=pipeline, stage_ids=order)
                elif action == "delete":
                    services_deals.stage_delete(actor=actor, stage=stage)
                else:
                    raise ValidationFailed(_("Unknown action."))
                messages.success(request, _("Saved."))
            return redirect("pipeline_setup", pipeline.pk)
        except DomainError as exc:
            _error(request, exc)
    stages = list(pipeline.stages.order_by("position"))
    in_use = selectors.stages_in_use(pipeline=pipeline)
    return render(request, "sales/pipeline_stages.html", {
        "pipeline": pipeline, "stages": [(s, s.pk in in_use) for s in stages], "kinds": StageKind.choices,
        "categories": ForecastCategory.choices, "post": request.POST})

