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


class TorchExportExporter:
    name = "torch_export"
    suffix = ".pt2"
    Options = TorchExportOptions

    def export(self, request: ExportRequest) -> Any:
        import torch

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
