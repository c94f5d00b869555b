"""Server-rendered SVG charts for the insights pages.

``svg_chart`` (bars or a line of one measure) lives in ``rapport.core.charts`` so that every app may
draw with it; it is re-exported here for the OLAP page. The dashboard charts below are insights' own.
Invariants: every label is XML-escaped (members come from customer data); an empty input renders a
short "no data" SVG.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from rapport.core.charts import svg_chart

__all__ = ["svg_chart", "svg_heat", "svg_hbars", "svg_lines"]


def _num(v: Any) -> float:
    return float(v) if isinstance(v, (int, float, Decimal)) else 0.0


# --- dashboard charts -----------------------------------------------------------------------
# Each has a <title> and <desc> (named by aria-labelledby, so a screen reader announces both) and
# writes only escaped text and numbers; the pages put the same numbers in a table beside it.

PALETTE = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#4a5568", "#b7791f", "#319795")


def _head(width: int, height: int, title: str, desc: str, css: str) -> tuple[str, str]:
    # Ids from the text, not a counter: deterministic, thread-safe, distinct for distinct charts.
    ident = "ch" + hashlib.sha1(f"{title}\0{desc}".encode(), usedforsecurity=False).hexdigest()[:10]
    return (
        # Natural size (so text stays 11-12px), shrunk to fit narrow cards.
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'style="max-width:100%;height:auto" role="img" aria-labelledby="{ident}t {ident}d" class="chart {css}">'
        f'<title id="{ident}t">{escape(title)}</title><desc id="{ident}d">{escape(desc)}</desc>'
    ), ident


def _fmt(v: float) -> str:
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.2f}".rstrip("0").rstrip(".") if v != int(v) else f"{int(v)}"


def svg_hbars(labels: list[Any], values: list[Any], *, title: str, desc: str = "", unit: str = "") -> str:
    """Horizontal bars, one per label, longest scale = largest value; the value printed at the end."""
    if not labels:
        return svg_chart([], [])
    nums = [_num(v) for v in values]
    top = max(max(nums), 0.0) or 1.0
    row, left, width = 24, 190, 720
    height = row * len(nums) + 16
    head, _ = _head(width, height, title, desc, "hbars")
    parts = [head]
    span = width - left - 90
    for i, (label, v) in enumerate(zip(labels, nums, strict=True)):
        y = 8 + i * row
        w = max(span * max(v, 0.0) / top, 0.5)
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" font-size="12">{escape(str(label))[:30]}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="{PALETTE[0]}">'
            f"<title>{escape(str(label))}: {_fmt(v)}{escape(unit)}</title></rect>"
            f'<text x="{left + w + 6:.1f}" y="{y + 15}" font-size="12">{_fmt(v)}{escape(unit)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def svg_lines(
    x: list[float],
    series: list[tuple[str, list[Any]]],
    *,
    title: str,
    desc: str = "",
    x_label: str = "",
    y_label: str = "",
    step: bool = False,
    y_max: float | None = None,
    marker: float | None = None,
    marker_label: str = "",
    xs: list[list[float]] | None = None,
) -> str:
    """Lines (``step``: survival-style steps) of several series over ``x`` (or per-series ``xs``),
    with a legend; ``None`` values break a line; ``marker`` draws a dashed vertical rule at that x."""
    xs = xs or [x] * len(series)
    all_x = [float(v) for col in xs for v in col]
    all_y = [_num(v) for _, ys in series for v in ys if v is not None]
    if not all_x or not all_y:
        return svg_chart([], [])
    w, h, pl, pr, pt, pb = 720, 320, 60, 150, 16, 44
    x0, x1 = min(all_x), max(all_x)
    x1 = x1 if x1 > x0 else x0 + 1
    top = y_max if y_max is not None else (max(all_y) or 1.0)
    head, _ = _head(w, h, title, desc, "lines")
    pw, ph = w - pl - pr, h - pt - pb

    def px(v: float) -> float:
        return pl + pw * (float(v) - x0) / (x1 - x0)

    def py(v: float) -> float:
        return pt + ph * (1 - _num(v) / top)

    parts = [
        head,
        f'<line x1="{pl}" y1="{pt + ph}" x2="{pl + pw}" y2="{pt + ph}" stroke="#888"/>',
        f'<line x1="{pl}" y1="{pt}" x2="{pl}" y2="{pt + ph}" stroke="#888"/>',
        f'<text x="{pl - 6}" y="{pt + 4}" text-anchor="end" font-size="11">{_fmt(top)}</text>',
        f'<text x="{pl - 6}" y="{pt + ph + 4}" text-anchor="end" font-size="11">0</text>',
        f'<text x="{pl}" y="{h - 20}" font-size="11">{_fmt(x0)}</text>',
        f'<text x="{pl + pw}" y="{h - 20}" text-anchor="end" font-size="11">{_fmt(x1)}</text>',
        f'<text x="{pl + pw / 2}" y="{h - 6}" text-anchor="middle" font-size="12">{escape(x_label)}</text>',
        f'<text x="14" y="{pt + ph / 2}" text-anchor="middle" font-size="12" '
        f'transform="rotate(-90 14 {pt + ph / 2})">{escape(y_label)}</text>',
    ]
    for q in (0.25, 0.5, 0.75):  # light guides at quarter heights, labelled on the axis
        parts.append(f'<line x1="{pl}" y1="{py(top * q):.1f}" x2="{pl + pw}" y2="{py(top * q):.1f}" stroke="#e2e6ec"/>'
                     f'<text x="{pl - 6}" y="{py(top * q) + 4:.1f}" text-anchor="end" font-size="11">'
                     f"{_fmt(top * q)}</text>")
    if marker is not None and x0 <= marker <= x1:
        parts.append(
            f'<line x1="{px(marker):.1f}" y1="{pt}" x2="{px(marker):.1f}" y2="{pt + ph}" stroke="#999" '
            f'stroke-dasharray="4 3"/><text x="{px(marker) + 4:.1f}" y="{pt + 12}" font-size="11">'
            f"{escape(marker_label)}</text>"
        )
    for k, ((name, ys), col) in enumerate(zip(series, xs, strict=True)):
        color = PALETTE[k % len(PALETTE)]
        segments: list[list[str]] = [[]]
        prev_y: float | None = None
        for xv, yv in zip(col, ys, strict=True):
            if yv is None:
                segments.append([])
                prev_y = None
                continue
            if step and prev_y is not None:
                segments[-1].append(f"{px(xv):.1f},{py(prev_y):.1f}")
            segments[-1].append(f"{px(xv):.1f},{py(yv):.1f}")
            prev_y = _num(yv)
        for seg in segments:
            if len(seg) == 1:
                cx, cy = seg[0].split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{color}"/>')
            elif seg:
                parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(seg)}"/>')
        ly = pt + 14 + k * 18
        parts.append(
            f'<rect x="{w - pr + 12}" y="{ly - 9}" width="12" height="4" fill="{color}"/>'
            f'<text x="{w - pr + 30}" y="{ly - 4}" font-size="12">{escape(str(name))[:20]}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def svg_heat(row_labels: list[Any], col_labels: list[Any], counts: list[list[Any]], *, title: str, desc: str = "",
             row_title: str = "", col_title: str = "") -> str:
    """A grid of cells shaded by count (darker = more), each with its count printed."""
    if not row_labels or not col_labels:
        return svg_chart([], [])
    cell, left, top_pad = 56, 60, 30
    w, h = left + cell * len(col_labels) + 10, top_pad + cell * len(row_labels) + 34
    top = max((_num(v) for row in counts for v in row), default=0.0) or 1.0
    head, _ = _head(w, h, title, desc, "heat")
    parts = [head, f'<text x="{left + cell * len(col_labels) / 2}" y="14" text-anchor="middle" '
                   f'font-size="12">{escape(col_title)}</text>']
    for j, label in enumerate(col_labels):
        parts.append(f'<text x="{left + cell * j + cell / 2}" y="{top_pad - 4}" text-anchor="middle" '
                     f'font-size="12">{escape(str(label))}</text>')
    for i, label in enumerate(row_labels):
        y = top_pad + cell * i
        parts.append(f'<text x="{left - 8}" y="{y + cell / 2 + 4}" text-anchor="end" font-size="12">'
                     f"{escape(str(label))}</text>")
        for j, v in enumerate(counts[i]):
            share = _num(v) / top
            # From near-white to the accent blue; dark cells get white text so the count stays legible.
            r, g, b = (int(255 - (255 - c) * share) for c in (43, 108, 176))
            parts.append(
                f'<rect x="{left + cell * j}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="rgb({r},{g},{b})"><title>{escape(str(label))} × {escape(str(col_labels[j]))}: '
                f'{_fmt(_num(v))}</title></rect><text x="{left + cell * j + cell / 2 - 1}" y="{y + cell / 2 + 4}" '
                f'text-anchor="middle" font-size="12" fill="{"#fff" if share > 0.55 else "#1d2330"}">'
                f"{_fmt(_num(v))}</text>"
            )
    parts.append(f'<text x="12" y="{top_pad + cell * len(row_labels) / 2}" text-anchor="middle" font-size="12" '
                 f'transform="rotate(-90 12 {top_pad + cell * len(row_labels) / 2})">{escape(row_title)}</text>')
    parts.append("</svg>")
    return "".join(parts)
