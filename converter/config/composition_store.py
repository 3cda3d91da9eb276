"""Compositions kept between invocations: a sweep run again composes none of its jobs.

Composing a job with Hydra takes 0.1 to 0.2 s here, most of what a sweep re-run from the job
cache still spends. A composition depends on the call (config name, overrides, mode), the files
on the search path, the structured configs registered in Hydra's ConfigStore, the installed
Hydra and the working directory; the key covers all of them (files by path, size and mtime), so
editing a YAML, the schema or Hydra composes afresh. Interpolations stay unresolved in a
composition, so the environment is not part of it.

The compositions are pickles in the user's cache folder, each signed with an HMAC under a key
only that user can read: a file someone else wrote, or a damaged one, is never unpickled, it
is composed again. `CONVERTER_COMPOSITION_CACHE=off` turns the store off.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle
import secrets
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence, Tuple

SWITCH = "CONVERTER_COMPOSITION_CACHE"
KEEP = 2000  # compositions kept; the oldest go first
SIGNATURE_BYTES = 32


def enabled() -> bool:
    return os.environ.get(SWITCH, "on").lower() not in ("off", "0", "false", "no")


def folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "converter" / "compositions"


def _secret() -> bytes:
    """This user's signing key, made on first use (readable by the owner only)."""
    path = folder() / "key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_bytes()
        with os.fdopen(handle, "wb") as out:
            out.write(secrets.token_bytes(32))
        return path.read_bytes()


def _files(root: Path) -> Iterator[Tuple[str, int, int]]:
    for directory, subdirectories, names in os.walk(root):
        subdirectories.sort()
        for name in sorted(names):
            if name.endswith((".pyc", ".pyo")):
                continue
            stat = os.stat(os.path.join(directory, name))
            yield os.path.relpath(os.path.join(directory, name), root), stat.st_size, stat.st_mtime_ns


def _source_root(provider_path: str) -> Optional[Path]:
    """The folder a search-path entry reads (file://DIR, pkg://PACKAGE), or None (structured://)."""
    scheme, _, where = provider_path.partition("://")
    if scheme == "file":
        return Path(where)
    if scheme == "pkg":
        import importlib.util

        try:
            spec = importlib.util.find_spec(where)
        except (ImportError, ValueError):
            return None
        locations = list(spec.submodule_search_locations or []) if spec else []
        return Path(locations[0]) if locations else None
    return None


def _config_store_digest() -> str:
    from hydra.core.config_store import ConfigStore
    from omegaconf import OmegaConf

    digest = hashlib.sha256()

    def walk(tree: dict, prefix: str) -> None:
        for name in sorted(tree):
            entry = tree[name]
            if isinstance(entry, dict):
                walk(entry, f"{prefix}{name}/")
            else:
                digest.update(f"{prefix}{name}|{entry.group}|{entry.package}|{entry.provider}\n".encode())
                digest.update(OmegaConf.to_yaml(entry.node).encode())

    walk(ConfigStore.instance().repo, "")
    return digest.hexdigest()


def sources_digest(search_path: Sequence[Tuple[str, str]]) -> str:
    """What the call's compositions read besides its arguments: every file on the search path,
    the ConfigStore's structured configs, the Hydra version and the working directory."""
    import hydra

    digest = hashlib.sha256(f"{hydra.__version__}|{os.getcwd()}|{_config_store_digest()}".encode())
    for provider, path in search_path:
        digest.update(f"{provider}|{path}\n".encode())
        root = _source_root(path)
        if root is not None and root.is_dir():
            for entry in _files(root):
                digest.update(repr(entry).encode())
    return digest.hexdigest()


def file_for(call: Any) -> Path:
    """Where the composition of `call` is kept (with the working directory and the Hydra version,
    which it also depends on); whether it is still current is checked against its sources on load."""
    import hydra

    return folder() / (hashlib.sha256(f"{call!r}|{os.getcwd()}|{hydra.__version__}".encode()).hexdigest() + ".pickle")


def load(path: Path) -> Optional[Any]:
    """The composition stored at `path`, or None when there is none or its signature is wrong."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    signature, body = data[:SIGNATURE_BYTES], data[SIGNATURE_BYTES:]
    try:
        expected = hmac.new(_secret(), body, hashlib.sha256).digest()
    except OSError:  # no key can be read or made (a read-only home): nothing stored is trusted
        return None
    if not hmac.compare_digest(signature, expected):
        return None
    try:
        return pickle.loads(body)
    except Exception:  # noqa: BLE001 (written by another version of a library: compose again)
        return None


def save(path: Path, composition: Any) -> None:
    """Store `composition` (atomically); a full disk or an unpicklable config only costs the reuse."""
    try:
        body = pickle.dumps(composition, protocol=pickle.HIGHEST_PROTOCOL)
        signed = hmac.new(_secret(), body, hashlib.sha256).digest() + body
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        scratch = path.with_name(f".{path.name}.{os.getpid()}")
        scratch.write_bytes(signed)
        os.replace(scratch, path)
        _prune(path.parent)
    except Exception:  # noqa: BLE001
        return


def _prune(where: Path) -> None:
    stored = sorted(where.glob("*.pickle"), key=lambda p: p.stat().st_mtime)
    for old in stored[: max(0, len(stored) - KEEP)]:
        old.unlink(missing_ok=True)
