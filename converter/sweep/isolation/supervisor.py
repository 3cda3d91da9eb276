"""Run one job in a child process and say how it ended, whatever it did.

The child is `python -m converter.run_config CONFIG RUN_DIR` (the same seam a user reruns a job
with). It writes result.json itself when it ends normally; a segfault, an abort, an exit
without a result, a hang past `job.timeout_s` or memory past `job.max_memory_mb` leave none,
and `supervise` reports which, with the stage the child last announced and its log's tail.
"""

from __future__ import annotations

import collections
import itertools
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Callable, Deque, List, Optional, Sequence

from converter.records import stage
from converter.records.results import ProcessRecord, Status
from converter.records.run_folder import LOG_FILE, has_result
from converter.sweep.isolation import warm
from converter.sweep.isolation.processes import ProcessTree, signal_name, start_guardian

LOG_TAIL_LINES = 50


@dataclass(frozen=True)
class Limits:
    timeout_s: float
    max_memory_mb: Optional[float]
    poll_interval_s: float  # job.poll_interval_s (its default is the schema's)


@dataclass
class ChildOutcome:
    """What the supervisor saw. `status` is None when the child ended on its own with a result."""

    returncode: Optional[int]
    seconds: float
    peak_memory_mb: float
    status: Optional[Status] = None
    signal: Optional[str] = None
    stage: Optional[str] = None
    log_tail: List[str] = field(default_factory=list)

    def process_record(self) -> ProcessRecord:
        return ProcessRecord(
            isolated=True,
            returncode=self.returncode,
            signal=self.signal,
            seconds=round(self.seconds, 3),
            peak_memory_mb=round(self.peak_memory_mb, 1),
        )


class _Tee(threading.Thread):
    """Copies the child's merged stdout/stderr into the log file (and a console), keeping the tail."""

    def __init__(self, stream: IO[bytes], log_file: Path, echo: Optional[IO[str]], first: Sequence[bytes] = ()) -> None:
        super().__init__(daemon=True, name="converter-job-log")
        self.stream, self.log_file, self.echo, self.first = stream, log_file, echo, list(first)
        self.tail: Deque[str] = collections.deque(maxlen=LOG_TAIL_LINES)

    def run(self) -> None:
        with open(self.log_file, "ab") as log:
            for raw in itertools.chain(self.first, iter(self.stream.readline, b"")):
                log.write(raw)
                log.flush()
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self.tail.append(line)
                if self.echo is not None:
                    try:
                        print(line, file=self.echo, flush=True)
                    except (OSError, ValueError):
                        self.echo = None


def supervise(
    config_file: Path,
    run_dir: Path,
    limits: Limits,
    echo: Optional[IO[str]] = None,
    prestart_next: bool = False,
    fresh_child: bool = False,
    between_polls: Optional[Callable[[], None]] = None,
) -> ChildOutcome:
    """Run the job in its own process group; end the group however the job or this call ends.
    `prestart_next`: start the next job's spare child now, so its imports overlap this job.
    `fresh_child`: do not use a spare (the job's environment differs from the one it started with).
    `between_polls`: called while the child runs; what it raises ends the child, then propagates."""
    log_file = run_dir / LOG_FILE
    started = time.monotonic()
    child = warm.take(fresh=fresh_child)
    printed_while_waiting = warm.early_output()
    try:
        child.stdin.write(f"{config_file}\t{run_dir}\n".encode())
        child.stdin.close()
    except BrokenPipeError:  # it died while waiting; its exit is reported below like any other
        pass
    if prestart_next:
        warm.prestart()
    guardian, guardian_pipe = _guard(child.pid)
    tree = ProcessTree(child.pid, exclude={guardian.pid} if guardian else set())
    tee = _Tee(child.stdout, log_file, echo, first=printed_while_waiting)
    tee.start()
    verdict: Optional[Status] = None
    peak = 0.0
    try:
        while True:
            try:
                child.wait(timeout=limits.poll_interval_s)
                break
            except subprocess.TimeoutExpired:
                pass
            if between_polls is not None:
                between_polls()
            peak = max(peak, tree.resident_mb())
            if limits.max_memory_mb is not None and peak > limits.max_memory_mb:
                verdict = Status.OOM
                break
            if time.monotonic() - started > limits.timeout_s:
                verdict = Status.TIMEOUT
                break
    finally:
        # Whatever happened (a verdict, Ctrl-C, an error here): nothing of the job keeps running.
        tree.kill()
        child.wait()
        if guardian is not None:
            os.close(guardian_pipe)
            guardian.wait()
        tee.join(timeout=5)
    seconds = time.monotonic() - started
    outcome = ChildOutcome(
        child.returncode, seconds, peak, verdict, stage=stage.current(run_dir), log_tail=list(tee.tail)
    )
    if verdict is None and not has_result(run_dir):
        outcome.status = Status.CRASHED
        outcome.signal = signal_name(child.returncode)
    return outcome


def _guard(group: int) -> tuple:
    try:
        return start_guardian(group)
    except OSError:  # the child already exited and its group is gone: nothing left to guard
        return None, -1
