"""converter.exporters.torch_export: strict, non-strict and the `auto` fallback between them, and a
saved program that keeps its dynamic batch."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from converter.config.backend_options import TorchExportOptions
from converter.exporters.base import ExportRequest
from converter.exporters.torch_export import TorchExportExporter


class GraphBreak(torch.nn.Module):
    """Dynamo refuses an explicit graph break; non-strict tracing runs it as the no-op it is in eager."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        torch._dynamo.graph_break()
        return x * 2


def request(module: torch.nn.Module, strict, dynamic=None) -> ExportRequest:
    return ExportRequest(module, (torch.randn(2, 3),), dynamic, strict, TorchExportOptions())


def test_auto_falls_back_to_non_strict_and_says_why() -> None:
    exporter = TorchExportExporter()
    with pytest.raises(Exception, match="graph_break"):
        exporter.export(request(GraphBreak(), True))
    auto = request(GraphBreak(), "auto")
    program = exporter.export(auto)
    assert auto.notes["strict"] is False and "graph_break" in auto.notes["strict_failure"]
    assert torch.equal(program.module()(torch.ones(2, 3)), torch.full((2, 3), 2.0))


def test_a_saved_program_keeps_its_dynamic_batch_and_lists_its_operators(tmp_path: Path) -> None:
    exporter = TorchExportExporter()
    linear = torch.nn.Linear(3, 4).eval()
    batch = torch.export.Dim("batch", min=1, max=16)
    strict = request(linear, True, ({0: batch},))
    program = exporter.export(strict)
    assert strict.notes == {}, "a strict export asked for is no fallback"
    exporter.save(program, tmp_path / "model.pt2")
    loaded = exporter.load(tmp_path / "model.pt2", "cpu")
    x = torch.randn(7, 3)
    torch.testing.assert_close(loaded(x), linear(x))
    assert exporter.operators(program) == ["aten.linear.default"]
    assert "linear" in exporter.graph_code(program)
