"""Versions worth recording next to every artifact."""

from __future__ import annotations

import functools
import platform
from importlib import metadata
from typing import Dict, Optional


@functools.lru_cache(maxsize=1)
def _distributions() -> Dict[str, list]:
    """Scanning every installed distribution's file list takes a while: once per process."""
    return metadata.packages_distributions()


def distribution_of(package: str) -> Optional[str]:
    """The installed distribution providing top-level `package` (segment_anything -> segment-anything)."""
    names = _distributions().get(package)
    return names[0] if names else None


def versions(library: Optional[str]) -> Dict[str, str]:
    found = {"python": platform.python_version()}
    for name in ("torch", library):
        if not name:
            continue
        dist = name if _has(name) else distribution_of(name)
        if dist and _has(dist):
            found[dist] = metadata.version(dist)
    return found


def _has(dist: str) -> bool:
    try:
        metadata.version(dist)
    except metadata.PackageNotFoundError:
        return False
    return True
