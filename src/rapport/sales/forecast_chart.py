"""Geometry of the statistical forecast chart, drawn as inline SVG by ``sales/forecast.html``:
the won history as a line, the forecast mean as a dashed line and its interval as a band.

Pure arithmetic on the ``StatisticalForecast`` (no Django, no database), so the page needs no
JavaScript chart library and the picture is exactly the numbers in the table under it.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapport.sales.forecasting import StatisticalForecast

WIDTH, HEIGHT, PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 720, 240, 56, 12, 12, 28


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    history: str  # polyline points
    mean: str  # polyline points, from the last actual month on
    band: str  # polygon points: upper edge left to right, lower edge right to left
    y_ticks: list[tuple[float, str]]  # (y, label)
    x_ticks: list[tuple[float, str]]  # (x, label)
    baseline: float


def _label(value: float) -> str:
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if abs(value) >= 1_000:
        return f"{value / 1_000:.0f}k"
    return f"{value:.0f}"


def chart_of(result: StatisticalForecast) -> Chart:
    history = [float(v) for v in result.won]
    months = [*result.months, *result.ahead]
    top = max([*history, *result.upper, 1.0])
    bottom = min([*history, *result.lower, 0.0])
    span = (top - bottom) or 1.0
    inner_w, inner_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    step = inner_w / max(len(months) - 1, 1)

    def x(index: int) -> float:
        return round(PAD_LEFT + index * step, 1)

    def y(value: float) -> float:
        return round(PAD_TOP + (top - value) / span * inner_h, 1)

    def points(pairs: list[tuple[int, float]]) -> str:
        return " ".join(f"{x(i)},{y(v)}" for i, v in pairs)

    n = len(history)
    last = [(n - 1, history[-1])] if history else []
    mean = last + [(n + i, v) for i, v in enumerate(result.mean)]
    upper = last + [(n + i, v) for i, v in enumerate(result.upper)]
    lower = last + [(n + i, v) for i, v in enumerate(result.lower)]
    ticks = [bottom + span * k / 4 for k in range(5)]
    every = max(len(months) // 8, 1)
    return Chart(
        width=WIDTH, height=HEIGHT, history=points(list(enumerate(history))), mean=points(mean),
        band=points(upper + lower[::-1]), y_ticks=[(y(t), _label(t)) for t in ticks],
        x_ticks=[(x(i), m.strftime("%Y-%m")) for i, m in enumerate(months) if i % every == 0],
        baseline=y(max(bottom, 0.0)),
    )
