"""What a running job may tell the code it calls: where its run folder is.

Registry loaders use it to keep a library's side files (settings, caches) inside the run
rather than in the user's home. None outside a job.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

_run_dir: Optional[Path] = None


def current_run_dir() -> Optional[Path]:
    return _run_dir


@contextmanager
def running_in(run_dir: Path) -> Iterator[None]:
    global _run_dir
    previous, _run_dir = _run_dir, run_dir
    try:
        yield
    finally:
        _run_dir = previous
