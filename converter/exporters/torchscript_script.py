"""torch.jit.script: compiles the Python source, control flow included."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from converter.exporters.base import ExportRequest
from converter.exporters.torchscript import TorchScriptArtifact


@dataclass
class ScriptOptions:
    # torch.jit.freeze: inline parameters as constants for inference.
    freeze: bool = False


class TorchScriptScriptExporter(TorchScriptArtifact):
    name = "torchscript_script"
    Options = ScriptOptions

    def export(self, request: ExportRequest) -> Any:
        import torch

        # A module that is already a ScriptModule (a hybrid trace-inside-script build) passes through.
        scripted = request.module if isinstance(request.module, torch.jit.ScriptModule) else torch.jit.script(request.module)
        return self.finish(scripted, request.options.freeze)
