"""torch.jit.script: compiles the Python source, control flow included."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from converter.exporters.base import ExportRequest
from converter.exporters.torchscript import TorchScriptArtifact


@dataclass
class ScriptOptions:
    # torch.jit.freeze: inline parameters as constants for inference.
    freeze: bool = False


@contextmanager
def fresh_type_cache() -> Iterator[None]:
    """Compile without TorchScript's process-wide cache of module types.

    The cache is keyed by Python class, not by source: a second job in the same process
    scripting the same class under other patches would silently get the first job's
    compiled methods, or "Can't redefine method" after a failed attempt.
    """
    from torch.jit import _recursive

    saved = _recursive.concrete_type_store
    _recursive.concrete_type_store = _recursive.ConcreteTypeStore()
    try:
        yield
    finally:
        _recursive.concrete_type_store = saved


class TorchScriptScriptExporter(TorchScriptArtifact):
    name = "torchscript_script"
    Options = ScriptOptions

    def export(self, request: ExportRequest) -> Any:
        import torch

        # A module that is already a ScriptModule (a hybrid trace-inside-script build) passes through.
        if isinstance(request.module, torch.jit.ScriptModule):
            scripted = request.module
        else:
            with fresh_type_cache():
                scripted = torch.jit.script(request.module)
        return self.finish(scripted, request.options.freeze)
