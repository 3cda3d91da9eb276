"""What TorchScript trace and script share: saving, loading, freezing.

TorchScript is deprecated in torch 2.14 (a FutureWarning) but still what C++ and DJL
deployments load, so it stays a first-class target.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional


class TorchScriptArtifact:
    suffix = ".pt"

    def save(self, artifact: Any, path: Path) -> None:
        import torch

        torch.jit.save(artifact, str(path))

    def load(self, path: Path, device: str, threads: Optional[int] = None) -> Callable[..., Any]:
        import torch

        return torch.jit.load(str(path), map_location=device)

    def graph_code(self, artifact: Any) -> str:
        return artifact.code

    def operators(self, artifact: Any) -> list[str]:
        """Node kinds of the graph with submodule calls inlined (aten::..., prim::...)."""
        return sorted({node.kind() for node in artifact.inlined_graph.nodes()})

    def facts(self, artifact: Any) -> dict:
        from converter.exporters.graph_facts import torchscript_facts

        return torchscript_facts(artifact)

    @staticmethod
    def finish(scripted: Any, freeze: bool) -> Any:
        import torch

        return torch.jit.freeze(scripted.eval()) if freeze else scripted
