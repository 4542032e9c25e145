"""Server-side SVG line charts of one standard's figure over the periods, with its thresholds.

Plain SVG with presentation attributes (no inline style, so the strict CSP holds), a <title> and
<desc> for screen readers, point labels so the chart reads without colour, and dashed threshold
lines labelled "met" and "partly met". It prints as crisply as it shows.

Periods before the team's first record are a grey band labelled "no records yet" (their "not
met, 0" would read as a failure the team could not have avoided), and a period still running is
hatched and labelled "so far", its line dashed: it is not a finished period's figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from server.assessment.ratings import COLOURS, TITLES, number, percent

WIDTH, HEIGHT = 640, 244
LEFT, RIGHT, TOP, BOTTOM = 52, 104, 18, 58
FILL = {"green": "#1b7a3d", "amber": "#b35c00", "red": "#b3261e"}
MARK = {"met": "●", "partly_met": "◆", "not_met": "✕"}


@dataclass(frozen=True)
class Point:
    label: str  # the period's short label, e.g. "Q3 26"
    value: float | None
    rating: str | None  # None: the period could not be judged
    before_first: bool = False  # the period ended before the team's first record
    partial: bool = False  # the period is still running: its figure is "so far"


def _axis(value: float) -> tuple[float, float]:
    """(top, step): round tick steps (1, 2 or 5 times a power of ten), 2-5 of them to the top."""
    if value <= 0:
        return 1.0, 0.25
    rough = value / 4
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    return math.ceil(value / step - 1e-9) * step, step


@dataclass(frozen=True)
class _Frame:
    """Where values and periods land on the plot."""

    count: int  # points along the x axis
    top: float  # the value at the top of the y axis
    inset: float = 16  # keeps the first and last points' labels clear of the axes

    @property
    def plot_h(self) -> float:
        return HEIGHT - TOP - BOTTOM

    def x(self, i: int) -> float:
        plot_w = WIDTH - LEFT - RIGHT
        if self.count <= 1:
            return LEFT + plot_w / 2
        return LEFT + self.inset + i * (plot_w - 2 * self.inset) / (self.count - 1)

    def y(self, v: float) -> float:
        return TOP + self.plot_h - (min(v, self.top) / self.top) * self.plot_h

    def slot(self, first: int, last: int) -> tuple[float, float]:
        """The x span of periods first..last, to halfway to their neighbours (or the axes)."""
        half = (self.x(1) - self.x(0)) / 2 if self.count > 1 else (WIDTH - LEFT - RIGHT) / 2
        left = LEFT if first == 0 else self.x(first) - half
        right = WIDTH - RIGHT if last == self.count - 1 else self.x(last) + half
        return left, right


def _said(p: Point, show) -> str:
    """A period in words, for the chart's description."""
    if p.before_first:
        return f"{p.label}: no records yet"
    words = f"{p.label}: {show(p.value) if p.value is not None else 'none'}"
    if p.rating:
        words += f", {TITLES[p.rating].lower()}"
    return words + (" (so far: still running)" if p.partial else "")


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
    points = [Point(p.label, None, None, True, p.partial) if p.before_first else p for p in points]
    values = [p.value for p in points if p.value is not None]
    top, tick_step = (
        (1.0, 0.25) if share else _axis(max(values + [met or 0, partly or 0, 1]) * 1.05)
    )
    frame = _Frame(len(points), top)
    better = "higher is better" if higher_is_better else "lower is better"
    summary = "; ".join(_said(p, show) for p in points)
    limits = [frame.y(v) for v in (met, partly) if v is not None]
    running = " · hatched: still running" if any(p.partial for p in points) else ""
    bands, band_label = _bands(frame, points, chart_id)
    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)} ({better})</title>',
        f'<desc id="{chart_id}-d">{escape(summary)}</desc>',
        *bands,
        *_gridlines(frame, tick_step, show),
        *_thresholds(frame, met, partly, show),
        *band_label,
        *_lines(frame, points),
        *_marks(frame, points, show, limits),
        f'<text x="{LEFT}" y="{HEIGHT - 6}" font-size="11" fill="#555">'
        f"● met  ◆ partly met  ✕ not met · {better}{running}</text>",
        "</svg>",
    ]
    return Markup("".join(out))


