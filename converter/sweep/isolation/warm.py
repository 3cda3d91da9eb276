"""A spare job process, started early so that its interpreter start and torch import overlap
with work the launching process does anyway (composing and checking configs, earlier jobs).

A job's child is a fresh `python -m converter.run_config` (no fork of the launching process, whose
threads make fork unsafe); most of its start-up is importing torch. The spare does that
while it waits, then reads which job to run from its stdin. It is in a process group of its
own and dies with its parent (PR_SET_PDEATHSIG); one left unused is killed at exit.

The spare also runs the preflight's import checks (`check_in_spare`): resolving a model's
`_target_`s imports torch and the model's library, which the launching process would otherwise
import only to check them, beside the spare importing the same for the job.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import threading
from typing import Any, Dict, List, Mapping, Optional, Sequence

from converter.sweep.isolation.processes import SUPERVISOR_PID_ENV

_spare: Optional[subprocess.Popen] = None
# What the spare printed before it answered a check (import warnings): its job's log starts with it.
_early_output: List[bytes] = []
CHECK_REQUEST = "check"
CHECK_REPLY = b"converter-preflight\t"
# A spare importing torch and a model library answers in seconds; one that has not after this hangs.
CHECK_TIMEOUT_S = 300.0


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
    _early_output.clear()
    return _spawn(_environment())


def early_output() -> List[bytes]:
    """The lines the taken spare printed before its job (once: the list is emptied)."""
    lines = list(_early_output)
    _early_output.clear()
    return lines


def check_in_spare(jobs: Sequence[Mapping[str, Any]], timeout_s: float = CHECK_TIMEOUT_S) -> Optional[Dict[str, str]]:
    """Have the waiting spare run the import checks of `jobs` (converter.run_config answers).
    Returns None when they passed, a ConfigError's fields (key, problem, fix) when one failed.
    Raises LookupError when there is no spare to ask or it could not answer within `timeout_s`
    (a spare that hangs is ended, so no job takes it): check here then."""
    spare = _spare
    if spare is None or spare.poll() is not None:
        raise LookupError("no spare child")
    answer: Dict[str, Any] = {}
    asker = threading.Thread(target=_ask, args=(spare, jobs, answer), daemon=True, name="converter-spare-check")
    asker.start()
    asker.join(timeout_s)
    if asker.is_alive():
        discard_spare()  # its pipe closes, which ends the reader
        asker.join(10)
        raise LookupError(f"the spare did not answer within {timeout_s:g} s")
    if "failure" in answer:
        raise LookupError(answer["failure"])
    reply = answer["reply"]
    if "unchecked" in reply:
        raise LookupError(reply["unchecked"])
    return reply.get("error")


def _ask(spare: subprocess.Popen, jobs: Sequence[Mapping[str, Any]], answer: Dict[str, Any]) -> None:
    try:
        spare.stdin.write(f"{CHECK_REQUEST}\t{json.dumps(list(jobs))}\n".encode())
        spare.stdin.flush()
        for raw in iter(spare.stdout.readline, b""):
            if raw.startswith(CHECK_REPLY):
                answer["reply"] = json.loads(raw[len(CHECK_REPLY) :])
                return
            _early_output.append(raw)
        answer["failure"] = "the spare ended before it answered"
    except (OSError, ValueError, TypeError) as exc:
        answer["failure"] = f"the spare could not answer: {exc}"


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
