"""torch.export to a `.pt2` ExportedProgram (strict Dynamo or non-strict tracing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

from converter.config.backend_options import TorchExportOptions
from converter.exporters.base import ExportRequest


def _one_line(exc: BaseException) -> str:
    from converter.errors import one_line

    return one_line(exc)[:500]


class TorchExportExporter:
    name = "torch_export"
    suffix = ".pt2"
    Options = TorchExportOptions

    def export(self, request: ExportRequest) -> Any:
        """`strict="auto"`: strict (Dynamo) first; where Dynamo fails, non-strict, with the
        mode that worked and why strict did not in `request.notes`."""
        if request.strict != "auto":
            program = self._export(request, bool(request.strict))
        else:
            try:
                program = self._export(request, True)
                request.notes.update(strict=True)
            except Exception as exc:  # noqa: BLE001 (any Dynamo failure: non-strict may still work)
                import torch

                torch._dynamo.reset()
                request.notes.update(strict=False, strict_failure=_one_line(exc))
                program = self._export(request, False)
        if request.options.run_decompositions:
            program = program.run_decompositions()
        return program

    def _export(self, request: ExportRequest, strict: bool) -> Any:
        from contextlib import nullcontext

        import torch

        with torch.no_grad() if request.options.no_grad else nullcontext():
            return torch.export.export(
                request.module,
                args=request.example_inputs,
                kwargs=request.example_kwargs or None,
                dynamic_shapes=request.dynamic_shapes,
                strict=strict,
            )

    def save(self, artifact: Any, path: Path) -> None:
        import torch

        torch.export.save(artifact, str(path))

    def load(self, path: Path, device: str, threads: Optional[int] = None) -> Callable[..., Any]:
        import torch

        return torch.export.load(str(path)).module()

    def graph_code(self, artifact: Any) -> str:
        return artifact.graph_module.code

    def operators(self, artifact: Any) -> list[str]:
        return sorted({str(node.target) for node in artifact.graph.nodes if node.op == "call_function"})

    def facts(self, artifact: Any) -> dict:
        from converter.exporters.graph_facts import exported_program_facts

        return exported_program_facts(artifact)
