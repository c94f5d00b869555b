"""The dashboard as JSON (the API) and as CSV (one row per rep, then the total).

Values keep their type's meaning: money as decimal strings in the company currency, ratios as
fractions (0.5 = 50 %), days and per-lead numbers as floats, unknown as null / an empty cell.
Names in the CSV go through ``parties.export.escape_cell`` so a spreadsheet never runs them.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from rapport.core.models import User
from rapport.parties.export import escape_cell
from rapport.sales.metrics import DEFINITIONS, TREND, Dashboard
from rapport.sales.metrics_scope import Period


def _value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01")))
    if isinstance(value, float):
        return round(value, 4)
    return value


def _period(p: Period) -> dict[str, Any]:
    return {"kind": p.kind, "start": p.start.isoformat(), "end": p.end.isoformat(), "label": p.label}


def _name(user: User) -> str:
    return user.get_full_name() or user.username


def dashboard_json(board: Dashboard) -> dict[str, Any]:
    return {
        "period": _period(board.period),
        "previous_period": _period(board.previous),
        "scope": {"rep": board.scope.owner_id, "team": board.scope.team_id},
        "currency": board.currency,
        "figures": [
            {"key": key, "label": label, "definition": text, "kind": kind, "value": _value(board.total.get(key)),
             "previous": None if key in ("open_deals", "open_leads", "prospective_customers")
             else _value(board.before.get(key)),
             "change": _value(board.change(key))}
            for key, (label, text, kind) in DEFINITIONS.items()
        ],
        "reps": [{"rep_id": user.pk, "name": _name(user), "team_id": user.team_id,
                  "figures": {key: _value(row.get(key)) for key in DEFINITIONS}} for user, row in board.reps],
        "pipeline_id": board.pipeline.pk if board.pipeline else None,
        "stage_conversion": [{"stage_id": s.stage_id, "name": s.name, "position": s.position, "reached": s.reached,
                              "advanced": s.advanced, "ratio": _value(s.ratio)} for s in board.stages],
        "trend": [{"period": _period(point.period), **{k: _value(point.values.get(k)) for k in TREND}}
                  for point in board.trend],
    }


def dashboard_csv(board: Dashboard) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    keys = list(DEFINITIONS)
    writer.writerow(["period_start", "period_end", "rep_id", "rep", "team_id", *keys])
    head = [board.period.start.isoformat(), board.period.end.isoformat()]
    for user, row in board.reps:
        writer.writerow([*head, user.pk, escape_cell(_name(user)), user.team_id or "",
                         *(_cell(row.get(k)) for k in keys)])
    if board.unassigned is not None:
        writer.writerow([*head, "", "(no owner)", "", *(_cell(board.unassigned.get(k)) for k in keys)])
    writer.writerow([*head, "", "Total", board.scope.team_id or "", *(_cell(board.total.get(k)) for k in keys)])
    return out.getvalue()


def _cell(value: Any) -> str:
    value = _value(value)
    return "" if value is None else str(value)
