"""A spare job process, started early so that its interpreter start and torch import overlap
with work the launching process does anyway (composing and checking configs, earlier jobs).

A job's child is a fresh `python -m converter.run_config` (no fork of the launching process, whose
threads make fork unsafe); most of its start-up is importing torch. The spare does that
while it waits, then reads which job to run from its stdin. It is in a process group of its
own and dies with its parent (PR_SET_PDEATHSIG); one left unused is killed at exit.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
from typing import Dict, Optional

from converter.isolation.processes import SUPERVISOR_PID_ENV

_spare: Optional[subprocess.Popen] = None


def _environment() -> Dict[str, str]:
    return dict(os.environ, **{SUPERVISOR_PID_ENV: str(os.getpid()), "PYTHONUNBUFFERED": "1"})


def _spawn(env: Dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-X", "faulthandler", "-m", "converter.run_config", "--wait"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        process_group=0,
    )


def prestart() -> None:
    """Start a spare if there is none (called where the next job's child will soon be needed)."""
    global _spare
    if _spare is not None and _spare.poll() is None:
        return
    _spare = _spawn(_environment())


def take(fresh: bool = False) -> subprocess.Popen:
    """A child waiting for its job: the spare if it is alive, else a new one. `fresh`: the job
    sets environment variables (hydra.job.env_set) the spare was started without."""
    global _spare
    spare, _spare = _spare, None
    if spare is not None and spare.poll() is None and not fresh:
        return spare
    if spare is not None:
        _discard(spare)
    return _spawn(_environment())


def _discard(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


@atexit.register
def discard_spare() -> None:
    global _spare
    if _spare is not None:
        _discard(_spare)
        _spare = None
