"""How a model is called with its declared inputs: positional or keyword, tensors or constants.

An input may be passed by keyword (`keyword: true`: ExportDB's `fn_with_kwargs`, the SAM2
seed's `multimask_output`), be a constant (`constant: true` with a `value`: a bool, int,
float, string or None), or a list of tensors (`count: N`, detection models' images). Eager,
the exporters, validation and the benchmark all call through here, so the artifact is called
the way eager is.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Dict, List, Mapping, Tuple


def split(model: Mapping[str, Any], inputs: Mapping[str, Any]) -> Tuple[tuple, Dict[str, Any]]:
    """(args, kwargs) in declaration order: keyword inputs by name, the rest positionally."""
    specs = model["inputs"]
    args = tuple(value for name, value in inputs.items() if not (specs.get(name) or {}).get("keyword"))
    kwargs = {name: value for name, value in inputs.items() if (specs.get(name) or {}).get("keyword")}
    return args, kwargs


def invoke(fn: Callable[..., Any], model: Mapping[str, Any], inputs: Mapping[str, Any]) -> Any:
    args, kwargs = split(model, inputs)
    return fn(*args, **kwargs)


def constant_names(model: Mapping[str, Any]) -> List[str]:
    return [name for name, spec in model["inputs"].items() if (spec or {}).get("constant")]


def plain_call(model: Mapping[str, Any]) -> bool:
    """Every input a positional tensor (or list of tensors): the call every target takes as it is."""
    return not any((spec or {}).get("keyword") or (spec or {}).get("constant") for spec in model["inputs"].values())


def copy_inputs(inputs: Mapping[str, Any]) -> Dict[str, Any]:
    """Fresh copies of every tensor (in lists too), so a call that writes in place leaves the case pristine."""
    import torch
    import torch.utils._pytree as pytree

    return {k: pytree.tree_map_only(torch.Tensor, lambda t: t.clone(), v) for k, v in inputs.items()}


def by_parameter(module: Any, model: Mapping[str, Any], per_input: Mapping[str, Any]) -> Dict[str, Any]:
    """torch.export's `dynamic_shapes` by parameter name, for a call with keyword inputs: each
    positional input takes the name of the forward parameter at its position, a keyword input
    its own (nested under `**kwargs` when forward collects them there)."""
    parameters = [p for p in inspect.signature(module.forward).parameters.values()]
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    var_positional = next((p.name for p in parameters if p.kind is p.VAR_POSITIONAL), None)
    var_keyword = next((p.name for p in parameters if p.kind is p.VAR_KEYWORD), None)
    named = {p.name for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    specs, extra_args = model["inputs"], []
    shapes: Dict[str, Any] = {}
    position = 0
    for name in model["inputs"]:
        spec = per_input.get(name)
        if (specs[name] or {}).get("keyword"):
            if name in named or var_keyword is None:
                shapes[name] = spec
            else:
                shapes.setdefault(var_keyword, {})[name] = spec
        elif position < len(positional):
            shapes[positional[position].name] = spec
            position += 1
        else:
            extra_args.append(spec)
    if var_positional is not None and extra_args:
        shapes[var_positional] = tuple(extra_args)
    return shapes
