"""torch.jit.script: compiles the Python source, control flow included.

With `model.traced_submodules`, a hybrid (as WWDC 2020 session 10153 builds GPT-2's loop): the named submodules are
traced (on the inputs they receive during one eager run on the example) and the module
around them, whose control flow tracing would freeze, is scripted.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Tuple

from converter.config.backend_options import ScriptOptions
from converter.exporters.base import ExportRequest
from converter.exporters.torchscript import TorchScriptArtifact


@contextmanager
def fresh_type_cache() -> Iterator[None]:
    """Compile without TorchScript's process-wide cache of module types.

    The cache is keyed by Python class, not by source: a second job in the same process
    scripting the same class under other patches would silently get the first job's
    compiled methods, or "Can't redefine method" after a failed attempt.
    """
    from torch.jit import _recursive

    saved = _recursive.concrete_type_store
    _recursive.concrete_type_store = _recursive.ConcreteTypeStore()
    try:
        yield
    finally:
        _recursive.concrete_type_store = saved


def _first_inputs(module: Any, names: List[str], example: Tuple[Any, ...]) -> Dict[str, Tuple[Any, ...]]:
    """The positional inputs each named submodule receives first when `module` runs on `example`."""
    import torch

    seen: Dict[str, Tuple[Any, ...]] = {}
    hooks = []
    for name in names:
        submodule = module.get_submodule(name)
        hooks.append(submodule.register_forward_pre_hook(lambda _m, args, name=name: seen.setdefault(name, args)))
    try:
        with torch.no_grad():
            module(*example)
    finally:
        for hook in hooks:
            hook.remove()
    missing = [n for n in names if n not in seen]
    if missing:
        raise ValueError(
            f"model.traced_submodules {missing} never ran on the example inputs, so there is nothing to trace them with"
        )
    return seen


def trace_submodules(module: Any, names: List[str], example: Tuple[Any, ...]) -> Any:
    """A copy of `module` whose named submodules are replaced by their traces."""
    import torch

    from converter.exporters.portable_trace import device_portable_tracing

    hybrid = copy.deepcopy(module)
    for name, args in _first_inputs(hybrid, names, example).items():
        parent_name, _, child = name.rpartition(".")
        parent = hybrid.get_submodule(parent_name) if parent_name else hybrid
        with device_portable_tracing():
            setattr(parent, child, torch.jit.trace(parent.get_submodule(child), args))
    return hybrid


class TorchScriptScriptExporter(TorchScriptArtifact):
    name = "torchscript_script"
    Options = ScriptOptions

    def export(self, request: ExportRequest) -> Any:
        import torch

        module = request.module
        if request.traced_submodules:
            module = trace_submodules(module, list(request.traced_submodules), request.example_inputs)
        with fresh_type_cache():
            scripted = torch.jit.script(module)
        return self.finish(scripted, request.options.freeze)
