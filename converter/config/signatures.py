"""Arguments a config passes to a `_target_`, bound to its signature before anything runs.

A misspelt keyword (`model.loader.weightz=null`) would otherwise surface as a TypeError in
the job, after its run folder exists. Binding follows torchtune's config validation
(`inspect.signature(component).bind(**kwargs)`); a target that takes `**kwargs` cannot be
checked this way, and `loading.py` turns its TypeError into the same message at run time.
"""

from __future__ import annotations

import difflib
import inspect
from typing import Any, Callable, Mapping, Sequence

from converter.errors import ConfigError

# Hydra's own keys in a `_target_` mapping, not arguments of the target.
HYDRA_KEYS = ("_target_", "_args_", "_partial_", "_recursive_", "_convert_")


def check_arguments(
    target: Callable[..., Any],
    config: Mapping[str, Any],
    key: str,
    positional: int = 0,
    supplied: Sequence[str] = (),
) -> None:
    """ConfigError naming `key.<argument>` for an argument `target` does not take, or naming
    the first required argument nobody gives. `positional`: arguments converter passes first
    (the module, for a wrapper); `supplied`: keywords converter passes (dims=, generator=, ...)."""
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):  # builtins and C extensions may have none
        return
    parameters = signature.parameters
    takes_any_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    given = [name for name in config if name not in HYDRA_KEYS]
    name = f"'{config.get('_target_', getattr(target, '__qualname__', target))}'"
    if not takes_any_keyword:
        accepted = [p for p, spec in parameters.items() if spec.kind is not inspect.Parameter.VAR_POSITIONAL]
        for argument in given:
            if argument not in parameters:
                close = difflib.get_close_matches(argument, accepted, n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                raise ConfigError(
                    f"{key}.{argument}",
                    f"{name} takes no argument '{argument}'",
                    f"{hint}remove it, or use one of: {', '.join(accepted) or 'none'}",
                )
    arguments = [None] * (positional + len(config.get("_args_") or []))
    try:
        signature.bind(*arguments, **{a: None for a in (*supplied, *given)})
    except TypeError as exc:
        if config.get("_partial_"):
            return
        raise ConfigError(
            key, f"{name} cannot be called with these arguments ({exc})", "give the arguments it requires"
        ) from exc
