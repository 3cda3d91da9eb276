"""What a config may make converter import and load: checked before anything is imported.

Nightly sweeps run over model YAMLs that third parties write. A `_target_` is a call
converter will make (Hydra's `instantiate`), and a patch replaces a library attribute, so
every one of them must name code from an expected place: the registry, torchvision's models,
the model libraries the registry builds with, or a prefix the user names on the command line
(`security.allowed_prefixes=[my_models]`). Hydra's own node (callbacks, launcher, sweeper) may
name Hydra, its plugins and converter only. A checkpoint must be a real state dict whose
pickle names no code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, List, Mapping, Sequence, Tuple

from converter.errors import ConfigError, one_line

# The registry and the libraries its loaders call (see pyproject's dependencies).
BUILTIN_PREFIXES = ("registry", "torchvision.models", "segment_anything", "sam2", "ultralytics", "transformers", "timm")
HYDRA_PREFIXES = ("hydra", "hydra_plugins", "converter")
ALLOWLIST_KEY = "security.allowed_prefixes"


def allowed(target: str, prefixes: Sequence[str]) -> bool:
    return any(target == p or target.startswith(p + ".") for p in prefixes if p)


def _named_code(value: Any, key: str) -> Iterator[Tuple[str, str]]:
    """(config key, dotted path) of every `_target_` and patch target/replacement, however deep."""
    if isinstance(value, Mapping):
        for name, item in value.items():
            child = f"{key}.{name}" if key else str(name)
            if name == "_target_" or (name in ("target", "replacement") and ".patches[" in key):
                yield child, item
            else:
                yield from _named_code(item, child)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _named_code(item, f"{key}[{index}]")


def check_targets(job: Mapping[str, Any], hydra_node: Mapping[str, Any] | None = None) -> None:
    """ConfigError for the first `_target_` or patch outside the allowlist; imports nothing."""
    extra = list((job.get("security") or {}).get("allowed_prefixes") or [])
    prefixes = BUILTIN_PREFIXES + tuple(extra)
    for key, target in _named_code({k: v for k, v in job.items() if k != "hydra"}, ""):
        if not isinstance(target, str) or not allowed(target, prefixes):
            raise ConfigError(
                key,
                f"'{target}' is outside the modules a config may call or patch ({', '.join(prefixes)})",
                f"if you trust it, allow its package on the command line: "
                f"{ALLOWLIST_KEY}=[{str(target).split('.')[0]}]",
            )
    for key, target in _named_code(hydra_node or {}, "hydra"):
        if not isinstance(target, str) or not allowed(target, HYDRA_PREFIXES):
            raise ConfigError(
                key,
                f"'{target}' is outside the modules Hydra's own config may name ({', '.join(HYDRA_PREFIXES)})",
                "remove it: a model or sweep YAML may not install callbacks, launchers or sweepers of other code",
            )


def check_allowlist_source(job: Mapping[str, Any], overrides: Sequence[str]) -> None:
    """The allowlist is widened on the command line only, never by a (possibly third-party) YAML."""
    extra = (job.get("security") or {}).get("allowed_prefixes") or []
    from_command_line = any(o.lstrip("+~").split("=", 1)[0] in (ALLOWLIST_KEY, "security") for o in overrides)
    if extra and not from_command_line:
        raise ConfigError(
            ALLOWLIST_KEY,
            f"a config file sets {extra}; only the command line may widen what configs can import",
            f"remove it from the YAML and pass {ALLOWLIST_KEY}={list(extra)} on the command line if you trust it",
        )


ZIP_MAGIC = b"PK\x03\x04"
PICKLE_PROTOCOL_OPCODE = 0x80


def checkpoint_kind(path: Path) -> str:
    """'safetensors', 'torch-zip', 'torch-pickle' (legacy format), or ConfigError naming what the file is not."""
    with open(path, "rb") as handle:
        head = handle.read(8)
        if path.suffix == ".safetensors" or _looks_like_safetensors(handle, head):
            return "safetensors"
    if head.startswith(ZIP_MAGIC):
        return "torch-zip"
    if head[:1] and head[0] == PICKLE_PROTOCOL_OPCODE:
        return "torch-pickle"
    raise ConfigError(
        "model.checkpoint",
        f"'{path}' is not a checkpoint (neither a torch.save file nor a .safetensors file)",
        "give a state dict saved with torch.save(model.state_dict(), PATH) or safetensors' save_file",
    )


def _looks_like_safetensors(handle: Any, head: bytes) -> bool:
    if len(head) < 8:
        return False
    size = int.from_bytes(head, "little")
    if not 2 <= size <= 100_000_000:
        return False
    return handle.read(1) == b"{"


def check_checkpoint(path: Path) -> None:
    """A torch checkpoint whose pickle names no code (weights_only would refuse it at load)."""
    # Legacy pickles cannot be inspected without loading: weights_only loading refuses code in them.
    if checkpoint_kind(path) != "torch-zip":
        return
    import torch.serialization

    try:
        unsafe: List[str] = torch.serialization.get_unsafe_globals_in_checkpoint(str(path))
    except Exception as exc:  # noqa: BLE001 (a damaged zip: say so rather than crash)
        raise ConfigError(
            "model.checkpoint",
            f"'{path}' cannot be read as a torch checkpoint ({one_line(exc)})",
            "give an intact file saved with torch.save(model.state_dict(), PATH)",
        ) from exc
    if unsafe:
        raise ConfigError(
            "model.checkpoint",
            f"'{path}' is a pickle that names code ({', '.join(sorted(unsafe))}); converter loads weights only",
            "save only tensors (model.state_dict()), or convert the file to .safetensors",
        )
