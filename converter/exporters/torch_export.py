"""torch.export to a `.pt2` ExportedProgram (strict Dynamo or non-strict tracing)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from converter.exporters.base import ExportRequest


@dataclass
class TorchExportOptions:
    # Lower to the core ATen opset, as edge runtimes and AOTInductor expect.
    run_decompositions: bool = False
    # Export in no-grad mode, as inference runs. With grad on, a model that switches grad
    # mode inside (SAM 2's @torch.no_grad position encodings) gets wrap_with_set_grad_enabled
    # nodes, and torch 2.14 cannot reload the saved non-strict program (SpecViolationError).
    no_grad: bool = True


class TorchExportExporter:
    name = "torch_export"
    suffix = ".pt2"
    Options = TorchExportOptions

    def export(self, request: ExportRequest) -> Any:
        from contextlib import nullcontext

        import torch

        with torch.no_grad() if request.options.no_grad else nullcontext():
            program = torch.export.export(
                request.module,
                args=request.example_inputs,
                dynamic_shapes=request.dynamic_shapes,
                strict=request.strict,
            )
        if request.options.run_decompositions:
            program = program.run_decompositions()
        return program

    def save(self, artifact: Any, path: Path) -> None:
        import torch

        torch.export.save(artifact, str(path))

    def load(self, path: Path, device: str) -> Callable[..., Any]:
        import torch

        return torch.export.load(str(path)).module()

    def graph_code(self, artifact: Any) -> str:
        return artifact.graph_module.code

    def operators(self, artifact: Any) -> list[str]:
        return sorted({str(node.target) for node in artifact.graph.nodes if node.op == "call_function"})
