"""converter.exporters.torchscript, torchscript_trace and torchscript_script: a trace freezes the
branch its example took, a script keeps it, a hybrid traces the named submodules inside a script,
and every artifact saves and loads."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from converter.config.backend_options import ScriptOptions, TraceOptions
from converter.exporters.base import ExportRequest
from converter.exporters.torchscript_script import TorchScriptScriptExporter
from converter.exporters.torchscript_trace import TorchScriptTraceExporter


class Confirm(torch.nn.Module):
    """Doubles a positive input, negates the rest: a data-dependent branch."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = torch.nn.Linear(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if bool(x.sum() > 0):
            return x * 2
        return -x


POSITIVE, NEGATIVE = torch.ones(1, 2), -torch.ones(1, 2)


def request(module: torch.nn.Module, options, traced=()) -> ExportRequest:
    return ExportRequest(module.eval(), (POSITIVE,), None, True, options, traced_submodules=traced)


def test_a_trace_freezes_the_branch_its_example_took(tmp_path: Path) -> None:
    exporter = TorchScriptTraceExporter()
    with pytest.warns(torch.jit.TracerWarning):
        traced = exporter.export(request(Confirm(), TraceOptions(check_trace=False)))
    exporter.save(traced, tmp_path / "model.pt")
    loaded = exporter.load(tmp_path / "model.pt", "cpu")
    assert torch.equal(loaded(POSITIVE), POSITIVE * 2)
    assert torch.equal(loaded(NEGATIVE), NEGATIVE * 2), "the else branch is gone: what validation must catch"
    assert "aten::mul" in exporter.operators(traced) and "prim::If" not in exporter.operators(traced)


def test_a_script_keeps_the_branch_and_a_frozen_one_inlines_its_weights(tmp_path: Path) -> None:
    exporter = TorchScriptScriptExporter()
    scripted = exporter.export(request(Confirm(), ScriptOptions(freeze=True)))
    exporter.save(scripted, tmp_path / "model.pt")
    loaded = exporter.load(tmp_path / "model.pt", "cpu")
    assert torch.equal(loaded(NEGATIVE), -NEGATIVE)
    assert "prim::If" in exporter.operators(scripted) and "if" in exporter.graph_code(scripted)
    assert not list(scripted.parameters()), "frozen: parameters became constants"


class Outer(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inner = Confirm()
        self.unused = Confirm()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for _ in range(2):
            x = self.inner(x)
        return x


def test_a_hybrid_traces_the_named_submodule_and_scripts_the_loop_around_it() -> None:
    exporter = TorchScriptScriptExporter()
    with pytest.warns(torch.jit.TracerWarning):
        hybrid = exporter.export(request(Outer(), ScriptOptions(), traced=("inner",)))
    assert torch.equal(hybrid(POSITIVE), POSITIVE * 4), "the scripted loop runs the traced submodule twice"
    assert torch.equal(hybrid(NEGATIVE), NEGATIVE * 4), "traced: the branch taken on the example, frozen"
    with pytest.raises(ValueError, match=r"model.traced_submodules \['unused'\] never ran on the example inputs"):
        exporter.export(request(Outer(), ScriptOptions(), traced=("unused",)))