def _bands(frame: _Frame, points: list[Point], chart_id: str) -> tuple[list[str], list[str]]:
    """Grey "no records yet" over the periods before the first record; hatching over a period
    still running (an SVG pattern: presentation attributes only, so the CSP holds). Returns
    (what goes under the lines, the band's label that goes over them)."""
    out: list[str] = []
    label: list[str] = []
    bottom = TOP + frame.plot_h
    before = [i for i, p in enumerate(points) if p.before_first]
    if before:
        left, right = frame.slot(before[0], before[-1])
        mid_x, mid_y = (left + right) / 2, TOP + frame.plot_h / 2
        out.append(
            f'<rect class="no-records" x="{left:.1f}" y="{TOP}" width="{right - left:.1f}" '
            f'height="{frame.plot_h:.1f}" fill="#eef0f3"/>'
        )
        # On a light box of its own, drawn over the threshold lines that cross the band.
        turn = "" if right - left >= 90 else f' transform="rotate(-90 {mid_x:.1f} {mid_y:.1f})"'
        label.append(
            f'<g{turn}><rect x="{mid_x - 44:.1f}" y="{mid_y - 9:.1f}" width="88" height="18" '
            f'rx="3" fill="#eef0f3"/><text x="{mid_x:.1f}" y="{mid_y + 4:.1f}" '
            'text-anchor="middle" font-size="12" fill="#333">no records yet</text></g>'
        )
    for i, p in enumerate(points):
        if not p.partial:
            continue
        left, right = frame.slot(i, i)
        out.append(
            f'<defs><pattern id="{chart_id}-hatch" width="8" height="8" '
            'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
            '<line x1="0" y1="0" x2="0" y2="8" stroke="#c9ced6" stroke-width="3"/>'
            "</pattern></defs>"
        )
        out.append(
            f'<rect class="so-far" x="{left:.1f}" y="{TOP}" width="{right - left:.1f}" '
            f'height="{bottom - TOP:.1f}" fill="url(#{chart_id}-hatch)"/>'
        )
    return out, label


def _gridlines(frame: _Frame, tick_step: float, show) -> list[str]:
    out = []
    for tick in range(round(frame.top / tick_step) + 1):
        value = tick * tick_step
        ty = frame.y(value)
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" '
            'stroke="#d0d4da" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" font-size="12" '
            f'fill="#333">{escape(show(value))}</text>'
        )
    return out


def _thresholds(frame: _Frame, met: float | None, partly: float | None, show) -> list[str]:
    out: list[str] = []
    label_at: list[float] = []
    for limit, name, colour in ((met, "met", FILL["green"]), (partly, "partly", FILL["amber"])):
        if limit is None:
            continue
        ly = frame.y(limit)
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ly:.1f}" y2="{ly:.1f}" '
            f'stroke="{colour}" stroke-width="2" stroke-dasharray="6 4"/>'
        )
        text_y = ly + 4
        if label_at and abs(text_y - label_at[0]) < 13:  # two close thresholds: part the labels
            text_y = label_at[0] + (13 if text_y >= label_at[0] else -13)
        label_at.append(text_y)
        out.append(
            f'<text x="{WIDTH - RIGHT + 6}" y="{text_y:.1f}" font-size="12" '
            f'fill="{colour}">{name} {escape(show(limit))}</text>'
        )
    return out


def _lines(frame: _Frame, points: list[Point]) -> list[str]:
    """A polyline per run of periods that have a figure: a gap where one has none. The step into
    a period still running is dashed."""
    runs: list[list[str]] = [[]]
    out: list[str] = []
    for i, p in enumerate(points):
        if p.value is None:
            runs.append([])
            continue
        here = f"{frame.x(i):.1f},{frame.y(p.value):.1f}"
        if p.partial and runs[-1]:
            x1, y1 = runs[-1][-1].split(",")
            out.append(
                f'<line class="so-far" x1="{x1}" y1="{y1}" x2="{frame.x(i):.1f}" '
                f'y2="{frame.y(p.value):.1f}" stroke="#1d3557" stroke-width="2" '
                'stroke-dasharray="3 3"/>'
            )
            runs.append([])
        runs[-1].append(here)
    return [
        f'<polyline points="{" ".join(run)}" fill="none" stroke="#1d3557" stroke-width="2"/>'
        for run in runs
        if len(run) > 1
    ] + out


def _label_y(py: float, limits: list[float]) -> float:
    """A value label's baseline: above its mark, and lifted clear of any threshold line it
    would sit on (a "0" on a low "partly" line was unreadable)."""
    y = py - 9
    for _ in range(len(limits) + 1):
        hit = [ly for ly in limits if y - 11 <= ly <= y + 3]
        if not hit:
            break
        y = min(hit) - 4
    return max(y, 10)


def _marks(frame: _Frame, points: list[Point], show, limits: list[float]) -> list[str]:
    out = []
    for i, p in enumerate(points):
        px = frame.x(i)
        out.append(
            f'<text x="{px:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" '
            f'font-size="11" fill="#333">{escape(p.label)}</text>'
        )
        if p.partial:
            out.append(
                f'<text x="{px:.1f}" y="{HEIGHT - BOTTOM + 31}" text-anchor="middle" '
                'font-size="11" font-style="italic" fill="#333">so far</text>'
            )
        if p.before_first:
            continue
        if p.value is None:
            out.append(
                f'<text x="{px:.1f}" y="{TOP + frame.plot_h - 4:.1f}" text-anchor="middle" '
                'font-size="11" fill="#555">none</text>'
            )
            continue
        colour = FILL[COLOURS[p.rating]] if p.rating else "#555"
        py = frame.y(p.value)
        out.append(
            f'<text x="{px:.1f}" y="{py + 5:.1f}" text-anchor="middle" font-size="15" '
            f'fill="{colour}">{MARK.get(p.rating or "", "●")}</text>'
        )
        out.append(
            f'<text x="{px:.1f}" y="{_label_y(py, limits):.1f}" text-anchor="middle" '
            f'font-size="11" fill="#222">{escape(show(p.value))}</text>'
        )
    return out
