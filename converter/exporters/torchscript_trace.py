"""torch.jit.trace: records the ops one example runs, so data-dependent branches are frozen.

The trace-vs-script seed shows the danger: `InputConfirm` traced on a positive input
drops its `else` branch silently; validation with other inputs is what catches it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from converter.exporters.base import ExportRequest
from converter.exporters.torchscript import TorchScriptArtifact


@dataclass
class TraceOptions:
    # Re-run the trace on the example and compare: torch's own consistency check.
    check_trace: bool = True
    # torch.jit.freeze: inline parameters as constants for inference.
    freeze: bool = False


class TorchScriptTraceExporter(TorchScriptArtifact):
    name = "torchscript_trace"
    Options = TraceOptions

    def export(self, request: ExportRequest) -> Any:
        import torch

        # `export.strict` maps to trace's own strictness: with strict=False, list and
        # dict outputs are allowed (the Core ML seed's DeepLab returns a dict).
        traced = torch.jit.trace(
            request.module,
            request.example_inputs,
            check_trace=request.options.check_trace,
            strict=request.strict is not False,  # "auto" is torch.export's; trace keeps its default
        )
        return self.finish(traced, request.options.freeze)
