"""Run the reloaded artifact on every case and compare with eager outputs computed before export."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

from converter.config.schema import DEFAULT_ATOL, DEFAULT_RTOL, ToleranceConfig, ValidateConfig
from converter.errors import one_line
from converter.tensors.compare import OutputComparison, compare_outputs
from converter.tensors.inputs import InputCase


@dataclass(frozen=True)
class CaseResult:
    name: str
    passed: bool
    shapes: Dict[str, List[int]]
    outputs: List[OutputComparison] = field(default_factory=list)
    # Set when the artifact raised instead of answering (a static shape, a missing branch...).
    error: Optional[str] = None


@dataclass(frozen=True)
class ValidationReport:
    passed: bool
    atol: float
    rtol: float
    cases: List[CaseResult]
    # Per output name: the worst absolute and relative error over all cases.
    outputs: Dict[str, Dict[str, float]]
    worst: Optional[str]
    # Inputs the artifact wrote into in place: a side effect on the caller's tensors.
    artifact_mutates_inputs: List[str] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Tolerance:
    atol: float
    rtol: float
    # The config key each value came from: validate.atol, model.tolerance.atol or default.
    source: Dict[str, str]


def effective_tolerance(model: Optional[ToleranceConfig], validate: ValidateConfig) -> Tolerance:
    """An explicit validate.atol/rtol beats the model's tolerance block, which beats the default
    (as optimum's exporters do: `if atol is None: atol = config.ATOL_FOR_VALIDATION`)."""
    values, source = {}, {}
    for name, default in (("atol", DEFAULT_ATOL), ("rtol", DEFAULT_RTOL)):
        from_model = getattr(model, name) if model is not None else None
        explicit = getattr(validate, name)
        if explicit is not None:
            values[name], source[name] = float(explicit), f"validate.{name}"
        elif from_model is not None:
            values[name], source[name] = float(from_model), f"model.tolerance.{name}"
        else:
            values[name], source[name] = default, "default"
    return Tolerance(values["atol"], values["rtol"], source)


def _shapes(inputs: Dict[str, Any]) -> Dict[str, Any]:
    """Each tensor input's shape (a list of shapes for a list of tensors); constants are left out."""
    shapes: Dict[str, Any] = {}
    for name, value in inputs.items():
        if hasattr(value, "shape"):
            shapes[name] = list(value.shape)
        elif isinstance(value, (list, tuple)) and value and all(hasattr(v, "shape") for v in value):
            shapes[name] = [list(v.shape) for v in value]
    return shapes


@dataclass(frozen=True)
class Reference:
    outputs: List[Any]
    # Inputs eager PyTorch wrote into in place (BLIP's `input_ids[:, 0] = bos`).
    mutated_inputs: List[str]

    @property
    def constant(self) -> bool:
        """Whether every tensor of every case's output holds one value throughout. torchvision's
        VisionTransformer zeroes its head, so at random init it answers 0 to every input; matching
        such a reference says nothing about the artifact."""
        import torch
        import torch.utils._pytree as pytree

        leaves = [t for output in self.outputs for t in pytree.tree_leaves(output) if isinstance(t, torch.Tensor)]
        return bool(leaves) and all(t.numel() == 0 or bool((t == t.reshape(-1)[0]).all()) for t in leaves)


def vacuous_reason(reference: Reference) -> str:
    """Why a validation that matched a constant reference is not counted as one."""
    import torch
    import torch.utils._pytree as pytree

    values = sorted(
        {
            float(t.reshape(-1)[0])
            for output in reference.outputs
            for t in pytree.tree_leaves(output)
            if isinstance(t, torch.Tensor) and t.numel()
        }
    )
    shown = ", ".join(f"{v:g}" for v in values[:3]) + (", ..." if len(values) > 3 else "")
    return (
        f"eager answers every case with constant outputs ({shown or 'empty'}), so matching it proves nothing; "
        "load trained weights (model.checkpoint) or give the loader an init whose outputs vary"
    )


def _call_on_copies(call: Callable[[Dict[str, Any]], Any], inputs: Dict[str, Any], mutated: List[str]) -> Any:
    """`call` (named inputs -> output: converter.tensors.calls.invoke) on copies of `inputs`, so cases stay
    pristine, noting which copies it changed."""
    import torch
    import torch.utils._pytree as pytree

    from converter.tensors.calls import copy_inputs

    copies = copy_inputs(inputs)
    with torch.no_grad():
        output = call(copies)
    for name, value in inputs.items():
        before, after = pytree.tree_leaves(value), pytree.tree_leaves(copies[name])
        changed = any(
            isinstance(b, torch.Tensor) and not torch.equal(b, a) for b, a in zip(before, after, strict=False)
        )
        if changed and name not in mutated:
            mutated.append(name)
    return output


def run_reference(module: Callable[[Dict[str, Any]], Any], cases: Sequence[InputCase]) -> Reference:
    """Eager outputs for each case; computed before export so export cannot disturb them."""
    mutated: List[str] = []
    outputs = [_call_on_copies(module, case.inputs, mutated) for case in cases]
    return Reference(outputs, mutated)


def validate_artifact(
    artifact: Callable[[Dict[str, Any]], Any],
    cases: Sequence[InputCase],
    references: Sequence[Any],
    atol: float,
    rtol: float,
) -> ValidationReport:

    results: List[CaseResult] = []
    mutated: List[str] = []
    worst_by_output: Dict[str, Dict[str, float]] = {}
    worst: Optional[str] = None
    worst_excess = -math.inf
    for case, expected in zip(cases, references, strict=True):
        try:
            actual = _call_on_copies(artifact, case.inputs, mutated)
        except Exception as exc:  # the artifact refusing an input is a validation verdict
            message = one_line(exc)
            results.append(CaseResult(case.name, False, _shapes(case.inputs), error=message[:1000]))
            if worst_excess < math.inf:
                worst, worst_excess = f"{case.name}: artifact raised {message[:300]}", math.inf
            continue
        comparisons = compare_outputs(expected, actual, atol, rtol)
        results.append(CaseResult(case.name, all(c.passed for c in comparisons), _shapes(case.inputs), comparisons))
        for c in comparisons:
            entry = worst_by_output.setdefault(c.name, {"max_abs_error": 0.0, "max_rel_error": 0.0})
            entry["max_abs_error"] = max(entry["max_abs_error"], c.max_abs_error)
            entry["max_rel_error"] = max(entry["max_rel_error"], c.max_rel_error)
            excess = math.inf if c.problem else c.max_abs_error - atol
            if not c.passed and excess > worst_excess:
                detail = (
                    c.problem
                    or f"max abs error {c.max_abs_error:.3g}, max rel error {c.max_rel_error:.3g} (atol {atol}, rtol {rtol})"
                )
                worst, worst_excess = f"{case.name}: {c.name} {detail}", excess
    passed = all(r.passed for r in results)
    return ValidationReport(passed, atol, rtol, results, worst_by_output, None if passed else worst, mutated)
