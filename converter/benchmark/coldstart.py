"""Load an artifact in a fresh process and report the seconds:
`python -m converter.benchmark.coldstart BACKEND PATH DEVICE SHA256 [LIBRARY]`.

LIBRARY names the model library whose output types the artifact holds (transformers' caches in
a torch.export program's output spec): a deployment that loads it has that library too.

Prints one JSON line: import_s (torch and the loader), load_s (reading the artifact).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Optional


def main() -> int:
    started = time.perf_counter()
    backend, path, device, sha256 = sys.argv[1:5]
    library = sys.argv[5] if len(sys.argv) > 5 else None
    import torch  # noqa: F401

    from converter.exporters import get_exporter
    from converter.records.artifacts import verify
    from converter.tensors.library_types import types_registered

    exporter = get_exporter(backend)
    imported = time.perf_counter()
    verify(Path(path), sha256)  # outside load_s: what is timed is the load a deployment does
    verified = time.perf_counter()
    with types_registered([library]):
        exporter.load(Path(path), device)
    loaded = time.perf_counter()
    print(json.dumps({"import_s": imported - started, "load_s": loaded - verified}))
    return 0


def measure_cold_start(
    backend: str, path: Path, device: str, sha256: str, library: Optional[str] = None
) -> Dict[str, float]:
    """Whole-process wall seconds too, so interpreter start-up is in the figure a user feels."""
    start = time.perf_counter()
    command = [
        sys.executable,
        "-W",
        "ignore",
        "-m",
        "converter.benchmark.coldstart",
        backend,
        str(path),
        device,
        sha256,
    ]
    proc = subprocess.run(
        command + ([library] if library else []),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        raise RuntimeError(f"cold-start load failed: {lines[-1] if lines else f'exit code {proc.returncode}'}")
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    return {**figures, "process_s": time.perf_counter() - start}


if __name__ == "__main__":
    sys.exit(main())
