"""Server-side SVG line charts of one standard's figure over the periods, with its thresholds.

Plain SVG with presentation attributes (no inline style, so the strict CSP holds), a <title> and
<desc> for screen readers, point labels so the chart reads without colour, and dashed threshold
lines labelled "met" and "partly met". It prints as crisply as it shows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from server.assessment.ratings import COLOURS, TITLES, number, percent

WIDTH, HEIGHT = 640, 230
LEFT, RIGHT, TOP, BOTTOM = 52, 104, 18, 44
FILL = {"green": "#1b7a3d", "amber": "#b35c00", "red": "#b3261e"}
MARK = {"met": "●", "partly_met": "◆", "not_met": "✕"}


@dataclass(frozen=True)
class Point:
    label: str  # the period's short label, e.g. "Q3 26"
    value: float | None
    rating: str | None  # None: the period could not be judged


def _axis(value: float) -> tuple[float, float]:
    """(top, step): round tick steps (1, 2 or 5 times a power of ten), 2-5 of them to the top."""
    if value <= 0:
        return 1.0, 0.25
    rough = value / 4
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    return math.ceil(value / step - 1e-9) * step, step


def line_chart(
    title: str,
    points: list[Point],
    met: float | None,
    partly: float | None,
    share: bool = False,
    higher_is_better: bool = True,
    chart_id: str = "chart",
) -> Markup:
    """An accessible SVG chart; thresholds may be None when they changed across periods."""
    show = percent if share else number
    values = [p.value for p in points if p.value is not None]
    top, tick_step = (1.0, 0.25) if share else _axis(max(values + [met or 0, partly or 0, 1]) * 1.05)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    inset = 16  # keeps the first and last points' labels clear of the axes
    step = (plot_w - 2 * inset) / max(len(points) - 1, 1)

    def x(i: int) -> float:
        return LEFT + inset + (i * step if len(points) > 1 else plot_w / 2 - inset)

    def y(v: float) -> float:
        return TOP + plot_h - (min(v, top) / top) * plot_h

    better = "higher is better" if higher_is_better else "lower is better"
    summary = "; ".join(
        f"{p.label}: {show(p.value) if p.value is not None else 'none'}"
        f"{', ' + TITLES[p.rating].lower() if p.rating else ''}" for p in points
    )
    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)} ({better})</title>',
        f'<desc id="{chart_id}-d">{escape(summary)}</desc>',
    ]
    for tick in range(round(top / tick_step) + 1):  # gridlines and y labels
        value = tick * tick_step
        ty = y(value)
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" '
                   'stroke="#d0d4da" stroke-width="1"/>')
        out.append(f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" font-size="12" '
                   f'fill="#333">{escape(show(value))}</text>')
    label_at: list[float] = []
    for limit, name, colour in ((met, "met", FILL["green"]), (partly, "partly", FILL["amber"])):
        if limit is None:
            continue
        ly = y(limit)
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ly:.1f}" y2="{ly:.1f}" '
                   f'stroke="{colour}" stroke-width="2" stroke-dasharray="6 4"/>')
        text_y = ly + 4
        if label_at and abs(text_y - label_at[0]) < 13:  # two close thresholds: part the labels
            text_y = label_at[0] + (13 if text_y >= label_at[0] else -13)
        label_at.append(text_y)
        out.append(f'<text x="{WIDTH - RIGHT + 6}" y="{text_y:.1f}" font-size="12" '
                   f'fill="{colour}">{name} {escape(show(limit))}</text>')
    segment: list[str] = []
    paths = []
    for i, p in enumerate(points):
        if p.value is None:
            if segment:
                paths.append(segment)
            segment = []
            continue
        segment.append(f"{x(i):.1f},{y(p.value):.1f}")
    if segment:
        paths.append(segment)
    for path in paths:
        if len(path) > 1:
            out.append(f'<polyline points="{" ".join(path)}" fill="none" stroke="#1d3557" '
                       'stroke-width="2"/>')
    for i, p in enumerate(points):
        px = x(i)
        out.append(f'<text x="{px:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" '
                   f'font-size="11" fill="#333">{escape(p.label)}</text>')
        if p.value is None:
            out.append(f'<text x="{px:.1f}" y="{TOP + plot_h - 4:.1f}" text-anchor="middle" '
                       'font-size="11" fill="#555">none</text>')
            continue
        colour = FILL[COLOURS[p.rating]] if p.rating else "#555"
        py = y(p.value)
        out.append(f'<text x="{px:.1f}" y="{py + 5:.1f}" text-anchor="middle" font-size="15" '
                   f'fill="{colour}">{MARK.get(p.rating or "", "●")}</text>')
        out.append(f'<text x="{px:.1f}" y="{py - 9:.1f}" text-anchor="middle" font-size="11" '
                   f'fill="#222">{escape(show(p.value))}</text>')
    out.append(f'<text x="{LEFT}" y="{HEIGHT - 6}" font-size="11" fill="#555">'
               f'● met  ◆ partly met  ✕ not met · {better}</text>')
    out.append("</svg>")
    return Markup("".join(out))
