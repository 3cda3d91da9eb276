"""The one interface every export target implements, one module per target."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Dict, Optional, Protocol, Tuple


@dataclass(frozen=True)
class ExportRequest:
    """Everything a target needs, already built: no config parsing inside exporters."""

    module: Any
    # The example call: positional inputs, then the keyword ones (model.inputs.X.keyword).
    example_inputs: Tuple[Any, ...]
    # Positional, one entry per input: {dim index: torch.export.Dim} or None; by parameter name
    # (a dict) when the call has keyword inputs.
    dynamic_shapes: Any
    # True, False, or "auto" (torch.export: strict, then non-strict; others: as True).
    strict: Any
    options: Any = None
    example_kwargs: Dict[str, Any] = field(default_factory=dict)
    # Inputs that are constants (bool, int, str, None): tracing backends bind them into the module.
    constant_inputs: Tuple[str, ...] = ()
    # Submodules a scripting backend traces first (model.traced_submodules); others ignore it.
    traced_submodules: Tuple[str, ...] = ()
    # The inputs' names in order (ONNX and Core ML name their graph inputs after them).
    input_names: Tuple[str, ...] = ()
    # What the exporter found out while exporting (the strict mode that worked), for result.json.
    notes: Dict[str, Any] = field(default_factory=dict)


class Exporter(Protocol):
    """What every target implements. Hooks the pipeline calls where a target defines them:
    `suffix_for(options)` (an artifact name that depends on the options), `runtime_unavailable()`
    (why this machine cannot run the artifact: Core ML off macOS) and `reduced_precision(options)`
    (the torch dtype it computes at below float32, which sets validation's tolerance)."""

    name: ClassVar[str]
    suffix: ClassVar[str]
    # A dataclass: `export.options` is merged onto it, so option typos fail early.
    Options: ClassVar[type]

    def export(self, request: ExportRequest) -> Any:
        """The in-memory artifact (ExportedProgram, ScriptModule, ...)."""

    def save(self, artifact: Any, path: Path) -> None: ...

    def load(self, path: Path, device: str, threads: Optional[int] = None) -> Callable[..., Any]:
        """A callable taking the inputs positionally, as the eager module does. `threads`:
        benchmark.threads, for runtimes that fix their thread count when they load (ONNX Runtime)."""

    def graph_code(self, artifact: Any) -> str:
        """Readable code of the exported graph, for review."""

    def operators(self, artifact: Any) -> list[str]:
        """The distinct operators the exported graph calls, sorted: what a runtime must support."""

    def facts(self, artifact: Any) -> Dict[str, Any]:
        """converter.exporters.graph_facts: operator histogram, non-core ATen and custom operators, run-time
        asserts, symbolic dims kept, parameter count and bytes."""
