"""How a model is called with its declared inputs: positional or keyword, tensors or constants.

An input may be passed by keyword (`keyword: true`: ExportDB's `fn_with_kwargs`, the SAM2
`SAM2ImagePredictor._predict`'s `multimask_output`), be a constant (`constant: true` with a `value`: a bool, int,
float, string or None), or a list of tensors (`count: N`, detection models' images). Eager,
the exporters, validation and the benchmark all call through here, so the artifact is called
the way eager is.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from converter.config.schema import InputConfig
from converter.errors import ConfigError

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


def _forward_signature(module: Any) -> Optional[inspect.Signature]:
    forward = getattr(module, "forward", None)
    if forward is None:
        return None
    try:
        return inspect.signature(forward)
    except (TypeError, ValueError):  # a C-implemented or scripted forward may have none
        return None


def bind_by_name(forward: Optional[inspect.Signature], specs: Specs, owner: str = "forward") -> Dict[str, InputConfig]:
    """The specs re-ordered and marked as `inspect.signature(forward).bind` would place inputs
    named after forward's parameters: positionally while every parameter before is given, by
    keyword after a gap (transformers models are called as `model(input_ids=..., attention_mask=...)`,
    and GPT-2's second positional parameter is `past_key_values`). Inputs none of whose names is a
    parameter keep their YAML order and go by position (`x` for `forward(self, input)`); `keyword:
    true` still forces a keyword. Beside inputs that name parameters, one that names none goes on
    into `*args` (when no gap came before), else into `**kwargs`; with neither it is a ConfigError."""
    from dataclasses import replace

    if forward is None:
        return dict(specs)
    parameters = list(forward.parameters.values())
    named = {p.name: p for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    if not any(name in named for name in specs):
        return dict(specs)
    positional: Dict[str, InputConfig] = {}
    gap = False
    for parameter in parameters:
        if parameter.kind not in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            break
        spec = specs.get(parameter.name)
        if spec is None or spec.keyword:
            gap = True
            break
        positional[parameter.name] = replace(spec, keyword=False)
    takes_args = any(p.kind is p.VAR_POSITIONAL for p in parameters) and not gap
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in parameters)
    extra: Dict[str, InputConfig] = {}
    keywords: Dict[str, InputConfig] = {}
    for name, spec in specs.items():
        if name in positional:
            continue
        if name not in named and takes_args and not spec.keyword:
            extra[name] = replace(spec, keyword=False)
        elif name in named or takes_kwargs:
            keywords[name] = replace(spec, keyword=True)
        else:
            listed = ", ".join(_describe(p) for p in named.values()) or "none"
            raise ConfigError(
                f"model.inputs.{name}",
                f"input '{name}' names no parameter of {owner}({listed}), while "
                f"{', '.join(repr(n) for n in specs if n in named)} do, so inputs are passed by name",
                f"rename it to the parameter it feeds, one of: {', '.join(named)}",
            )
        if name in named and named[name].kind is named[name].POSITIONAL_ONLY:
            raise ConfigError(
                f"model.inputs.{name}",
                f"'{name}' is positional-only in {owner}(), but a parameter before it has no input",
                "give an input for every parameter before it",
            )
    return {**positional, **extra, **keywords}


def _describe(parameter: inspect.Parameter) -> str:
    return parameter.name if parameter.default is inspect.Parameter.empty else f"{parameter.name}=..."


def bound_to_module(module: Any, specs: Specs) -> Dict[str, InputConfig]:
    """`bind_by_name` on the forward of the module converter calls (the wrapper, if any)."""
    return bind_by_name(_forward_signature(module), specs, f"{type(module).__name__}.forward")


def passing(specs: Specs) -> Dict[str, str]:
    """How each input reaches the model, for result.json: 'positional[i]', 'keyword' or 'constant'."""
    described: Dict[str, str] = {}
    position = 0
    for name, spec in specs.items():
        kind = "keyword" if spec.keyword else f"positional[{position}]"
        if not spec.keyword:
            position += 1
        described[name] = f"{kind}, constant" if spec.constant else kind
    return described
