"""The sweep's status chart (report.html and the MLflow parent run), read back as the SVG it is."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from converter.records.svg import SVG_NAMESPACE
from converter.reporting.charts import STATUS_COLOURS, status_chart_svg

NS = f"{{{SVG_NAMESPACE}}}"
RESULTS = [
    {"backend": "torch_export", "status": "ok"},
    {"backend": "torch_export", "status": "crashed"},
    {"backend": "torch_export", "status": "ok"},
    {"backend": "torchscript_trace", "status": "failed"},
]


def bars(svg: str) -> list[dict]:
    return [
        {**rect.attrib, "title": rect.find(f"{NS}title").text}
        for rect in ET.fromstring(svg).iter(f"{NS}rect")
        if rect.get("class") == "bar"
    ]


def test_each_status_is_drawn_in_its_colour_stacked_per_backend_in_proportion() -> None:
    drawn = bars(status_chart_svg(RESULTS))
    assert [(b["data-backend"], b["data-status"], b["fill"]) for b in drawn] == [
        ("torch_export", "ok", STATUS_COLOURS["ok"]),
        ("torch_export", "crashed", STATUS_COLOURS["crashed"]),
        ("torchscript_trace", "failed", STATUS_COLOURS["failed"]),
    ]
    assert STATUS_COLOURS["ok"] == "#2e7d32" and STATUS_COLOURS["failed"] == "#c62828"
    heights = [float(b["height"]) for b in drawn]
    assert heights[0] == pytest.approx(2 * heights[1], abs=0.01)  # 2 ok, 1 crashed
    assert heights[1] == pytest.approx(heights[2], abs=0.01)  # 1 crashed, 1 failed
    ok, crashed = drawn[0], drawn[1]
    assert float(crashed["y"]) + float(crashed["height"]) == pytest.approx(float(ok["y"]), abs=0.01)  # on top of ok
    assert [b["title"] for b in drawn] == [
        "torch_export: 2 ok",
        "torch_export: 1 crashed",
        "torchscript_trace: 1 failed",
    ]


def test_the_count_axis_has_whole_numbers_only() -> None:
    root = ET.fromstring(status_chart_svg(RESULTS))
    labels = [t.text for t in root.iter(f"{NS}text") if t.get("text-anchor") == "end" and t.text.isdigit()]
    assert labels == ["0", "1", "2", "3"]  # torch_export has 3 jobs


def test_the_legend_names_the_statuses_present_in_their_order() -> None:
    root = ET.fromstring(status_chart_svg(RESULTS))
    assert [t.text for t in root.iter(f"{NS}text") if t.get("class") == "legend"] == ["ok", "failed", "crashed"]


def test_a_backend_name_is_escaped_and_an_empty_sweep_draws_no_bar() -> None:
    drawn = bars(status_chart_svg([{"backend": "a<b&c", "status": "oom"}]))
    assert [(b["data-backend"], b["fill"]) for b in drawn] == [("a<b&c", STATUS_COLOURS["oom"])]
    assert bars(status_chart_svg([])) == []


def test_inlined_in_html_it_carries_no_namespace_url() -> None:
    inline = status_chart_svg(RESULTS, standalone=False)
    assert inline.startswith("<svg class=") and "http://" not in inline
    assert status_chart_svg(RESULTS).startswith(f'<svg xmlns="{SVG_NAMESPACE}"')


def test_a_backend_at_a_reduced_precision_is_a_bar_of_its_own() -> None:
    bf16 = {"backend": "openvino", "status": "ok", "config": {"export": {"options": {"precision": "bf16"}}}}
    f32 = {"backend": "openvino", "status": "failed", "config": {"export": {"options": {"precision": "f32"}}}}
    drawn = bars(status_chart_svg([bf16, f32, dict(bf16)]))
    assert [(b["data-backend"], b["title"]) for b in drawn] == [
        ("openvino", "openvino: 1 failed"),
        ("openvino bf16", "openvino bf16: 2 ok"),
    ]
