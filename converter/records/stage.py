"""The stage a running job is in, announced in a small file the supervisor and the progress display read.

A job killed mid-stage leaves no result of its own; this file is how its record can still say
where it was and how long the finished stages took.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, Mapping, Optional

STAGE_FILE = ".stage.json"


def announce(run_dir: Path, stage: str, finished: Mapping[str, float]) -> None:
    scratch = run_dir / f"{STAGE_FILE}.tmp"
    try:
        scratch.write_text(json.dumps({"stage": stage, "finished": dict(finished), "pid": os.getpid()}))
        os.replace(scratch, run_dir / STAGE_FILE)
    except OSError:  # a full disk must not turn into a failed stage: this file is only a hint
        pass


def read(run_dir: Path) -> Dict[str, Any]:
    try:
        return json.loads((run_dir / STAGE_FILE).read_text())
    except (OSError, ValueError):
        return {}


def current(run_dir: Path) -> Optional[str]:
    return read(run_dir).get("stage")


def clear(run_dir: Path) -> None:
    """The job ended with a result of its own: nothing is running any more."""
    (run_dir / STAGE_FILE).unlink(missing_ok=True)
