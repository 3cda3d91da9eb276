"""Job keys and the result cache: a job whose inputs have not changed is not run again.

The key is a sha256 over everything that decides a job's outcome: the resolved config
(without where it is written or logged), the source of every project module its
`_target_`s and patches come from (and the project modules those import), converter's
own source, and the versions of Python, torch and the model's library. An `ok` result, an
export failure or a validation failure is indexed under `job.cache_dir`: each is as
deterministic as the other (the same artifact against the same seeded inputs and tolerances;
a validation that passes is reused, so one that fails is too). A crash, a timeout or an OOM,
which depend on the machine's state, never is. A reused artifact is trusted only if its sha256
still matches the one recorded when it was written.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import json
import os
import shutil
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Set

from converter.records.artifacts import sha256_of, write_json_atomically
from converter.records.results import JobResult, Status
from converter.records.run_folder import BENCH_CHART, BENCH_FILE, GRAPH_FILE, OPERATORS_FILE, read_record

ENGINE_DIR = Path(__file__).resolve().parents[1]
# Sections that say how a job runs or where it is recorded, not what it computes.
NOT_IN_KEY = ("job", "tracking", "security", "diagnosis")
# Files of the earlier run folder copied beside the reused result (the artifact is linked).
COPIED_FILES = (BENCH_FILE, BENCH_CHART, GRAPH_FILE, OPERATORS_FILE)
CACHEABLE_FAILED_STAGES = ("export", "validate")


def _targets(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in ("_target_", "target", "replacement") and isinstance(item, str):
                yield item
            else:
                yield from _targets(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _targets(item)


def _module_file(dotted: str) -> Optional[Path]:
    """The source file of the longest module prefix of `dotted`, found without importing anything
    (importlib.util.find_spec on a submodule would import its parents, and so torch)."""
    from importlib.machinery import PathFinder

    parts = dotted.split(".")
    try:
        spec = importlib.util.find_spec(parts[0])  # a top-level name is found, not imported
    except (ImportError, ValueError):
        return None
    for depth in range(1, len(parts)):
        locations = spec.submodule_search_locations if spec is not None else None
        if not locations:
            break
        child = PathFinder.find_spec(".".join(parts[: depth + 1]), list(locations))
        if child is None:
            break
        spec = child
    if spec is not None and spec.origin and spec.origin.endswith(".py"):
        return Path(spec.origin)
    return None


def _is_installed_library(path: Path) -> bool:
    return any(part in ("site-packages", "dist-packages") for part in path.parts)


def _project_imports(path: Path, top: str) -> Iterator[str]:
    """Modules of the same top-level package that `path` imports (absolute or relative)."""
    try:
        tree = ast.parse(path.read_text())
    except (OSError, SyntaxError):
        return
    package = _package_of(path, top)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name.split(".")[0] == top)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: max(len(package.split(".")) - node.level + 1, 0)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] == top:
                yield module
                yield from (f"{module}.{alias.name}" for alias in node.names)


def _package_of(path: Path, top: str) -> str:
    parts = list(path.with_suffix("").parts)
    start = len(parts) - 1 - parts[::-1].index(top) if top in parts else len(parts) - 1
    dotted = parts[start:]
    return ".".join(dotted[:-1] if dotted[-1] != "__init__" else dotted[:-1])


def project_sources(targets: List[str]) -> Dict[str, str]:
    """sha256 of each project (not installed-library) source file the targets reach."""
    digests: Dict[str, str] = {}
    pending = list(targets)
    visited: Set[str] = set()
    while pending and len(visited) < 500:
        dotted = pending.pop()
        if dotted in visited:
            continue
        visited.add(dotted)
        path = _module_file(dotted)
        if path is None or _is_installed_library(path) or str(path) in digests:
            continue
        digests[str(path)] = sha256_of(path)  # small, and edited in place: always read
        pending.extend(_project_imports(path, dotted.split(".")[0]))
    return dict(sorted(digests.items()))


def _file_digest(path: Path) -> str:
    """sha256 of a file, computed once per process for a given size and mtime: preflight and the
    task both look a job up, and hashing a multi-GB artifact or checkpoint twice is not free."""
    stat = path.stat()
    return _digest_of(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _digest_of(path: str, size: int, mtime_ns: int) -> str:
    return sha256_of(Path(path))


@functools.lru_cache(maxsize=1)
def engine_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(ENGINE_DIR.rglob("*.py")):
        digest.update(str(path.relative_to(ENGINE_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def job_key(job: Mapping[str, Any], library_versions: Mapping[str, str]) -> str:
    """sha256 of what decides the job's outcome (see the module docstring). Imports nothing."""
    config = {k: v for k, v in job.items() if k not in NOT_IN_KEY and k != "hydra"}
    checkpoint = ((job.get("model") or {}).get("checkpoint")) or None
    payload = {
        "config": config,
        # The checkpoint's bytes, not just its path: new weights under the same name are a new job.
        "checkpoint": _file_digest(Path(checkpoint).expanduser()) if checkpoint else None,
        "sources": project_sources(sorted(set(_targets(job.get("model") or {})))),
        "engine": engine_digest(),
        "versions": dict(sorted(library_versions.items())),
        "platform": sys.platform,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def key_of(job: Mapping[str, Any]) -> str:
    """The job's key, with the versions it depends on read from installed metadata."""
    from converter.job.environment import versions
    from converter.job.pipeline import library_of

    model = job["model"]
    return job_key(job, versions(library_of(model.get("library"), model["loader"]["_target_"])))


def would_reuse(job: Mapping[str, Any]) -> bool:
    """Whether the job will come from the cache (so checks its earlier run already passed can be skipped)."""
    settings = job.get("job") or {}
    if not settings.get("cache") or not job.get("model"):
        return False
    return isinstance(lookup(Path(settings["cache_dir"]), key_of(job)), CacheHit)


def cacheable(result: JobResult) -> bool:
    if result.status == Status.OK:
        return True
    return (
        result.status == Status.FAILED
        and result.failure is not None
        and result.failure.stage in CACHEABLE_FAILED_STAGES
    )


@dataclass(frozen=True)
class CacheHit:
    run_dir: Path
    result: JobResult


@dataclass(frozen=True)
class CacheMiss:
    # Why an entry that existed was not trusted (None: there was no entry).
    rejected: Optional[str] = None


def lookup(cache_dir: Path, key: str) -> CacheHit | CacheMiss:
    entry = cache_dir / f"{key}.json"
    try:
        run_dir = Path(json.loads(entry.read_text())["run_dir"])
    except (OSError, ValueError, KeyError):
        return CacheMiss()
    try:
        result = read_record(run_dir)
    except ValueError as exc:
        return CacheMiss(f"the cached result is not one this converter can read ({exc})")
    if result is None:
        return CacheMiss()
    if result.job_key != key or not cacheable(result):
        return CacheMiss(f"the cached result in {run_dir} no longer matches its entry")
    artifact = result.artifact
    if artifact:
        path = Path(artifact.path)
        if not path.is_file():
            return CacheMiss(f"the cached artifact {path} is gone")
        found = _file_digest(path)
        if found != artifact.sha256:
            return CacheMiss(
                f"the cached artifact {path} has sha256 {found[:12]}…, not the recorded {artifact.sha256[:12]}… "
                "(truncated or altered since it was written)"
            )
    return CacheHit(run_dir, result)


def store(cache_dir: Path, key: str, run_dir: Path) -> None:
    cache_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomically({"run_dir": str(run_dir.resolve()), "key": key}, cache_dir / f"{key}.json")


def reuse(hit: CacheHit, run_dir: Path) -> JobResult:
    """The earlier result, re-homed in `run_dir`: its artifact linked (or copied) and its files copied."""
    run_dir.mkdir(parents=True, exist_ok=True)
    for name in COPIED_FILES:
        if (hit.run_dir / name).is_file():
            shutil.copy2(hit.run_dir / name, run_dir / name)
    artifact = hit.result.artifact
    if artifact:
        source = Path(artifact.path)
        target = run_dir / source.name
        _link_or_copy(source, target)
        artifact = replace(artifact, path=str(target))
    return replace(hit.result, artifact=artifact, cached=True, cached_from=str(hit.run_dir))


def _link_or_copy(source: Path, target: Path) -> None:
    scratch = target.with_name(f".{target.name}.link")
    try:
        os.link(source, scratch)
    except OSError:
        shutil.copy2(source, scratch)
    os.replace(scratch, target)
