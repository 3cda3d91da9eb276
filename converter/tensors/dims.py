"""Dynamic dimensions: checked from the config alone, then mapped to `torch.export.Dim`.

Why this exists: torchvision's `mvit_v1_b` exported at batch 2 refuses batch 4 ("RuntimeError:
Expected input at *args[0].shape[0] to be equal to 2, but got 4" in pytorch/tutorials' torch_export_challenges_solutions.rst;
torch 2.14 says "Guard failed: x.size()[0] == 2") unless the batch dimension is declared
dynamic with a range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from converter.config.schema import DimConfig, InputConfig
from converter.errors import ConfigError

# input name -> dimension index -> Dim, as model.dynamic_shapes declares it.
DynamicShapes = Mapping[str, Mapping[int, DimConfig]]


@dataclass(frozen=True)
class DimRange:
    name: str
    min: int
    max: int

    def points(self) -> Tuple[int, ...]:
        """The sizes validation tries: both ends and the middle."""
        return tuple(sorted({self.min, (self.min + self.max) // 2, self.max}))


def collect_dims(dynamic_shapes: DynamicShapes, inputs: Mapping[str, InputConfig]) -> Dict[str, DimRange]:
    """Check every declared Dim against the inputs and return one range per Dim name."""
    dims: Dict[str, DimRange] = {}
    for input_name, per_index in dynamic_shapes.items():
        key = f"model.dynamic_shapes.{input_name}"
        if input_name not in inputs:
            raise ConfigError(
                key,
                f"'{input_name}' is not one of the model's inputs {sorted(inputs)}",
                "name an input declared under model.inputs, or remove the entry",
            )
        shape = inputs[input_name].shape
        for index, dim in per_index.items():
            dim_key = f"{key}.{index}"
            found = DimRange(str(dim.name), int(dim.min), int(dim.max))
            if found.min < 0 or found.min > found.max:
                raise ConfigError(
                    dim_key,
                    f"Dim '{found.name}' has min={found.min} > max={found.max} or a negative min",
                    "set 0 <= min <= max",
                )
            if shape is not None:
                if not -len(shape) <= index < len(shape):
                    raise ConfigError(
                        dim_key,
                        f"input '{input_name}' has {len(shape)} dimensions, so index {index} does not exist",
                        f"use an index from 0 to {len(shape) - 1}",
                    )
                size = shape[index]
                if not found.min <= size <= found.max:
                    raise ConfigError(
                        dim_key,
                        f"the example size {size} lies outside Dim '{found.name}' [{found.min}, {found.max}]",
                        "widen the range or change the example shape so it lies inside",
                    )
            known = dims.get(found.name)
            if known is not None and known != found:
                raise ConfigError(
                    dim_key,
                    f"Dim '{found.name}' is declared twice with different ranges "
                    f"[{known.min}, {known.max}] and [{found.min}, {found.max}]",
                    "a shared Dim needs one range: give both the same min and max, or different names",
                )
            dims[found.name] = found
    return dims


def example_sizes(dynamic_shapes: DynamicShapes, inputs: Mapping[str, InputConfig]) -> Dict[str, int]:
    """The size each Dim takes in the example inputs (inputs built by a factory have none)."""
    sizes: Dict[str, int] = {}
    for input_name, per_index in dynamic_shapes.items():
        shape = inputs[input_name].shape
        if shape is None:
            continue
        for index, dim in per_index.items():
            sizes.setdefault(str(dim.name), int(shape[index]))
    return sizes


def validation_sizes(dims: Mapping[str, DimRange]) -> List[Dict[str, int]]:
    """Min, middle and max of every Dim at once: three shape cases however many Dims."""
    if not dims:
        return []
    cases = []
    for position in range(3):
        case = {}
        for dim in dims.values():
            points = dim.points()
            case[dim.name] = points[min(position, len(points) - 1)]
        if case not in cases:
            cases.append(case)
    return cases


def to_torch_dynamic_shapes(
    input_names: Sequence[str], dynamic_shapes: DynamicShapes, dims: Mapping[str, DimRange]
) -> Optional[Tuple[Optional[Dict[int, Any]], ...]]:
    """Positional `dynamic_shapes` for `torch.export.export`; one Dim object per name."""
    if not dynamic_shapes:
        return None
    from torch.export import Dim

    torch_dims = {d.name: Dim(d.name, min=d.min, max=d.max) for d in dims.values()}
    spec = []
    for name in input_names:
        per_index = dynamic_shapes.get(name)
        spec.append({int(i): torch_dims[str(d.name)] for i, d in per_index.items()} if per_index else None)
    return tuple(spec)


def sizes_label(sizes: Mapping[str, Any]) -> str:
    """'batch=2,points=3' (or 'example' with no Dims): how a case's sizes are named everywhere."""
    return ",".join(f"{k}={v}" for k, v in sizes.items()) or "example"
