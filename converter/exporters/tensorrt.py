"""TensorRT through Torch-TensorRT (`.ep`): the torch.export program compiled into TensorRT engines.

NVIDIA GPUs only: `device=cuda` is required (a config error otherwise, before any job runs).
`torch_tensorrt.dynamo.compile` takes the ExportedProgram (same strict/auto handling as
export=torch_export); it reads each Dim's range from the program's symbolic shapes (the example
inputs give the shape it optimizes for). `precision` picks fp32 or fp16 kernels. The compiled
module is saved as an ExportedProgram (its symbolic shapes kept) and reloaded with torch.export.

Never run yet: no GPU machine this project was lent could install TensorRT.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Optional

from converter.config.backend_options import TENSORRT_PRECISIONS, TensorRTOptions
from converter.exporters.base import ExportRequest
from converter.exporters.torch_export import TorchExportExporter, TorchExportOptions


@dataclass
class TensorRTArtifact:
    program: Any  # the ExportedProgram that was compiled
    compiled: Any  # torch_tensorrt's GraphModule
    inputs: tuple
    kwarg_inputs: Dict[str, Any]


class TensorRTExporter:
    name = "tensorrt"
    suffix = ".ep"
    Options = TensorRTOptions
    requires = ("torch_tensorrt",)
    needs_cuda = True

    def export(self, request: ExportRequest) -> TensorRTArtifact:
        import torch
        import torch_tensorrt

        program = TorchExportExporter().export(
            dataclasses.replace(request, options=TorchExportOptions(draft_report=False))
        )
        precision = torch.float16 if request.options.precision == "fp16" else torch.float32
        settings: Dict[str, Any] = {"enabled_precisions": {precision}}
        if request.options.workspace_mb:
            settings["workspace_size"] = request.options.workspace_mb * 2**20
        if request.example_kwargs:
            settings["kwarg_inputs"] = dict(request.example_kwargs)
        compiled = torch_tensorrt.dynamo.compile(program, arg_inputs=list(request.example_inputs), **settings)
        request.notes["precision"] = request.options.precision
        return TensorRTArtifact(program, compiled, tuple(request.example_inputs), dict(request.example_kwargs))

    def save(self, artifact: TensorRTArtifact, path: Path) -> None:
        import torch_tensorrt

        torch_tensorrt.save(
            artifact.compiled,
            str(path),
            output_format="exported_program",
            arg_inputs=list(artifact.inputs),
            kwarg_inputs=artifact.kwarg_inputs or None,
        )

    def load(self, path: Path, device: str, threads: Optional[int] = None) -> Callable[..., Any]:
        import torch
        import torch_tensorrt  # noqa: F401 (registers TensorRT's ops before the program loads)

        return torch.export.load(str(path)).module()

    def graph_code(self, artifact: TensorRTArtifact) -> str:
        return artifact.compiled.code if hasattr(artifact.compiled, "code") else artifact.program.graph_module.code

    def operators(self, artifact: TensorRTArtifact) -> list[str]:
        return TorchExportExporter().operators(artifact.program)

    def facts(self, artifact: TensorRTArtifact) -> Dict[str, Any]:
        from converter.exporters.graph_facts import exported_program_facts

        return exported_program_facts(artifact.program)

    @staticmethod
    def reduced_precision(options: Any) -> Optional[str]:
        """The torch dtype its kernels may compute at, when below float32 (validation's yardstick)."""
        return TENSORRT_PRECISIONS[options.precision]
