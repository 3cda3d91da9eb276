"""torch.jit.trace: records the ops one example runs, so data-dependent branches are frozen.

The danger (registry/toys.py's `InputConfirm`): traced on a positive input it drops its
`else` branch silently; validation with other inputs is what catches it.
"""

from __future__ import annotations

from typing import Any

from converter.config.backend_options import TraceOptions
from converter.exporters.base import ExportRequest
from converter.exporters.torchscript import TorchScriptArtifact


class TorchScriptTraceExporter(TorchScriptArtifact):
    name = "torchscript_trace"
    Options = TraceOptions

    # A trace takes tensors only, positionally: keyword and constant inputs are bound into a
    # wrapper (converter.exporters.binding), and the artifact is called with the tensors alone.
    tensors_only = True

    def export(self, request: ExportRequest) -> Any:
        import torch

        from converter.exporters.binding import bound_for_tracing
        from converter.exporters.portable_trace import device_portable_tracing

        module, example = bound_for_tracing(request)
        # `export.strict` maps to trace's own strictness: with strict=False, list and
        # dict outputs are allowed (torchvision's deeplabv3_* returns {'out': ...}).
        with device_portable_tracing():
            traced = torch.jit.trace(
                module,
                example,
                check_trace=request.options.check_trace,
                strict=request.strict is not False,  # "auto" is torch.export's; trace keeps its default
            )
        return self.finish(traced, request.options.freeze)
