"""The SVG charts: accessible, labelled without colour, and CSP-safe."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from server.console.charts import Point, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def chart(points, **kwargs):
    return ET.fromstring(str(line_chart("Alerts sent", points, 6, 3, chart_id="c1", **kwargs)))


def test_chart_is_titled_described_and_labelled():
    points = [Point("Q1 26", 2, "not_met"), Point("Q2 26", None, None), Point("Q3 26", 7, "met")]
    svg = chart(points)
    assert svg.get("role") == "img" and svg.get("aria-labelledby") == "c1-t c1-d"
    assert svg.find(f"{SVG}title").text == "Alerts sent (higher is better)"
    assert svg.find(f"{SVG}desc").text == "Q1 26: 2, not met; Q2 26: none; Q3 26: 7, met"
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    for label in ("Q1 26", "Q2 26", "Q3 26", "met 6", "partly 3", "none", "2", "7", "✕", "●"):
        assert label in texts, label
    # The missing period breaks the line: two one-point segments, so no polyline is drawn.
    assert svg.find(f"{SVG}polyline") is None
    assert len([line for line in svg.iter(f"{SVG}line") if line.get("stroke-dasharray")]) == 2


def test_axis_is_round_and_shares_are_percentages():
    svg = chart([Point("a", 45, "met"), Point("b", 61, "met")])
    ticks = [t.text for t in svg.iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert ticks == ["0", "20", "40", "60", "80"]
    share = ET.fromstring(
        str(line_chart("Share", [Point("a", 0.5, "partly_met")], 0.8, 0.5, share=True))
    )
    assert [t.text for t in share.iter(f"{SVG}text") if t.get("text-anchor") == "end"] == [
        "0%",
        "25%",
        "50%",
        "75%",
        "100%",
    ]


def test_no_inline_style_and_text_is_escaped():
    markup = str(line_chart("<b>&", [Point("<x>", 1, "met"), Point("y", 2, "met")], 1, 0))
    assert "style=" not in markup and "<b>" not in markup and "&lt;x&gt;" in markup
    assert re.search(r'<polyline points="[\d. ,]+"', markup)


def test_periods_before_the_first_record_read_no_records_yet():
    points = [
        Point("Q1 26", 0, "not_met", before_first=True),
        Point("Q2 26", 0, "not_met", before_first=True),
        Point("Q3 26", 7, "met"),
    ]
    svg = chart(points)
    assert (
        svg.find(f"{SVG}desc").text == "Q1 26: no records yet; Q2 26: no records yet; Q3 26: 7, met"
    )
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert texts.count("no records yet") == 1  # one label over the band
    assert "0" not in texts[texts.index("Q1 26") :]  # no "not met, 0" points plotted
    assert texts.count("✕") == 0
    assert [r.get("class") for r in svg.iter(f"{SVG}rect")].count("no-records") == 1


def test_the_running_period_is_hatched_and_labelled_so_far():
    points = [Point("Q2 26", 4, "partly_met"), Point("Q3 26", 2, "not_met", partial=True)]
    svg = ET.fromstring(str(line_chart("Alerts sent", points, 6, 3, chart_id="c9")))
    assert svg.find(f"{SVG}desc").text.endswith("Q3 26: 2, not met (so far: still running)")
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "so far" in texts and any("hatched: still running" in (t or "") for t in texts)
    [pattern] = svg.iter(f"{SVG}pattern")
    assert pattern.get("id") == "c9-hatch"
    hatched = [r for r in svg.iter(f"{SVG}rect") if r.get("class") == "so-far"]
    assert hatched and hatched[0].get("fill") == "url(#c9-hatch)"
    dashed = [line for line in svg.iter(f"{SVG}line") if line.get("class") == "so-far"]
    assert len(dashed) == 1 and dashed[0].get("stroke-dasharray")
    # A finished period draws neither.
    assert "so far" not in [t.text for t in chart([Point("a", 1, "met")]).iter(f"{SVG}text")]


def test_value_labels_clear_the_threshold_lines():
    """A "0" drawn 9 px above its point sat on a low "partly 3" line (the meetings chart)."""
    svg = ET.fromstring(
        str(line_chart("Meetings", [Point("a", 0, "not_met"), Point("b", 25, "met")], 6, 3))
    )
    lines = [
        float(line.get("y1")) for line in svg.iter(f"{SVG}line") if line.get("stroke-dasharray")
    ]
    [zero] = [
        t for t in svg.iter(f"{SVG}text") if t.text == "0" and t.get("text-anchor") == "middle"
    ]
    baseline = float(zero.get("y"))
    for y in lines:  # the label's box runs from about 11 px above its baseline to 3 below
        assert not baseline - 11 <= y <= baseline + 3, (baseline, y)
