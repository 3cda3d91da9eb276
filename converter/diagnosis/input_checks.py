"""Failures caused by the inputs a YAML declares, not by the exporter.

A failure at the `reference` stage means the eager model itself refused the example: the YAML
is wrong, and the diagnosis says which input and how (`input_rejected`). An artifact that raises
when called, rather than answering with other numbers, is `artifact_error` (torchvision's
scripted detector refusing a batched tensor for its `images: List[Tensor]`).

The rules read `FailureContext.facts`, gathered from the live objects in `report.py`
(`input_facts`): the embedding whose table an index overran, forward's parameters and which
of them take a list of tensors.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional

from converter.config.schema import ModelConfig
from converter.diagnosis.location import Location
from converter.errors import first_line

# torch.jit's refusal of a wrong kind of argument: "forward() Expected a value of type
# 'List[Tensor]' for argument 'images' but instead found type 'Tensor'." (torch 2.14).
_WRONG_KIND = re.compile(r"Expected a value of type '([^']+)' for argument '(\w+)' but instead found type '(\w+)'")
_MISSING = re.compile(r"missing (?:\d+ )?required (?:positional |keyword-only )?arguments?: '(\w+)'")
# transformers' encoders and encoder-decoders: "You must specify exactly one of input_ids or inputs_embeds".
_EITHER = re.compile(r"You (?:must|have to) specify (?:exactly one of |either )(\w+) or (\w+)")
_NOT_AN_OBJECT = re.compile(r"'Tensor' object has no attribute '(\w+)'")


def _at(location: Optional[Location]) -> str:
    return f"At {location}: " if location else ""


def list_input_fix(model: ModelConfig, name: str) -> List[str]:
    """Overrides that turn a batched tensor input into a list of per-item tensors (`count`). Its
    Dims are dropped: a list's length is no Dim, and Hydra cannot re-add a Dim mapping on the command
    line (OmegaConf 2.3 refuses a dict into Dict[int, DimConfig]); per-item Dims go in the YAML."""
    spec = model.inputs[name]
    shape = list(spec.shape or [])
    if spec.count is not None or len(shape) < 2:
        return []
    overrides = [
        f"model.inputs.{name}.count={shape[0]}",
        f"model.inputs.{name}.shape=[{','.join(map(str, shape[1:]))}]",
    ]
    if model.dynamic_shapes.get(name):
        overrides.append(f"~model.dynamic_shapes.{name}")
    return overrides


def _list_parameters(facts: Mapping[str, Any], model: ModelConfig) -> List[str]:
    """Inputs fed as one tensor to a parameter annotated List[Tensor] (facts['list_parameters'])."""
    return [n for n in facts.get("list_parameters") or () if n in model.inputs and model.inputs[n].count is None]


def input_rejected(context: Any, location: Optional[Location]) -> Optional[Any]:
    """The eager model raised on the example inputs: say which input and how to fix its spec."""
    from converter.diagnosis.verdict import Diagnosis

    message, facts, model = context.message, context.facts, context.model
    if context.stage == "load" and "names no parameter of" in message:  # calls.bind_by_name, on a built module
        return Diagnosis("input_rejected", f"{first_line(message)}", [])
    if context.stage != "reference":
        return None
    opening = (
        f"{_at(location)}the eager model itself refused the example inputs ({first_line(message)[:200]}): "
        "the YAML's inputs are wrong, not the exporter. "
    )
    embedding = facts.get("embedding")
    if "index out of range" in message and embedding:
        size = int(embedding["num_embeddings"])
        culprits = embedding.get("inputs") or []
        fixes = [f"model.inputs.{n}.high={size}" for n in culprits]
        named = ", ".join(f"'{n}'" for n in culprits) or "an integer input"
        return Diagnosis(
            "input_rejected",
            opening + f"{named} indexes past an embedding table of {size} rows ({embedding['module']}). Integer "
            f"inputs draw from [low, high) as torch.randint does: token ids take high = the vocabulary size, {size}."
            + (
                ""
                if culprits
                else " No input feeds the table directly: an input it is computed from (an attention "
                "mask that should hold ones, high: 2) is out of its range."
            ),
            fixes,
        )
    wrong = _WRONG_KIND.search(message)
    lists = _list_parameters(facts, model)
    if lists:
        return Diagnosis(
            "input_rejected",
            opening + f"forward takes '{lists[0]}' as a list of tensors (List[Tensor]) and the YAML gives one "
            "batched tensor. Give it as a list: `count` items of the per-item shape.",
            list_input_fix(model, lists[0]),
        )
    missing = _MISSING.search(message) or _EITHER.search(message)
    if missing:
        name = missing.group(1)
        parameters = facts.get("parameters") or []
        return Diagnosis(
            "input_rejected",
            opening + f"forward's required input '{name}' is not given. Add it under model.inputs with the name "
            f"'{name}' (inputs named after forward's parameters are passed by name; forward takes "
            f"{', '.join(parameters) or 'no named parameters'}).",
            [],
        )
    not_object = _NOT_AN_OBJECT.search(message)
    if not_object or wrong:
        fed = facts.get("misfed") or {}
        what = (
            f"input '{fed['input']}' reached parameter '{fed['parameter']}' ({fed['annotation']}), which expects "
            "an object, not a tensor"
            if fed
            else "a tensor reached a parameter that expects an object (a cache or a config)"
        )
        return Diagnosis(
            "input_rejected",
            opening + f"{what}. Inputs whose names are none of forward's parameters go by position in YAML order: "
            f"name each input after the parameter it feeds ({', '.join(facts.get('parameters') or [])}).",
            [],
        )
    return Diagnosis(
        "input_rejected",
        opening + "Check each input's shape, dtype and range against what forward expects; integer ranges are "
        "[low, high).",
        [],
    )


def loader_rejected(context: Any, location: Optional[Location]) -> Optional[Any]:
    """The loader raised building the model from the YAML's arguments (a config inconsistent with itself)."""
    from converter.config.dotted_paths import top_package
    from converter.diagnosis.verdict import Diagnosis
    from converter.tensors.library_types import load_fix

    if context.stage != "load" or "ConfigError" in context.type:
        return None
    model = context.model
    fix = load_fix(model.library or top_package(model.loader["_target_"]), model.loader, context.message)
    return Diagnosis(
        "loader_rejected",
        f"{_at(location)}the loader '{model.loader['_target_']}' refused to build the model from model.loader's "
        f"arguments ({_root_cause(context.message)[:200]}): the arguments contradict each other or the "
        "library's defaults" + (f"; the library's known fix: {fix.lstrip('+')}." if fix else "; fix them in the YAML."),
        [fix] if fix else [],
    )


