"""Process-group plumbing for isolated jobs: die with the parent, measure and end a job's tree.

A job's child runs in its own process group. Three layers make sure nothing of it outlives
the supervisor: the child asks the kernel for SIGKILL when its parent dies
(`prctl(PR_SET_PDEATHSIG)`); a one-line shell guardian in the same group blocks on a pipe only
the supervisor holds and kills the whole group when that pipe closes, which happens however the
supervisor ends (SIGKILL included); and the supervisor kills the group itself when the job ends.
Only processes this code started are ended, by their group or process id.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Dict, Optional, Set, Tuple

PR_SET_PDEATHSIG = 1
SUPERVISOR_PID_ENV = "CONVERTER_SUPERVISOR_PID"


def die_with_parent() -> None:
    """In a job's child: be killed when the supervisor dies (Linux), and exit at once if it already has."""
    expected = os.environ.get(SUPERVISOR_PID_ENV)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    # The supervisor may have died between fork and prctl: then our parent is already someone else.
    if expected and os.getppid() != int(expected):
        os._exit(70)


def leave_slurms_warning_to_the_supervisor() -> None:
    """In a job's child under Slurm: ignore SIGUSR2. Slurm sends its warning before the time limit
    (`hydra.launcher.signal_delay_s`) to every process of the job; the supervisor answers it (it
    records the timeout, then ends this process itself). USR2's default action would kill this
    process first, and a job that died of a signal would read as a crash."""
    if os.environ.get("SLURM_JOB_ID"):
        signal.signal(signal.SIGUSR2, signal.SIG_IGN)


def start_guardian(group: int) -> Tuple[subprocess.Popen, int]:
    """A shell in `group` that kills the group once the returned pipe's write end closes.

    The write end stays in this process only (non-inheritable), so the pipe closes exactly
    when this process ends or calls `os.close` on it: the guardian then SIGKILLs the group.
    `kill -KILL -PGID`, with no `--`: dash (Debian's /bin/sh) refuses `kill -KILL -- -PGID`.
    """
    read_end, write_end = os.pipe()
    guardian = subprocess.Popen(
        ["/bin/sh", "-c", 'read _ignored; kill -KILL "-$1" 2>/dev/null', "converter-guardian", str(group)],
        stdin=read_end,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        process_group=group,
    )
    os.close(read_end)
    return guardian, write_end


def signal_name(returncode: int) -> Optional[str]:
    """SIGSEGV for a child that returned -11; None for a normal exit."""
    if returncode >= 0:
        return None
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


@dataclass
class ProcessTree:
    """The job's child and every descendant seen while sampling, remembered by (pid, start time)
    so that a pid reused by an unrelated process is never signalled."""

    root: int
    exclude: Set[int] = field(default_factory=set)
    seen: Dict[int, float] = field(default_factory=dict)

    def resident_mb(self) -> float:
        """Resident memory of the child and all its descendants, in MiB (0 once it is gone)."""
        import psutil

        try:
            root = psutil.Process(self.root)
            members = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0.0
        total = 0
        for proc in members:
            if proc.pid in self.exclude:
                continue
            try:
                total += proc.memory_info().rss
                self.seen.setdefault(proc.pid, proc.create_time())
            except psutil.NoSuchProcess:
                continue
        return total / 2**20

    def kill(self) -> None:
        """SIGKILL the job's process group, then any descendant seen that left the group (setsid)."""
        import psutil

        try:
            os.killpg(self.root, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for pid, started in self.seen.items():
            try:
                proc = psutil.Process(pid)
                if proc.create_time() == started:
                    proc.kill()
            except psutil.NoSuchProcess:
                continue
