"""torch.export's shape complaints, turned into overrides against converter's schema.

torch.export ends a constraint violation with "Suggested fixes:" written as Python
(`batch = Dim('batch', max=8)`, `batch = 2`); a static program refuses another size at run
time ("Guard failed: x.size()[0] == 2", older torch: "Expected input at *args[0].shape[0]
to be equal to 2, but got 4"). Both name a Dim or an input dimension that maps back to
`model.dynamic_shapes.<input>.<index>` in the job's config.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional, Tuple

from converter.config.schema import ModelConfig

_SUGGESTED = re.compile(r"Suggested fixes:\s*\n((?:[ \t]+\S.*\n?)+)")
_DIM_FIX = re.compile(r"^\s*(\w+)\s*=\s*Dim\(\s*['\"](\w+)['\"]\s*(?:,\s*(.*?))?\)\s*$")
_CONSTANT_FIX = re.compile(r"^\s*(\w+)\s*=\s*(-?\d+)\s*$")
_GUARD = re.compile(r"Guard failed: (\w+)\.size\(\)\[(\d+)\] == (\d+)")
_EXPECTED = re.compile(r"Expected input at \*args\[(\d+)\]\.shape\[(\d+)\] to be equal to (\d+)")


def dim_places(model: ModelConfig, name: str) -> List[Tuple[str, int]]:
    """Every (input, index) the Dim `name` is declared on in model.dynamic_shapes."""
    places = []
    for input_name, per_index in model.dynamic_shapes.items():
        for index, dim in per_index.items():
            if dim.name == name:
                places.append((str(input_name), int(index)))
    return places


def suggested_fixes(message: str, model: ModelConfig) -> Tuple[List[str], List[str]]:
    """(overrides, notes) from torch.export's "Suggested fixes" block."""
    block = _SUGGESTED.search(message)
    if not block:
        return [], []
    overrides: List[str] = []
    notes: List[str] = []
    for line in block.group(1).splitlines():
        dim_fix, constant_fix = _DIM_FIX.match(line), _CONSTANT_FIX.match(line)
        if dim_fix:
            bounds = dict(re.findall(r"(min|max)\s*=\s*(-?\d+)", dim_fix.group(3) or ""))
            for input_name, index in dim_places(model, dim_fix.group(2)):
                overrides.append(dim_override(model, input_name, index, **{k: int(v) for k, v in bounds.items()}))
            notes.append(f"the model only takes {dim_fix.group(2)} in {_range_text(bounds)}")
        elif constant_fix:
            fixes, note = _constant_fix(model, constant_fix.group(1), int(constant_fix.group(2)))
            overrides += fixes
            notes.append(note)
    return overrides, notes


def _constant_fix(model: ModelConfig, name: str, value: int) -> Tuple[List[str], str]:
    places = dim_places(model, name)
    if value in (0, 1):
        # torch specializes sizes 0 and 1: an example of that size pins the Dim to it.
        overrides = [_example_size(model, input_name, index, 2) for input_name, index in places]
        return [o for o in overrides if o], (
            f"the Dim '{name}' collapsed to the constant {value}: torch.export specializes sizes 0 and 1, so an "
            f"example of size {value} pins it. Give the example a size of at least 2 (and `min: 2` on the Dim "
            "if the model cannot take a size of 1)"
        )
    return [_drop_dim(model, input_name, index) for input_name, index in places], (
        f"the model's code fixes {name} to {value}: that dimension is not dynamic in this model, so drop the Dim "
        "(or rewrite the line that pins it)"
    )


def dim_override(model: ModelConfig, input_name: str, index: int, **changes: Any) -> str:
    """`model.dynamic_shapes.x={0:{name:batch,min:1,max:8}}`: the whole Dim, since Hydra cannot
    reach an integer key with a dotted path (`model.dynamic_shapes.x.0.max=8` fails to compose)."""
    declared = model.dynamic_shapes.get(input_name, {}).get(index)
    if declared is not None:
        dim = {"name": declared.name, "min": declared.min, "max": declared.max}
    else:
        dim = {"name": "batch" if index == 0 else f"{input_name}_{index}", "min": 1, "max": 64}
    dim.update(changes)
    return f"model.dynamic_shapes.{input_name}={{{index}:{{name:{dim['name']},min:{dim['min']},max:{dim['max']}}}}}"


def _drop_dim(model: ModelConfig, input_name: str, index: int) -> str:
    others = {int(i): d for i, d in model.dynamic_shapes.get(input_name, {}).items() if int(i) != index}
    if not others:
        return f"~model.dynamic_shapes.{input_name}"
    inner = ",".join(f"{i}:{{name:{d.name},min:{d.min},max:{d.max}}}" for i, d in sorted(others.items()))
    return f"model.dynamic_shapes.{input_name}={{{inner}}}"


def _example_size(model: ModelConfig, input_name: str, index: int, size: int) -> Optional[str]:
    spec = model.inputs.get(input_name)
    shape = list(spec.shape or []) if spec is not None else []
    if index >= len(shape):
        return None
    shape[index] = size
    return f"model.inputs.{input_name}.shape=[{','.join(str(s) for s in shape)}]"


def _range_text(bounds: Mapping[str, str]) -> str:
    return f"[{bounds.get('min', '?')}, {bounds.get('max', '?')}]"


def pinned_dimensions(errors: List[str], input_names: List[str]) -> Dict[Tuple[str, int], int]:
    """(input, index) -> the size a static program insists on, from the artifact's run-time errors."""
    pinned: Dict[Tuple[str, int], int] = {}
    for error in errors:
        for name, index, size in _GUARD.findall(error):
            pinned[(name, int(index))] = int(size)
        for position, index, size in _EXPECTED.findall(error):
            if int(position) < len(input_names):
                pinned[(input_names[int(position)], int(index))] = int(size)
    return pinned
