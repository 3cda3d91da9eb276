"""Example and validation inputs, built from each input's shape, dtype and value range.

Every tensor comes from a `torch.Generator` seeded per case, so a run is reproducible
and the cases do not depend on what the model's initialisation drew from the global RNG.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Dict, List, Mapping, Optional

from converter.config.schema import InputConfig, ModelConfig, ValidateConfig
from converter.errors import ConfigError
from converter.tensors.dims import DimRange, DynamicShapes, collect_dims, example_sizes, sizes_label, validation_sizes

FILLS = ("low", "high")


@dataclass(frozen=True)
class InputCase:
    """One set of named inputs that validation feeds to eager and to the artifact."""

    name: str
    inputs: Dict[str, Any]


def torch_dtype(name: str, key: str) -> Any:
    import torch

    dtype = getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype):
        raise ConfigError(key, f"'{name}' is not a torch dtype", "use e.g. float32, float16, int64 or bool")
    return dtype


def _shape_at(shape: List[int], per_index: Mapping[int, Any], sizes: Mapping[str, int]) -> List[int]:
    shape = list(shape)
    for index, dim in per_index.items():
        if dim.name in sizes:
            shape[int(index)] = sizes[dim.name]
    return shape


def make_tensor(spec: InputConfig, shape: List[int], generator: Any, fill: Optional[str], key: str) -> Any:
    import torch

    dtype = torch_dtype(spec.dtype, f"{key}.dtype")
    low, high = spec.low, spec.high
    integer = not (dtype == torch.bool or dtype.is_floating_point or dtype.is_complex)
    if fill is not None:
        # Integer ranges are [low, high) as torch.randint's: the top edge is high - 1.
        value = low if fill == "low" else (int(high) - 1 if integer else high)
        return torch.full(shape, value, dtype=dtype)
    if dtype == torch.bool:
        return torch.randint(0, 2, shape, generator=generator).bool()
    if not integer:
        return torch.rand(shape, generator=generator, dtype=torch.float32).mul_(high - low).add_(low).to(dtype)
    # [low, high) as torch.randint and numpy draw: `high: 1000` for a vocabulary of 1000 token ids.
    return torch.randint(int(low), int(high), shape, generator=generator, dtype=dtype)


def is_integer_dtype(name: str) -> bool:
    """An integer dtype's name (int64, uint8...), whose range is [low, high); bool is not one."""
    return name.startswith(("int", "uint", "long", "short")) or name == "byte"


@dataclass(frozen=True)
class InputPlan:
    """A job's inputs, worked out once from `model.inputs` and `model.dynamic_shapes`: the specs,
    each Dim's checked range and the size it takes in the example. Every stage that builds
    inputs (the example, validation cases, benchmark sizes, the exporter's Dims) asks this."""

    specs: Mapping[str, InputConfig]
    dynamic: DynamicShapes
    dims: Mapping[str, DimRange]
    example_sizes: Mapping[str, int]

    @classmethod
    def of(cls, model: ModelConfig) -> InputPlan:
        dynamic = model.dynamic_shapes or {}
        return cls(model.inputs, dynamic, collect_dims(dynamic, model.inputs), example_sizes(dynamic, model.inputs))

    def bound_to(self, module: Any) -> InputPlan:
        """The plan with each input passed as the module's forward names it (calls.bind_by_name)."""
        from converter.tensors.calls import bound_to_module

        return replace(self, specs=bound_to_module(module, self.specs))

    def narrowed(self, supported: Mapping[str, Mapping[str, int]]) -> InputPlan:
        """The plan with each Dim cut to the range a target supports (ExecuTorch's XNNPACK bounds)."""
        dims = {
            name: replace(
                dim, min=max(dim.min, int(supported[name]["min"])), max=min(dim.max, int(supported[name]["max"]))
            )
            if name in supported
            else dim
            for name, dim in self.dims.items()
        }
        return replace(self, dims=dims)

    def make(self, sizes: Mapping[str, int], seed: int, device: str, fill: Optional[str] = None) -> Dict[str, Any]:
        """All inputs at the given Dim sizes, in declaration order."""
        import torch
        from hydra.utils import instantiate

        generator = torch.Generator().manual_seed(seed)
        values: Dict[str, Any] = {}
        for name, spec in self.specs.items():
            key = f"model.inputs.{name}"
            if spec.constant:
                values[name] = spec.value
                continue
            if spec.factory:
                values[name] = instantiate(spec.factory, dims=dict(sizes), generator=generator, device=device)
                continue
            if spec.shape is None:
                raise ConfigError(
                    key,
                    f"input '{name}' has neither a shape nor a factory",
                    "give shape: [...] or factory: {_target_: ...}",
                )
            shape = _shape_at(spec.shape, self.dynamic.get(name, {}), sizes)
            if spec.count is not None:
                values[name] = [make_tensor(spec, shape, generator, fill, key).to(device) for _ in range(spec.count)]
            else:
                values[name] = make_tensor(spec, shape, generator, fill, key).to(device)
        return values

    def example_case(self, seed: int, device: str) -> InputCase:
        """The inputs the export traces with."""
        return InputCase("example", self.make(self.example_sizes, seed, device))

    def validation_cases(self, validate: ValidateConfig, seed: int, device: str) -> List[InputCase]:
        """The example, each Dim's min/middle/max, fresh random draws, and the value-range edges."""
        example = dict(self.example_sizes)
        cases = [self.example_case(seed, device)]
        for number, sizes in enumerate(validation_sizes(self.dims), start=1):
            label = sizes_label(sizes)
            cases.append(InputCase(f"dims[{label}]", self.make({**example, **sizes}, seed + 1000 + number, device)))
        for number in range(validate.num_random_inputs):
            cases.append(InputCase(f"random[{number}]", self.make(example, seed + 2000 + number, device)))
        if validate.edge_values:
            for fill in FILLS:
                cases.append(InputCase(f"edge[{fill}]", self.make(example, seed, device, fill=fill)))
        return cases
