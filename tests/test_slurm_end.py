"""How a job under Slurm learns that Slurm is ending it (converter.sweep.isolation.slurm.own_slurm_end),
and why a job's child leaves Slurm's warning signal to its supervisor.

Accounting lag is a race on a busy cluster (CI saw a time limit recorded as a crash): sacct may
still say RUNNING when the job's processes already have SIGTERM. Here `sacct` and `scontrol` are
small scripts on PATH that answer like Slurm 23 does, accounting lagging for a set time, so each
order of events is reproduced exactly; the real cluster runs the whole path in test_cluster.py.
"""

from __future__ import annotations

import io
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import pytest

from converter.sweep.isolation import slurm
from tests.conftest import REPO

SACCT = """#!/bin/sh
if [ "$(date +%s%N)" -lt "$SACCT_CAUGHT_UP_NS" ]; then echo "RUNNING|2"; else echo "$SACCT_FINAL|2"; fi
"""
SCONTROL = """#!/bin/sh
echo "JobId=$4 JobName=converter UserId=root(0) JobState=$SCONTROL_STATE Reason=$SCONTROL_REASON Dependency=(null)"
"""


@pytest.fixture
def fake_slurm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name, text in (("sacct", SACCT), ("scontrol", SCONTROL)):
        program = tmp_path / name
        program.write_text(text)
        program.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("SLURM_JOB_ID", "41")
    for name in ("SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID"):
        monkeypatch.delenv(name, raising=False)

    def answer(
        lag_s: float, sacct_final: str, scontrol_state: str, scontrol_reason: str, ending_wait_s: float = 2.0
    ) -> Optional[tuple]:
        """own_slurm_end's answer when accounting says sacct_final only after lag_s seconds."""
        monkeypatch.setenv("SACCT_CAUGHT_UP_NS", str(time.time_ns() + int(lag_s * 1e9)))
        monkeypatch.setenv("SACCT_FINAL", sacct_final)
        monkeypatch.setenv("SCONTROL_STATE", scontrol_state)
        monkeypatch.setenv("SCONTROL_REASON", scontrol_reason)
        return slurm.own_slurm_end(wait_s=1.0, poll_s=0.05, ending_wait_s=ending_wait_s)

    return answer


def test_a_time_limit_is_known_from_slurmctld_while_accounting_still_says_running(fake_slurm) -> None:
    assert fake_slurm(1000, "TIMEOUT", "COMPLETING", "TimeLimit") == ("TIMEOUT", 2)


def test_a_cancel_is_named_once_accounting_catches_up(fake_slurm) -> None:
    assert fake_slurm(0.3, "CANCELLED by 0", "COMPLETING", "None") == ("CANCELLED by 0", 2)


def test_accounting_that_never_catches_up_leaves_slurmctlds_state(fake_slurm) -> None:
    started = time.monotonic()
    assert fake_slurm(1000, "CANCELLED by 0", "COMPLETING", "None") == ("COMPLETING", 2)
    assert time.monotonic() - started >= 2.0  # a job slurmctld is ending is given the longer wait


def test_a_cancel_named_late_is_still_named_while_slurmctld_says_the_job_is_ending(fake_slurm) -> None:
    """Accounting catching up after the short wait (1 s here) but inside the ending wait (10 s)."""
    assert fake_slurm(1.5, "CANCELLED by 0", "COMPLETING", "None", ending_wait_s=10.0) == ("CANCELLED by 0", 2)


def test_a_child_killed_while_the_slurm_job_runs_on_was_not_ended_by_slurm(fake_slurm) -> None:
    started = time.monotonic()
    assert fake_slurm(1000, "RUNNING", "RUNNING", "None") is None
    assert time.monotonic() - started >= 1.0  # it waited for accounting before it said so


def _ignores(pid: int, signum: int) -> bool:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigIgn:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_jobs_child_under_slurm_survives_slurms_warning_signal() -> None:
    """Slurm sends USR2 (hydra.launcher.signal_delay_s before the limit) to every process of the job.
    The supervisor records the timeout and ends the child; the child must not die of it first."""
    env = {**os.environ, "SLURM_JOB_ID": "41", "CONVERTER_SUPERVISOR_PID": str(os.getpid())}
    child = subprocess.Popen(
        [sys.executable, "-m", "converter.run_config", "--wait"],
        cwd=REPO,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not _ignores(child.pid, signal.SIGUSR2) and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _ignores(child.pid, signal.SIGUSR2), "the child never set SIGUSR2 aside"
        child.send_signal(signal.SIGUSR2)
        time.sleep(0.3)
        assert child.poll() is None, f"the child died of Slurm's warning (returncode {child.returncode})"
    finally:
        child.kill()
        child.wait()


class Warned(Exception):
    """What submitit's USR2 handler raises (UncompletedJobError) when the job cannot be requeued."""


@pytest.fixture
def submitit_like_handler(monkeypatch: pytest.MonkeyPatch):
    """A USR2 handler that raises, as submitit installs in a Slurm job's process; restored after."""
    monkeypatch.setenv("SLURM_JOB_ID", "41")

    def raising(signum, frame):
        raise Warned("timed-out and not checkpointable")

    previous = signal.signal(signal.SIGUSR2, raising)
    yield raising
    signal.signal(signal.SIGUSR2, previous)


class SignalledStream(io.StringIO):
    """A log stream during whose write Slurm's USR2 lands (submitit logs the SIGCONT sent with it)."""

    def write(self, text: str) -> int:
        os.kill(os.getpid(), signal.SIGUSR2)
        time.sleep(0.05)  # the Python handler runs here, inside logging's StreamHandler.emit
        return super().write(text)


def _log_while_signalled() -> None:
    logger = logging.getLogger("tests.slurm_end")
    handler = logging.StreamHandler(SignalledStream())
    logger.addHandler(handler)
    try:
        logger.warning("Bypassing signal SIGCONT")
    finally:
        logger.removeHandler(handler)


def test_submitits_exception_raised_inside_logging_is_lost(submitit_like_handler, capsys) -> None:
    """Why the warning is deferred: raised inside a logging call, logging swallows it."""
    _log_while_signalled()  # no Warned escapes
    assert "Warned: timed-out and not checkpointable" in capsys.readouterr().err


def test_a_deferred_warning_is_answered_between_polls_wherever_it_landed(submitit_like_handler) -> None:
    with slurm.slurm_warning_deferred() as answer:
        _log_while_signalled()  # noted only
        with pytest.raises(Warned):
            answer()
        answer()  # answered once
    assert signal.getsignal(signal.SIGUSR2) is submitit_like_handler


def test_the_supervisor_ends_its_child_when_the_warning_is_answered(
    submitit_like_handler, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psutil

    from converter.sweep.isolation.supervisor import Limits, supervise

    monkeypatch.setenv("PYTHONPATH", str(REPO))
    before = {p.pid for p in psutil.Process(os.getpid()).children(recursive=True)}
    polls = []

    with slurm.slurm_warning_deferred() as answer:

        def between_polls() -> None:
            polls.append(1)
            if len(polls) == 2:  # the warning arrives while the child still imports torch
                os.kill(os.getpid(), signal.SIGUSR2)
            answer()

        with pytest.raises(Warned):
            supervise(
                tmp_path / "config.yaml",
                tmp_path,
                Limits(timeout_s=120, max_memory_mb=None, poll_interval_s=0.05),
                between_polls=between_polls,
            )
    assert len(polls) == 2  # answered at the poll that saw it
    assert {p.pid for p in psutil.Process(os.getpid()).children(recursive=True)} - before == set()
