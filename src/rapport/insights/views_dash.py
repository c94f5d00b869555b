"""The analytical dashboards: overview, RFM, CLV, churn and defection pages under ``/insights/``.

Every page reads its figures from ``selectors_dash`` (permission, cache, row access; the churn
page from ``selectors_churn``, the stored scoring run) and turns them into SVG charts here; the
template shows each chart with a table of the same numbers. The CLV model and the survival
dimension are query parameters (``?model=``, ``?dimension=``), so a view can be bookmarked; the
picker swaps only ``#dash-body`` through htmx. A missing warehouse or a bad parameter renders the
page with the message (409 / 422), never a traceback.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from rapport.core.errors import ValidationFailed
from rapport.core.views import domain_view, htmx_partial
from rapport.insights import selectors_churn, selectors_dash
from rapport.insights.alerts import driver_label
from rapport.insights.charts import svg_hbars, svg_heat, svg_lines
from rapport.insights.warehouse import WarehouseMissing


def _safe(svg: str) -> SafeString:
    # Safe: charts.py escapes every label and writes only numbers otherwise.
    return mark_safe(svg)  # noqa: S308


def _page(request: HttpRequest, name: str, read: Any, charts: Any, tables: Any = None, **extra: Any) -> HttpResponse:
    """Render page ``name``: ``read()`` the figures, ``charts(figures)`` → SVGs, ``tables(figures)`` →
    rows the template cannot build itself (zipped columns)."""
    context: dict[str, Any] = {"page": name, "error": None, **extra}
    status = 200
    try:
        data = read()
    except (ValidationFailed, WarehouseMissing) as exc:
        context["error"], status = exc.detail, exc.status
    else:
        context["d"] = data
        ok = data.get("status", "ok") == "ok"
        context["charts"] = charts(data) if ok else {}
        context["t"] = tables(data) if ok and tables else {}
    body = f"insights/partials/dash_{name}_body.html"
    template = body if htmx_partial(request, "dash-body") else f"insights/dash_{name}.html"
    return render(request, template, {**context, "body_template": body}, status=status)


@domain_view
@require_GET
def overview_page(request: HttpRequest) -> HttpResponse:
    def charts(d: dict[str, Any]) -> dict[str, SafeString]:
        out = {
            "segments": _safe(svg_hbars([s["segment"] for s in d["segments"]], [s["customers"] for s in d["segments"]],
                                        title=_("Customers per RFM segment"),
                                        desc=_("Number of customers in each RFM segment."))),
        }
        if d.get("churn_risk"):
            risk = d["churn_risk"]
            out["risk"] = _safe(svg_hbars(risk["bins"], risk["counts"], title=_("Churn risk distribution"),
                                          desc=_("Customers per band of predicted churn probability.")))
        return out

    return _page(request, "overview", lambda: selectors_dash.dash_overview(actor=request.user), charts)


@domain_view
@require_GET
def rfm_page(request: HttpRequest) -> HttpResponse:
    def charts(d: dict[str, Any]) -> dict[str, SafeString]:
        seg = d["segments"]
        return {
            "segments": _safe(svg_hbars([s["segment"] for s in seg], [s["customers"] for s in seg],
                                        title=_("Customers per RFM segment"),
                                        desc=_("Number of customers in each segment; the table below has the "
                                               "revenue share and average recency, frequency and monetary value."))),
            "revenue": _safe(svg_hbars([s["segment"] for s in seg], [100 * (s["revenue_share"] or 0) for s in seg],
                                       title=_("Revenue share per RFM segment"), unit="%",
                                       desc=_("Share of all revenue bought by each segment."))),
            "grid": _safe(svg_heat(d["grid"]["rows"], d["grid"]["columns"], d["grid"]["counts"],
                                   title=_("Recency × frequency"), row_title=_("R score"),
                                   col_title=_("F score"),
                                   desc=_("Customers per recency score (rows, 5 = most recent) and frequency "
                                          "score (columns, 5 = most frequent)."))),
            "pyramid": _safe(svg_hbars([t["tier"] for t in d["pyramid"]], [t["customers"] for t in d["pyramid"]],
                                       title=_("Customer pyramid"),
                                       desc=_("Customers per value tier, platinum at the top."))),
        }

    return _page(request, "rfm", lambda: selectors_dash.dash_rfm(actor=request.user), charts)


@domain_view
@require_GET
def clv_page(request: HttpRequest) -> HttpResponse:
    model = request.GET.get("model", "bgnbd")

    def charts(d: dict[str, Any]) -> dict[str, SafeString]:
        out = {
            "deciles": _safe(svg_hbars([f"{_('decile')} {r['decile']}" for r in d["deciles"]],
                                       [r["mean"] for r in d["deciles"]], title=_("Mean CLV per decile"),
                                       desc=_("Customers ranked by CLV in ten equal groups, highest first."))),
        }
        cal, track = d["calibration"], d["tracking"]
        if cal.get("status") == "ok":
            rows = cal["rows"]
            out["calibration"] = _safe(svg_lines(
                list(range(len(rows))), [(_("actual"), [r["actual"] for r in rows]),
                                         (_("model"), [r["predicted"] for r in rows])],
                title=_("Holdout purchases by calibration purchases"),
                desc=_("Mean purchases in the holdout period, actual and predicted, for customers grouped by "
                       "their number of repeat purchases in the calibration period (0 to 7+)."),
                x_label=_("repeat purchases in calibration (0 … 7+)"), y_label=_("holdout purchases")))
        if track.get("status") == "ok":
            out["tracking"] = _safe(svg_lines(
                track["weeks"], [(_("actual"), track["actual"]), (_("model"), track["expected"])],
                title=_("Cumulative repeat purchases"),
                desc=_("Repeat purchases summed week by week, actual and expected by the model fitted on the "
                       "calibration period; the dashed line is the end of calibration."),
                x_label=_("week"), y_label=_("repeat purchases"), marker=track["calibration_week"],
                marker_label=_("calibration end")))
        return out

    def tables(d: dict[str, Any]) -> dict[str, Any]:
        def params(fit: dict[str, Any]) -> list[tuple[str, Any, Any]]:
            return [(k, v, fit["standard_errors"].get(k)) for k, v in fit["params"].items()]

        track = d["tracking"]
        rows = list(zip(track["weeks"], track["actual"], track["expected"], strict=True)) if track.get("weeks") else []
        return {"fit": params(d["fit"]), "spend": params(d["spend"]), "tracking": rows}

    return _page(request, "clv", lambda: selectors_dash.dash_clv(actor=request.user, model=model), charts, tables,
                 model=model, models=selectors_dash.CLV_MODELS)


@domain_view
@require_GET
def churn_page(request: HttpRequest) -> HttpResponse:
    def charts(d: dict[str, Any]) -> dict[str, SafeString]:
        # Each chart only where the run stored its figures (no lift without a trained model, etc.).
        out: dict[str, SafeString] = {}
        lift = d.get("lift") or []
        if lift:
            out["lift"] = _safe(svg_hbars([f"{_('decile')} {r['decile']}" for r in lift], [r["lift"] for r in lift],
                                          title=_("Lift by decile of predicted risk"),
                                          desc=_("Churn rate in each decile over the base rate; decile 1 is the "
                                                 "riskiest tenth.")))
            out["calibration"] = _safe(svg_lines(
                [r["decile"] for r in lift], [(_("predicted"), [r["mean_predicted"] for r in lift]),
                                              (_("observed"), [r["observed_rate"] for r in lift])],
                title=_("Calibration"), y_max=1.0, x_label=_("decile of predicted risk"),
                y_label=_("churn rate"),
                desc=_("Mean predicted churn probability against the observed churn rate per decile.")))
        if d.get("drivers"):
            out["drivers"] = _safe(svg_hbars([driver_label(r["feature"]) for r in d["drivers"]],
                                             [r["raises"] + r["lowers"] for r in d["drivers"]],
                                             title=_("Churn drivers"),
                                             desc=_("How many customers have each feature among their three "
                                                    "strongest churn drivers.")))
        if d["risk"]["scored"]:
            out["risk"] = _safe(svg_hbars(d["risk"]["bins"], d["risk"]["counts"], title=_("Churn risk distribution"),
                                          desc=_("Customers per band of stored churn probability.")))
        return out

    return _page(request, "churn", lambda: selectors_churn.dash_churn(actor=request.user), charts)


@domain_view
@require_GET
def defection_page(request: HttpRequest) -> HttpResponse:
    dimension = request.GET.get("dimension", "region")

    def charts(d: dict[str, Any]) -> dict[str, SafeString]:
        out: dict[str, SafeString] = {}
        if d["reasons"].get("status") == "ok":
            rows = d["reasons"]["rows"]
            out["reasons"] = _safe(svg_hbars([f"{r['reason']} ({r['source']})" for r in rows],
                                             [r["count"] for r in rows], title=_("Reasons for leaving"),
                                             desc=_("Lost-deal reasons and cancellations, by count.")))
        if d["cohorts"].get("status") == "ok":
            co = d["cohorts"]
            out["cohorts"] = _safe(svg_lines(
                co["periods"], [(r["cohort"], r["retention"]) for r in co["rows"]], title=_("Cohort retention"),
                y_max=1.0, x_label=_("months since first purchase"), y_label=_("share buying"),
                desc=_("For each first-purchase month, the share of its customers who bought in each later month.")))
        if d["survival"].get("status") == "ok":
            groups = d["survival"]["groups"]
            out["survival"] = _safe(svg_lines(
                [], [(g["group"], g["survival"]) for g in groups], xs=[g["time"] for g in groups], step=True,
                y_max=1.0, title=_("Kaplan–Meier survival by %(dimension)s") % {"dimension": d["dimension"]},
                x_label=_("days since first purchase"), y_label=_("share still buying"),
                desc=_("Estimated share of customers who have not defected, by days since their first purchase.")))
        return out

    return _page(request, "defection",
                 lambda: selectors_dash.dash_defection(actor=request.user, dimension=dimension), charts,
                 dimension=dimension, dimensions=selectors_dash.KM_DIMENSIONS)
