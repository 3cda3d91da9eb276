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
    """Of a file's bytes; of a folder artifact (a Core ML .mlpackage), of every file's relative
    path and bytes in sorted order, so a renamed, changed, added or missing file changes it."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode() + b"\0")
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def size_of(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


class ArtifactIntegrityError(Exception):
    """An artifact on disk no longer has the sha256 recorded when it was written."""


def verify(path: Path, expected_sha256: str) -> None:
    if not path.exists():  # a file, or a folder artifact (.mlpackage, .openvino)
        raise ArtifactIntegrityError(f"the artifact {path} is gone (it was recorded with sha256 {expected_sha256})")
    found = sha256_of(path)
    if found != expected_sha256:
        raise ArtifactIntegrityError(
            f"the artifact {path} has sha256 {found}, not the {expected_sha256} recorded when it was written: "
            "it was truncated or altered since. Fix: run the job again (job.cache=false) to rewrite it"
        )


def _fsync_dir(folder: Path) -> None:
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def save_atomically(write: Callable[[Path], None], final: Path) -> ArtifactInfo:
    """`write` fills a file in a hidden scratch folder beside `final`; it is fsynced, then renamed.

    The scratch file keeps `final`'s name, since some savers insist on a suffix (.pt2). A write
    that fails (a full disk) leaves neither the scratch folder nor a partial `final`.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        staged = scratch / final.name
        write(staged)
        for file in staged.rglob("*") if staged.is_dir() else [staged]:
            if file.is_file():
                with open(file, "rb+") as handle:
                    os.fsync(handle.fileno())
        if staged.is_dir() and final.is_dir():  # a folder artifact replaces an older one whole
            shutil.rmtree(final)
        os.replace(staged, final)
        _fsync_dir(final.parent)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return ArtifactInfo(str(final), size_of(final), sha256_of(final))


def write_json_atomically(data: Any, final: Path) -> None:
    def write(path: Path) -> None:
        path.write_text(json.dumps(data, indent=2, default=str, allow_nan=True) + "\n")

    save_atomically(write, final)


def write_text_atomically(text: str, final: Path) -> None:
    save_atomically(lambda staged: staged.write_text(text), final)
