"""Flatten nested model outputs and compare them leaf by leaf against eager PyTorch."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, List, Optional, Tuple


@dataclass(frozen=True)
class OutputComparison:
    """How far one output leaf of the artifact is from eager.

    `max_rel_error` is taken over elements whose reference magnitude is at least `atol`:
    relative error of values near zero says nothing. `passed` follows `torch.allclose`:
    |actual - expected| <= atol + rtol * |expected| everywhere, NaNs equal to NaNs.
    """

    name: str
    max_abs_error: float
    max_rel_error: float
    passed: bool
    problem: Optional[str] = None


def flatten_outputs(value: Any, prefix: str = "output") -> List[Tuple[str, Any]]:
    """(name, leaf) pairs of tensors, tuples, lists, dicts and namedtuples, in order."""
    if isinstance(value, dict):
        leaves: List[Tuple[str, Any]] = []
        for key, item in value.items():
            leaves += flatten_outputs(item, f"{prefix}[{key!r}]")
        return leaves
    if isinstance(value, (list, tuple)):
        leaves = []
        for index, item in enumerate(value):
            leaves += flatten_outputs(item, f"{prefix}[{index}]")
        return leaves
    tensors = _registered_leaves(value)
    if tensors is not None:  # a library's object registered as a pytree node (a transformers cache)
        return [(f"{prefix}.{type(value).__name__}[{index}]", leaf) for index, leaf in enumerate(tensors)]
    return [(prefix, value)]


def _registered_leaves(value: Any) -> Optional[List[Any]]:
    """The leaves of an object of a type registered as a pytree node (library_types), else None."""
    import sys

    pytree = sys.modules.get("torch.utils._pytree")  # no torch loaded: no such object either
    if pytree is None or type(value) not in pytree.SUPPORTED_NODES:
        return None
    return pytree.tree_leaves(value)


def describe_structure(value: Any) -> str:
    """An output's structure with tensor shapes: {'out': Tensor[1, 21, 64, 64], 'aux': ...}."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key!r}: {describe_structure(item)}" for key, item in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(describe_structure(item) for item in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"Tensor[{', '.join(str(int(s)) for s in shape)}]"
    tensors = _registered_leaves(value)
    if tensors is not None:
        return f"{type(value).__name__}({len(tensors)} tensors)"
    return type(value).__name__


def _compare_leaf(name: str, expected: Any, actual: Any, atol: float, rtol: float) -> OutputComparison:
    import torch

    if isinstance(expected, torch.Tensor) != isinstance(actual, torch.Tensor):
        return OutputComparison(
            name, math.inf, math.inf, False, f"eager gave {type(expected).__name__}, artifact {type(actual).__name__}"
        )
    if not isinstance(expected, torch.Tensor):
        if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
            expected, actual = torch.tensor(float(expected)), torch.tensor(float(actual))
        else:
            same = expected == actual
            return OutputComparison(
                name,
                0.0 if same else math.inf,
                0.0 if same else math.inf,
                bool(same),
                None if same else f"{expected!r} != {actual!r}",
            )
    if expected.shape != actual.shape:
        return OutputComparison(
            name, math.inf, math.inf, False, f"shape {tuple(actual.shape)} != eager {tuple(expected.shape)}"
        )
    if expected.dtype != actual.dtype:
        return OutputComparison(name, math.inf, math.inf, False, f"dtype {actual.dtype} != eager {expected.dtype}")
    if expected.numel() == 0:
        return OutputComparison(name, 0.0, 0.0, True)
    ref = expected.detach().to("cpu", torch.float64)
    got = actual.detach().to("cpu", torch.float64)
    # Equal infinities (an attention mask's -inf) and NaN beside NaN match, as in torch.allclose; any
    # other pair with a non-finite value is infinitely far apart.
    same = (got == ref) | (ref.isnan() & got.isnan())
    diff = (got - ref).abs().masked_fill(same, 0.0).nan_to_num(nan=math.inf, posinf=math.inf)
    magnitude = ref.abs().masked_fill(~ref.isfinite(), 0.0)
    within = same | (got.isfinite() & ref.isfinite() & (diff <= atol + rtol * magnitude))
    significant = magnitude >= max(atol, 1e-12)
    max_rel = float((diff[significant] / magnitude[significant]).max()) if bool(significant.any()) else 0.0
    return OutputComparison(name, float(diff.max()), max_rel, bool(within.all()))


def compare_outputs(expected: Any, actual: Any, atol: float, rtol: float) -> List[OutputComparison]:
    """One comparison per eager output leaf; a structure mismatch is one failed comparison."""
    want = flatten_outputs(expected)
    got = flatten_outputs(actual)
    if len(want) != len(got):
        return [
            OutputComparison(
                "output",
                math.inf,
                math.inf,
                False,
                f"eager returned {len(want)} outputs {[n for n, _ in want]}, artifact {len(got)}",
            )
        ]
    return [_compare_leaf(name, e, a, atol, rtol) for (name, e), (_, a) in zip(want, got, strict=True)]
