"""The record of a job that Slurm itself ended, for converter's Slurm launcher.

Inside a Slurm job, converter's supervisor isolates the model as on one machine (segfault, hang,
memory: that job's result.json says so). What it cannot record is its own end: `scancel`, the
job's time limit, a node that fails. The stock launcher then raises from `job.results()` and
the whole multirun stops before its summary. converter's launcher
(hydra_plugins/converter_launcher: Hydra loads launchers from that namespace only) waits for
every job instead, and this module writes the record of a job that Slurm ended: `timeout` or `crashed`, with Slurm's state and
the stage the job was in (from its stage file), logged to MLflow like any other job.
It never waits forever: accounting (slurmdbd) tells submitit that a job died without output.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from converter.errors import Failure
from converter.records.results import JobResult

log = logging.getLogger("converter")
# Slurm states (sacct) that mean the job ran out of its time limit; any other end is a crash.
TIMEOUT_STATES = ("TIMEOUT", "DEADLINE")
# States in which the job is not being ended (sacct's first word).
_STILL_RUNNING = ("RUNNING", "PENDING", "COMPLETING", "COMPLETED", "REQUEUED", "SUSPENDED")
# States in which slurmctld is not ending the job (scontrol's JobState).
_NOT_ENDING = ("RUNNING", "PENDING", "SUSPENDED")


def slurm_state(job: Any) -> str:
    """The state sacct gives a submitit job ("CANCELLED by 0", "TIMEOUT", ...)."""
    try:
        return str(job.state)
    except Exception:  # noqa: BLE001 (sacct unreachable: the record says so)
        return "UNKNOWN"


def this_slurm_job() -> Optional[str]:
    """This process's Slurm job as scancel and sacct name it: ARRAY_TASK for an array task
    (an array's last task shares its SLURM_JOB_ID with the whole array), else SLURM_JOB_ID."""
    array, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    return f"{array}_{task}" if array and task else os.environ.get("SLURM_JOB_ID")


def _own_accounting() -> Optional[Tuple[str, int]]:
    """(state, time limit in minutes) that sacct has for this process's own Slurm job; None outside Slurm."""
    job_id, sacct = this_slurm_job(), shutil.which("sacct")
    if not job_id or not sacct:
        return None
    try:
        shown = subprocess.run(
            [sacct, "-X", "-n", "-P", "-j", job_id, "-o", "State,TimelimitRaw"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    state, _, limit = shown.splitlines()[0].partition("|") if shown else ("", "", "")
    return state, int(limit) if limit.isdigit() else 0


def _own_control() -> Optional[Tuple[str, str]]:
    """(JobState, Reason) that slurmctld itself has for this process's job: it knows at once that
    the time limit ended a job (Reason=TimeLimit), while accounting (slurmdbd) may lag behind."""
    job_id, scontrol = this_slurm_job(), shutil.which("scontrol")
    if not job_id or not scontrol:
        return None
    try:
        shown = subprocess.run(
            [scontrol, "show", "job", "-o", job_id], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    fields = dict(f.split("=", 1) for f in shown.split() if "=" in f)
    return (fields["JobState"], fields.get("Reason", "")) if "JobState" in fields else None


def own_slurm_end(wait_s: float = 3.0, poll_s: float = 0.25, ending_wait_s: float = 20.0) -> Optional[Tuple[str, int]]:
    """(state, time limit in minutes) of the Slurm job this process runs in, when Slurm is ending it
    (CANCELLED, TIMEOUT, NODE_FAIL...); None outside Slurm or while it runs. The supervisor asks this
    when its child dies by SIGTERM or SIGKILL: scancel and the time limit signal every process of a job.

    Accounting (sacct) names the cause, but on a busy cluster it may still say RUNNING for a while;
    slurmctld (scontrol) knows a time limit at once. So both are asked: for up to `wait_s` while
    both say the job runs (then a child was killed by something else), for up to `ending_wait_s`
    while slurmctld says the job is ending and accounting has not said why. That wait costs nothing:
    the job ends anyway, and should Slurm's KillWait run out first, the launcher writes the record
    from the final accounting state (converter.sweep.task.record_slurm_end)."""
    started = time.monotonic()
    while True:
        found = _own_accounting()
        if found is None:
            return None
        state, limit = found
        if state and state.split()[0] not in _STILL_RUNNING:
            return found
        control = _own_control()
        if control and control[1] == "TimeLimit":
            return "TIMEOUT", limit
        ending = control is not None and control[0] not in _NOT_ENDING
        if time.monotonic() - started >= (ending_wait_s if ending else wait_s):
            # slurmctld ends the job (COMPLETING) and accounting never said why: not a time limit.
            return (control[0], limit) if control and ending else None
        time.sleep(poll_s)


def slurm_failure(state: str, stage_name: str, limit_min: int, detail: str = "") -> Tuple[str, Failure]:
    """(status, failure) of a job that Slurm ended in stage_name."""
    from converter.records.results import Status

    timed_out = state.split()[0] in TIMEOUT_STATES
    status = Status.TIMEOUT if timed_out else Status.CRASHED
    if timed_out:
        reason = f"the Slurm job reached its time limit ({limit_min or '?'} min, hydra.launcher.timeout_min)"
        fix = "Fix: raise hydra.launcher.timeout_min, or lower job.timeout_s so converter's own limit fires first"
    else:
        reason = "the Slurm job was ended from outside converter (scancel, a preemption or a failed node)"
        fix = "Fix: run the sweep again; finished jobs come from the cache (job.cache_dir on storage every node shares)"
    message = f"{reason}: Slurm state {state} during stage '{stage_name}'. {fix}"
    return status.value, Failure(
        stage=stage_name,
        type=f"converter.slurm.{state.split()[0]}",
        message=message,
        traceback=detail,
        category=status.value,
        hint=message,
        fix_overrides=[f"hydra.launcher.timeout_min={limit_min * 2}"] if timed_out and limit_min else [],
    )


def slurm_warning(exc: BaseException) -> Optional[str]:
    """'TIMEOUT' or 'PREEMPTED' when exc is submitit's answer to Slurm's warning signal (USR2,
    hydra.launcher.signal_delay_s before the time limit, or a preemption): the job must end now."""
    if type(exc).__name__ != "UncompletedJobError" or not os.environ.get("SLURM_JOB_ID"):
        return None
    return "TIMEOUT" if "timed-out" in str(exc) else "PREEMPTED"


@contextmanager
def slurm_warning_deferred() -> Iterator[Callable[[], None]]:
    """While a supervisor polls its child: Slurm's warning (USR2, `hydra.launcher.signal_delay_s`
    before the time limit) is only noted, and answered by the function this yields, which the
    supervisor calls between polls. submitit's own handler raises wherever the signal lands.
    Slurm sends SIGCONT with it, and submitit's SIGCONT handler logs; when USR2 lands inside that
    logging call, logging swallows the exception (seen on the local cluster: the job then ran on
    to its time limit). Answered between polls, the warning always ends the job."""
    original = signal.getsignal(signal.SIGUSR2)
    in_main_thread = threading.current_thread() is threading.main_thread()
    if not os.environ.get("SLURM_JOB_ID") or not callable(original) or not in_main_thread:
        yield lambda: None
        return
    received: List[int] = []

    def answer() -> None:
        if received:
            received.clear()
            original(signal.SIGUSR2, None)  # submitit's answer: UncompletedJobError, or a requeue

    signal.signal(signal.SIGUSR2, lambda signum, frame: received.append(signum))
    try:
        yield answer
    finally:
        signal.signal(signal.SIGUSR2, original)
        if received:  # it came after the last poll: submitit answers it as it would have
            signal.raise_signal(signal.SIGUSR2)


def record_slurm_warning(
    job: Dict[str, Any], record_config: Dict[str, Any], run_dir: Path, state: str, exc: BaseException
) -> JobResult:
    """The record of a job whose Slurm job was warned it is about to end: the supervisor has
    already ended the child (its `finally`); written while the Slurm job still has time to."""
    from converter.errors import one_line

    slurm_state = f"{state} (warned by Slurm's signal before the end)"
    return write_slurm_record(job, record_config, run_dir, state, slurm_state, time_limit_min(), one_line(exc))


def write_slurm_record(
    job: Dict[str, Any],
    record_config: Dict[str, Any],
    run_dir: Path,
    state: str,
    slurm_state: str,
    limit_min: int,
    detail: str,
) -> JobResult:
    """result.json of a job Slurm ended, from the stage file its child left."""
    from converter.job.pipeline import new_result
    from converter.records import stage
    from converter.records.results import ProcessRecord
    from converter.records.run_folder import write_result

    where = stage.read(run_dir)
    result = new_result(job)
    result.status, result.failure = slurm_failure(state, where.get("stage") or "start", limit_min, detail)
    result.stages = dict(where.get("finished") or {})
    result.config = record_config
    result.process = ProcessRecord(isolated=True, slurm_state=slurm_state)
    stage.clear(run_dir)
    log.warning("%s/%s: %s", result.model, result.backend, result.failure.message)
    return write_result(result, run_dir)


def time_limit_min() -> int:
    found = _own_accounting()
    return found[1] if found else 0
