"""The tolerance of a target that computes at a reduced precision (OpenVINO bf16, TensorRT fp16).

Such a target cannot match eager float32 to 1e-3, and a fixed wider atol judges models by the scale
of their outputs: 0.05 passed resnet18 at bf16 and refused DeepLabV3, whose error at bf16 is what
PyTorch's own bf16 makes on it. So the yardstick is eager PyTorch at that precision
(`torch.autocast`) on the same inputs: the target may be off by at most MULTIPLIER times what eager
is off at that precision. It is the rule of PyTorch's benchmark accuracy check
(`torch._dynamo.utils.same`: a bf16 or fp16 result within 3x the error of the float32 one).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, Sequence

from converter.errors import PrecisionReferenceError, first_line
from converter.job.validate import Tolerance, run_reference
from converter.tensors.compare import compare_outputs, flatten_outputs
from converter.tensors.inputs import InputCase

MULTIPLIER = 3.0


@dataclass(frozen=True)
class PrecisionReference:
    """What eager PyTorch gives up at the target's precision, and the atol that allows."""

    # The torch dtype eager ran at under torch.autocast: bfloat16, float16.
    dtype: str
    # Eager at `dtype` against eager at float32: the worst absolute error over every case and output.
    eager_max_abs_error: float
    multiplier: float = MULTIPLIER

    @property
    def atol(self) -> float:
        return self.multiplier * self.eager_max_abs_error

    def to_dict(self) -> Dict[str, Any]:
        return {**dataclasses.asdict(self), "atol": self.atol}


def measure(
    call: Callable[[Dict[str, Any]], Any],
    cases: Sequence[InputCase],
    references: Sequence[Any],
    dtype: str,
    device: str,
) -> PrecisionReference:
    """Run eager on every case under torch.autocast at `dtype` and compare with its float32 outputs."""
    import torch

    device_type = torch.device(device).type
    try:
        with torch.autocast(device_type, dtype=getattr(torch, dtype)):
            lowered = run_reference(call, cases).outputs
    except Exception as exc:  # code that mixes dtypes autocast made differ (index_put of a bf16 value)
        raise PrecisionReferenceError(
            f"eager PyTorch at {dtype} (torch.autocast) raised {type(exc).__name__}: {first_line(exc)[:300]}; "
            f"it sets the tolerance of a target computing at {dtype}, which cannot be validated without it"
        ) from exc
    worst = 0.0
    for case, expected, actual in zip(cases, references, lowered, strict=True):
        for (name, want), (_, got) in zip(flatten_outputs(expected), flatten_outputs(actual), strict=False):
            if isinstance(got, torch.Tensor) and isinstance(want, torch.Tensor) and got.is_floating_point():
                got = got.to(want.dtype)  # autocast returns what it computed in: compare the values
            (comparison,) = compare_outputs(want, got, 0.0, 0.0)
            if comparison.problem is not None:  # autocast changes dtypes only: nothing else to measure
                continue
            if not math.isfinite(comparison.max_abs_error):  # an overflow allows no tolerance at all
                raise PrecisionReferenceError(
                    f"eager PyTorch at {dtype} (torch.autocast) gives non-finite values in {name} of case "
                    f"{case.name} where float32 gives finite ones: the model overflows at {dtype}, so a target "
                    "computing at it cannot be validated"
                )
            worst = max(worst, comparison.max_abs_error)
    return PrecisionReference(dtype, worst)


def widened(tolerance: Tolerance, precision_reference: PrecisionReference, option: str) -> Tolerance:
    """`tolerance` with its atol raised to what the precision allows, `option` (the config key and value
    that asked for the precision) named as its source; unchanged when it is already wider."""
    if precision_reference.atol <= tolerance.atol:
        return tolerance
    return dataclasses.replace(tolerance, atol=precision_reference.atol, source={**tolerance.source, "atol": option})
