"""Keep values read from the environment out of records that leave the machine.

`${oc.env:VAR}` is how a config picks up a tracking URI with credentials, a token or a
private path. The job itself needs the real value (config.yaml, the child's copy), but the
record (result.json's `config`, MLflow params) gets `<from environment>` instead, also where
the value reached a key through another interpolation (`uri: http://${oc.env:HOST}`).
"""

from __future__ import annotations

import os
from typing import Any, Dict, Iterator, Mapping, Set, Tuple

REDACTED = "<from environment>"
_PROBE = "\x00converter-env-probe\x00"


def _leaves(value: Any, prefix: str = "") -> Iterator[Tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _leaves(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{prefix}[{index}]")
    else:
        yield prefix, value


def env_derived_keys(cfg: Any) -> Set[str]:
    """Dotted keys of `cfg` (a DictConfig) whose resolved value comes from a set environment variable.
    Hydra's own node is left out: it holds interpolations only a running job resolves."""
    from omegaconf import OmegaConf
    from omegaconf.resolvers import oc

    from converter.config.composition import resolved_without_hydra

    def probe(key: str, default: Any = None) -> Any:
        return _PROBE if key in os.environ else default

    OmegaConf.register_new_resolver("oc.env", probe, replace=True)
    try:
        probed = resolved_without_hydra(cfg)
    finally:
        OmegaConf.register_new_resolver("oc.env", oc.env, replace=True)
    return {key for key, value in _leaves(probed) if isinstance(value, str) and _PROBE in value}


def redacted(config: Mapping[str, Any], keys: Set[str]) -> Dict[str, Any]:
    """A copy of the plain `config` with the values at `keys` replaced."""

    def walk(value: Any, prefix: str) -> Any:
        if isinstance(value, Mapping):
            return {k: walk(v, f"{prefix}.{k}" if prefix else str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, f"{prefix}[{i}]") for i, v in enumerate(value)]
        return REDACTED if prefix in keys else value

    return walk(config, "")
