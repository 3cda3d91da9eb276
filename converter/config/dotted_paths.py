"""Resolving dotted import paths named in configs, with errors that name the key."""

from __future__ import annotations

from typing import Any


def resolve(path: str, key: str) -> Any:
    """Import the object at `path` ("package.module.attr"); ConfigError naming `key` if absent."""
    from converter.config.hydra_private import locate as _locate
    from converter.errors import ConfigError, one_line

    if not isinstance(path, str) or not path.strip():
        raise ConfigError(key, f"expected a dotted import path, got {path!r}", "write 'package.module.name'")
    try:
        return _locate(path)
    except Exception as exc:  # _locate raises ImportError for both missing modules and attributes
        cause = exc.__cause__ or exc
        raise ConfigError(
            key,
            f"'{path}' does not resolve ({one_line(cause)})",
            "check the spelling, and that the package providing it is installed in this environment",
        ) from exc


def top_package(path: str) -> str:
    return path.split(".", 1)[0]
