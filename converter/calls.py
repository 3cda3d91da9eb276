"""How a model is called with its declared inputs: positional or keyword, tensors or constants.

An input may be passed by keyword (`keyword: true`: ExportDB's `fn_with_kwargs`, the SAM2
`SAM2ImagePredictor._predict`'s `multimask_output`), be a constant (`constant: true` with a `value`: a bool, int,
float, string or None), or a list of tensors (`count: N`, detection models' images). Eager,
the exporters, validation and the benchmark all call through here, so the artifact is called
the way eager is.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Dict, List, Mapping, Tuple

from converter.schema import InputConfig

# model.inputs: input name -> its spec, in declaration order.
Specs = Mapping[str, InputConfig]


def split(specs: Specs, inputs: Mapping[str, Any]) -> Tuple[tuple, Dict[str, Any]]:
    """(args, kwargs) in declaration order: keyword inputs by name, the rest positionally."""
    args = tuple(value for name, value in inputs.items() if not specs[name].keyword)
    kwargs = {name: value for name, value in inputs.items() if specs[name].keyword}
    return args, kwargs


def invoke(fn: Callable[..., Any], specs: Specs, inputs: Mapping[str, Any]) -> Any:
    args, kwargs = split(specs, inputs)
    return fn(*args, **kwargs)


def constant_names(specs: Specs) -> List[str]:
    return [name for name, spec in specs.items() if spec.constant]


def plain_call(specs: Specs) -> bool:
    """Every input a positional tensor (or list of tensors): the call every target takes as it is."""
    return not any(spec.keyword or spec.constant for spec in specs.values())


def copy_inputs(inputs: Mapping[str, Any]) -> Dict[str, Any]:
    """Fresh copies of every tensor (in lists too), so a call that writes in place leaves the case pristine."""
    import torch
    import torch.utils._pytree as pytree

    return {k: pytree.tree_map_only(torch.Tensor, lambda t: t.clone(), v) for k, v in inputs.items()}


def by_parameter(module: Any, specs: Specs, per_input: Mapping[str, Any]) -> Dict[str, Any]:
    """torch.export's `dynamic_shapes` by parameter name, for a call with keyword inputs: each
    positional input takes the name of the forward parameter at its position, a keyword input
    its own (nested under `**kwargs` when forward collects them there)."""
    parameters = [p for p in inspect.signature(module.forward).parameters.values()]
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    var_positional = next((p.name for p in parameters if p.kind is p.VAR_POSITIONAL), None)
    var_keyword = next((p.name for p in parameters if p.kind is p.VAR_KEYWORD), None)
    named = {p.name for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    extra_args: List[Any] = []
    shapes: Dict[str, Any] = {}
    position = 0
    for name in specs:
        spec = per_input.get(name)
        if specs[name].keyword:
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
