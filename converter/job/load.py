"""Build the module to export: loader, optional checkpoint, eval mode, optional wrapper."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from converter.config.schema import ModelConfig
from converter.errors import ConfigError

STATE_DICT_KEYS = ("state_dict", "model")


def read_checkpoint(path: str) -> Mapping[str, Any]:
    """A state dict loaded with `weights_only=True`: a checkpoint never runs code."""
    import torch

    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(
            "model.checkpoint",
            f"no file at '{file}'",
            "give the path of a local state-dict file, or null for random init",
        )
    state = torch.load(file, map_location="cpu", weights_only=True)
    for key in STATE_DICT_KEYS:  # common wrappers: {"model": sd} (SAM2), {"state_dict": sd} (Lightning)
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict):
        raise ConfigError(
            "model.checkpoint",
            f"'{file}' holds a {type(state).__name__}, not a state dict",
            "save model.state_dict() to that file",
        )
    return state


def _call(instantiate: Any, config: Mapping[str, Any], key: str, *args: Any) -> Any:
    """instantiate(), with a target's complaint about its keywords (one that takes **kwargs and
    passes them on, so preflight could not bind them) turned into a config error naming the key."""
    import re

    from hydra.errors import InstantiationException

    try:
        return instantiate(config, *args, _convert_="all")
    except (InstantiationException, TypeError) as exc:
        found = re.search(r"unexpected keyword argument '(\w+)'", str(exc))
        if not found:
            raise
        raise ConfigError(
            f"{key}.{found.group(1)}",
            f"'{config['_target_']}' (or what it calls) takes no argument '{found.group(1)}'",
            "remove or correct it",
        ) from exc


def load_model(model: ModelConfig, device: str) -> Any:
    """The loaded (and wrapped) nn.Module in eval mode on `device`."""
    import inspect

    import torch
    from hydra.utils import instantiate

    module = _call(instantiate, model.loader, "model.loader")
    is_module = isinstance(module, torch.nn.Module)
    if not is_module and not model.wrapper:
        kind = "bound method" if inspect.ismethod(module) else type(module).__name__
        raise ConfigError(
            "model.loader",
            f"the loader returned a {kind}, not a torch.nn.Module",
            "wrap it: model.wrapper={_target_:registry.common.CallableAsModule} turns a callable into a module, "
            "or point _target_ at a function that returns the nn.Module (see registry/ for examples)",
        )
    if model.checkpoint:
        target = module if is_module else getattr(module, "__self__", None)
        if not isinstance(target, torch.nn.Module):
            raise ConfigError("model.checkpoint", "the loader's result has no weights to load", "drop model.checkpoint")
        target.load_state_dict(read_checkpoint(model.checkpoint), strict=True)
    if is_module:
        module.eval()
    if model.wrapper:
        module = _call(instantiate, model.wrapper, "model.wrapper", module)
        if not isinstance(module, torch.nn.Module):
            raise ConfigError(
                "model.wrapper",
                f"the wrapper returned a {type(module).__name__}",
                "make the wrapper an nn.Module class",
            )
        module.eval()
    return module.to(device)
