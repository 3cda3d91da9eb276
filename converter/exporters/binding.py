"""Keyword and constant inputs for backends whose artifact takes positional tensors only.

torch.jit.trace records tensor operations on positional tensor arguments: a keyword input
or a bool flag has nowhere to go. The module is wrapped so its forward takes the call's
tensors in declaration order and passes each on as the model declares it (by position or
keyword), with the constants bound; the artifact is later called with those tensors alone
(`TensorsOnly`), so validation and the benchmark still call it the way eager is called.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, List, Mapping, Optional, Tuple

from converter.config.schema import InputConfig
from converter.exporters.base import ExportRequest

if TYPE_CHECKING:
    from converter.records.artifacts import ArtifactInfo


def bound_for_tracing(request: ExportRequest) -> Tuple[Any, tuple]:
    """(module, positional tensors): the request's module as it is when the call is plain."""
    if not request.example_kwargs and not request.constant_inputs:
        return request.module, request.example_inputs
    import torch

    names = list(request.input_names)
    values = dict(zip(names, [*request.example_inputs, *request.example_kwargs.values()], strict=True))
    keywords = set(request.example_kwargs)
    constants = {name: values[name] for name in request.constant_inputs}
    tensor_names = [name for name in names if name not in constants]

    class BoundInputs(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors: Any) -> Any:
            given = {**constants, **dict(zip(tensor_names, tensors, strict=True))}
            args = [given[n] for n in names if n not in keywords]
            return self.model(*args, **{n: given[n] for n in names if n in keywords})

    return BoundInputs(request.module), tuple(values[name] for name in tensor_names)


class TensorsOnly:
    """An artifact taking positional tensors, called the way eager is (constants dropped)."""

    def __init__(self, artifact: Any, specs: Mapping[str, InputConfig]) -> None:
        self.artifact = artifact
        self.specs = specs
        self.names: List[str] = list(specs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        positional = [n for n in self.names if not self.specs[n].keyword]
        given = {**dict(zip(positional, args, strict=False)), **kwargs}
        return self.artifact(*[given[n] for n in self.names if not self.specs[n].constant])


def load_verified(
    exporter: Any, artifact: ArtifactInfo, device: str, threads: Optional[int] = None, specs: Any = None
) -> Any:
    """Load an artifact only after its bytes are checked against the recorded sha256. With the
    model's input specs, an artifact that takes tensors only is wrapped to be called as eager is."""
    from converter.records.artifacts import verify

    verify(Path(artifact.path), artifact.sha256)
    loaded = exporter.load(Path(artifact.path), device, threads)
    if specs is not None and getattr(exporter, "tensors_only", False):
        from converter.tensors.calls import plain_call

        if not plain_call(specs):
            return TensorsOnly(loaded, specs)
    return loaded
