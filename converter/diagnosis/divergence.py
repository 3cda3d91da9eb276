"""Where an exported program's numbers leave eager's: the first submodule whose output differs.

`torch.export.unflatten` rebuilds the program's module hierarchy (each node keeps its
`nn_module_stack`), so the eager module and the program have submodules at the same paths.
Forward hooks on both record each submodule's output on the failing input; walking eager's
call order, the first path whose outputs disagree beyond the validation tolerance is where the
difference starts (a later module only inherits it).
"""

from __future__ import annotations

import inspect
import logging
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

log = logging.getLogger("converter")


def first_divergence(
    module: Any, artifact: Path, inputs: Mapping[str, Any], atol: float, rtol: float, specs: Mapping[str, Any]
) -> Optional[Dict[str, Any]]:
    """{module, class, file, line, max_abs_error, cosine_similarity} of the first submodule out of
    tolerance, or None (no submodule differs: the difference is in the top-level code)."""
    import torch

    try:
        unflat = torch.export.unflatten(torch.export.load(str(artifact)))
    except Exception as exc:  # noqa: BLE001 (localization is extra evidence)
        log.info("divergence not localized: unflatten failed (%s)", exc)
        return None
    from converter.tensors.calls import copy_inputs, split

    eager_order, eager = _record(module, split(specs, copy_inputs(inputs)))
    _, exported = _record(unflat, split(specs, copy_inputs(inputs)))
    for path in eager_order:
        if path not in exported:
            continue
        expected, actual = eager[path], exported[path]
        if expected.shape != actual.shape:
            continue
        if not torch.allclose(actual, expected, atol=atol, rtol=rtol, equal_nan=True):
            submodule = module.get_submodule(path)
            file, line = _source_of(type(submodule))
            return {
                "module": path,
                "class": type(submodule).__qualname__,
                "file": file,
                "line": line,
                "max_abs_error": float((actual - expected).abs().max()),
                "cosine_similarity": float(
                    torch.nn.functional.cosine_similarity(actual.flatten(), expected.flatten(), dim=0)
                ),
            }
    return None


def _record(root: Any, call: Tuple[tuple, Dict[str, Any]]) -> Tuple[List[str], Dict[str, Any]]:
    """Run `root` once; each submodule's first tensor output (as float64), in call order."""
    import torch

    order: List[str] = []
    outputs: Dict[str, Any] = {}

    def hook_for(path: str):
        def hook(_module: Any, _inputs: Any, output: Any) -> None:
            tensor = _first_tensor(output)
            if path not in outputs and tensor is not None and tensor.is_floating_point():
                order.append(path)
                outputs[path] = tensor.detach().to(torch.float64).cpu()

        return hook

    handles = [m.register_forward_hook(hook_for(p)) for p, m in root.named_modules() if p]
    try:
        with torch.no_grad():
            root(*call[0], **call[1])
    finally:
        for handle in handles:
            handle.remove()
    return order, outputs


def _first_tensor(value: Any) -> Any:
    import torch

    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (list, tuple)):
        for item in value:
            found = _first_tensor(item)
            if found is not None:
                return found
    if isinstance(value, dict):
        return _first_tensor(list(value.values()))
    return None


def _source_of(cls: type) -> Tuple[Optional[str], Optional[int]]:
    try:
        forward = getattr(cls, "forward", cls)
        return inspect.getsourcefile(forward), inspect.getsourcelines(forward)[1]
    except (OSError, TypeError):
        return None, None
