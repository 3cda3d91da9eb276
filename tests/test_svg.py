"""converter/records/svg.py and the benchmark's chart drawn with it (bench.svg)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from converter.benchmark.record import CONTENDER_COLOURS, chart_svg
from converter.records.svg import SVG_NAMESPACE, document, round_ticks, whole_number_ticks

NS = f"{{{SVG_NAMESPACE}}}"


def test_a_count_axis_steps_in_whole_numbers() -> None:
    assert whole_number_ticks(0) == [0, 1]
    assert whole_number_ticks(2) == [0, 1, 2]
    assert whole_number_ticks(6) == [0, 1, 2, 3, 4, 5, 6]
    assert whole_number_ticks(7) == [0, 2, 4, 6, 8]
    assert whole_number_ticks(13) == [0, 3, 6, 9, 12, 15]


def test_a_measurement_axis_steps_by_one_two_or_five_times_a_power_of_ten() -> None:
    assert round_ticks(0.0) == [0.0, 1.0]
    assert round_ticks(6.0) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert round_ticks(7.3) == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert round_ticks(0.034) == [0.0, 0.01, 0.02, 0.03, 0.04]
    assert round_ticks(342.0) == [0.0, 100.0, 200.0, 300.0, 400.0]
    assert round_ticks(50.0) == [0.0, 10.0, 20.0, 30.0, 40.0, 50.0]


def test_a_document_is_a_file_or_an_inline_element() -> None:
    standalone = document(10, 20, ["<g/>"], 'a "label" & more', standalone=True, css_class="c")
    assert ET.fromstring(standalone).get("aria-label") == 'a "label" & more'
    inline = document(10, 20, [], "x", standalone=False, css_class="c")
    assert inline.startswith('<svg class="c" width="10" height="20"') and "xmlns" not in inline


def case(batch: int, eager: tuple, artifact: tuple) -> dict:
    def stats(values: tuple) -> dict:
        return dict(zip(("min", "p50", "p90"), (v / 1000 for v in values), strict=True))

    return {"sizes": {"batch": batch}, "latency_s": {"eager": stats(eager), "artifact": stats(artifact)}}


def test_the_bench_chart_draws_each_p50_in_proportion_with_whiskers_from_min_to_p90() -> None:
    report = {"cases": [case(1, (9, 10, 12), (4, 5, 6)), case(8, (70, 80, 95), (30, 40, 44))]}
    root = ET.fromstring(chart_svg(report, "resnet18/aoti <vs> eager"))
    bars = [r for r in root.iter(f"{NS}rect") if r.get("class") == "bar"]
    assert [(b.get("data-who"), b.get("data-sizes"), b.get("fill")) for b in bars] == [
        ("eager", "batch=1", CONTENDER_COLOURS["eager"]),
        ("artifact", "batch=1", CONTENDER_COLOURS["artifact"]),
        ("eager", "batch=8", CONTENDER_COLOURS["eager"]),
        ("artifact", "batch=8", CONTENDER_COLOURS["artifact"]),
    ]
    heights = [float(b.get("height")) for b in bars]
    assert heights[2] / heights[0] == pytest.approx(8.0, rel=1e-4) and heights[3] / heights[1] == pytest.approx(8.0)
    assert [b.find(f"{NS}title").text for b in bars][:2] == ["eager batch=1: p50 10 ms", "artifact batch=1: p50 5 ms"]
    axis = [t.text for t in root.iter(f"{NS}text") if t.get("text-anchor") == "end"]
    assert axis == ["0", "20", "40", "60", "80", "100"]  # up to the slowest p90, 95 ms
    whisker = next(p for p in root.iter(f"{NS}path") if p.get("data-who") == "eager").get("d")
    low, high = (float(v) for v in re.match(r"M[\d.]+ ([\d.]+)V([\d.]+)M", whisker).groups())
    bottom, pixels_per_ms = 300, (300 - 40) / 100  # the plot area's bottom, on an axis up to 100 ms
    assert (low, high) == pytest.approx((bottom - 9 * pixels_per_ms, bottom - 12 * pixels_per_ms))  # min 9, p90 12
    assert root.find(f"{NS}text").text == "resnet18/aoti <vs> eager"
    assert [t.text for t in root.iter(f"{NS}text") if t.get("class") == "legend"] == ["eager", "artifact"]