def _root_cause(message: str) -> str:
    """Hydra wraps the loader's exception: "Error in call to target '...':\nAssertionError('...')"."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return lines[-1] if len(lines) > 1 and lines[0].startswith("Error in call to target") else first_line(message)


def artifact_error(context: Any, location: Optional[Location]) -> Optional[Any]:
    """The reloaded artifact raised instead of answering (validate stage, not a pinned size)."""
    from converter.diagnosis.verdict import Diagnosis

    if context.stage != "validate" or context.backend == "torchscript_trace":  # a trace's is trace_divergence
        return None
    cases = (context.validation or {}).get("cases") or []
    errors = [(c["name"], c["error"]) for c in cases if c.get("error")]
    if not errors:
        return None
    name, error = errors[0]
    model = context.model
    wrong = _WRONG_KIND.search(error)
    fixes: List[str] = []
    reason = ""
    if wrong and wrong.group(2) in model.inputs:
        fixes = list_input_fix(model, wrong.group(2)) if wrong.group(1).startswith("List[") else []
        reason = (
            f" The artifact's forward takes '{wrong.group(2)}' as {wrong.group(1)} and was given a "
            f"{wrong.group(3)}: eager Python accepted it, the compiled signature does not."
            + (" Give the input as a list (`count` items of the per-item shape)." if fixes else "")
        )
    return Diagnosis(
        "artifact_error",
        f"the artifact raised when called, on {len(errors)} of {len(cases)} cases (first: {name}: "
        f"{first_line(error)[:200]}).{reason}",
        fixes,
    )


def input_facts(module: Any, specs: Mapping[str, Any], cause: BaseException) -> Dict[str, Any]:
    """What the input rules read from live objects: forward's parameters, which take List[Tensor],
    which parameter a tensor reached that wants an object, and the embedding an index overran."""
    import inspect

    facts: Dict[str, Any] = {}
    try:
        parameters = list(inspect.signature(module.forward).parameters.values())
    except (TypeError, ValueError, AttributeError):
        parameters = []
    named = [p for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    facts["parameters"] = [p.name for p in named]
    facts["list_parameters"] = [p.name for p in named if _is_tensor_list(p.annotation)]
    positional = [n for n, s in specs.items() if not s.keyword]
    for name, parameter in zip(positional, named, strict=False):
        if name != parameter.name and not _accepts_tensor(parameter.annotation):
            facts["misfed"] = {"input": name, "parameter": parameter.name, "annotation": _name(parameter.annotation)}
            break
    table = _overrun_embedding(cause)
    if table is not None:
        facts["embedding"] = {
            "num_embeddings": table.num_embeddings,
            "module": f"{type(table).__name__}({table.num_embeddings}, {table.embedding_dim})",
            "inputs": _inputs_past(specs, table.num_embeddings),
        }
    return facts


def _overrun_embedding(cause: BaseException) -> Optional[Any]:
    """The embedding module (`self` with num_embeddings) in the deepest traceback frame holding one."""
    found = None
    tb = cause.__traceback__
    while tb is not None:
        table = tb.tb_frame.f_locals.get("self")
        if hasattr(table, "num_embeddings") and hasattr(table, "embedding_dim"):
            found = table
        tb = tb.tb_next
    return found


def _inputs_past(specs: Mapping[str, Any], size: int) -> List[str]:
    """Integer inputs whose declared range reaches past the table (high > size)."""
    return [n for n, s in specs.items() if s.factory is None and not s.constant and s.high > size and _integer(s.dtype)]


def _integer(dtype: str) -> bool:
    from converter.tensors.inputs import is_integer_dtype

    return is_integer_dtype(dtype)


def _name(annotation: Any) -> str:
    if annotation is Any or annotation is None:
        return "any"
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


def _is_tensor_list(annotation: Any) -> bool:
    text = annotation if isinstance(annotation, str) else str(annotation)
    return (
        bool(re.search(r"(?:List|list|Sequence)\[(?:torch\.)?Tensor\]", text))
        and "Union" not in text
        and "|" not in text
    )


def _accepts_tensor(annotation: Any) -> bool:
    import inspect

    if annotation is inspect.Parameter.empty or annotation is Any:
        return True
    text = annotation if isinstance(annotation, str) else str(annotation)
    return "Tensor" in text or "Any" in text or text in ("<class 'object'>",)
