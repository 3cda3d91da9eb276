"""Writing files so that an interrupted run leaves nothing that looks complete."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable


@dataclass(frozen=True)
class ArtifactInfo:
    path: str
    size_bytes: int
    sha256: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_atomically(write: Callable[[Path], None], final: Path) -> ArtifactInfo:
    """`write` fills a file in a hidden scratch folder beside `final`, which is then renamed.

    The scratch file keeps `final`'s name, since some savers insist on a suffix (.pt2).
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        staged = scratch / final.name
        write(staged)
        os.replace(staged, final)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return ArtifactInfo(str(final), final.stat().st_size, sha256_of(final))


def write_json_atomically(data: Any, final: Path) -> None:
    def write(path: Path) -> None:
        path.write_text(json.dumps(data, indent=2, default=str, allow_nan=True) + "\n")

    save_atomically(write, final)
