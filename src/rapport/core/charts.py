"""Server-rendered SVG charts (no JavaScript, no CDN): a bar or line chart of one series
(the OLAP page, the sales metrics trends) and a horizontal funnel (stage conversion).

Invariants: every label is XML-escaped (members come from customer data); the SVG has a fixed
viewBox so the page scales it; an empty result renders a short "no data" SVG.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

W, H, PAD_L, PAD_B, PAD_T = 720, 300, 70, 60, 20


def _num(v: Any) -> float:
    return float(v) if isinstance(v, (int, float, Decimal)) else 0.0


def _no_data() -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} 40" role="img">'
        '<text x="10" y="25">No data</text></svg>'
    )


def svg_chart(labels: list[Any], values: list[Any], *, kind: str = "bar", title: str = "") -> str:
    if not labels:
        return _no_data()
    nums = [_num(v) for v in values]
    top = max(max(nums), 0.0) or 1.0
    low = min(min(nums), 0.0)
    span = top - low or 1.0
    plot_w, plot_h = W - PAD_L - 10, H - PAD_B - PAD_T
    step = plot_w / len(nums)

    def y(v: float) -> float:
        return PAD_T + plot_h * (top - v) / span

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" '
        f'aria-label="{escape(title, {chr(34): "&quot;"})}" class="olap-chart">',
        f'<line x1="{PAD_L}" y1="{y(0):.1f}" x2="{W - 10}" y2="{y(0):.1f}" stroke="#888"/>',
        f'<text x="{PAD_L - 6}" y="{PAD_T + 4}" text-anchor="end" font-size="11">{top:,.0f}</text>',
        f'<text x="{PAD_L - 6}" y="{y(0) + 4:.1f}" text-anchor="end" font-size="11">0</text>',
    ]
    if kind == "line":
        points = " ".join(f"{PAD_L + step * (i + 0.5):.1f},{y(v):.1f}" for i, v in enumerate(nums))
        parts.append(f'<polyline fill="none" stroke="#2b6cb0" stroke-width="2" points="{points}"/>')
        for i, v in enumerate(nums):  # a dot per point, with its value on hover
            parts.append(
                f'<circle cx="{PAD_L + step * (i + 0.5):.1f}" cy="{y(v):.1f}" r="3" fill="#2b6cb0">'
                f"<title>{escape(str(labels[i]))}: {v:,.2f}</title></circle>"
            )
    else:
        for i, v in enumerate(nums):
            y0, y1 = sorted((y(0), y(v)))
            parts.append(
                f'<rect x="{PAD_L + step * i + step * 0.1:.1f}" y="{y0:.1f}" width="{step * 0.8:.1f}" '
                f'height="{max(y1 - y0, 0.5):.1f}" fill="#2b6cb0">'
                f"<title>{escape(str(labels[i]))}: {v:,.2f}</title></rect>"
            )
    every = max(1, len(labels) // 20)  # at most ~20 axis labels
    for i, label in enumerate(labels):
        if i % every == 0:
            x = PAD_L + step * (i + 0.5)
            parts.append(
                f'<text x="{x:.1f}" y="{H - PAD_B + 14}" font-size="11" text-anchor="end" '
                f'transform="rotate(-35 {x:.1f} {H - PAD_B + 14})">{escape(str(label))[:24]}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def svg_funnel(labels: list[Any], counts: list[int], ratios: list[float | None], *, title: str = "") -> str:
    """One horizontal bar per step, as wide as its count relative to the first step, with the count
    and the share that went on to the next step (``ratios[i]``, None for the last) beside it."""
    if not labels:
        return _no_data()
    row_h, label_w, width = 28, 230, W
    height = row_h * len(labels) + 10
    top = max(max(counts), 1)
    bar_w = width - label_w - 160
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title, {chr(34): "&quot;"})}" class="funnel-chart">'
    ]
    for i, (label, count, ratio) in enumerate(zip(labels, counts, ratios, strict=True)):
        y = 5 + i * row_h
        w = max(bar_w * count / top, 1.0)
        share = "" if ratio is None else f" → {ratio:.0%}"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 18}" text-anchor="end" font-size="12">{escape(str(label))[:34]}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" fill="#2b6cb0">'
            f"<title>{escape(str(label))}: {count:,}{escape(share)}</title></rect>"
            f'<text x="{label_w + w + 6:.1f}" y="{y + 18}" font-size="12">{count:,}{escape(share)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
