"""converter.sweep.isolation.processes: a job's process tree is measured and ended whole, and only
processes this code started are ever signalled (bounded: every child sleeps 30 s at most)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil

from converter.sweep.isolation.processes import ProcessTree, signal_name, start_guardian

# A child in its own group that starts a grandchild, prints its pid, then sleeps.
TREE = (
    "import subprocess, sys, time; "
    "g = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)']); "
    "print(g.pid, flush=True); time.sleep(30)"
)


def _wait_gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.05)
    return False


def test_a_signal_is_named_and_a_normal_exit_is_none() -> None:
    assert (signal_name(-11), signal_name(-9), signal_name(0), signal_name(3)) == ("SIGSEGV", "SIGKILL", None, None)


def test_the_tree_is_measured_and_killed_with_its_grandchild() -> None:
    child = subprocess.Popen([sys.executable, "-c", TREE], stdout=subprocess.PIPE, text=True, process_group=0)
    try:
        grandchild = int(child.stdout.readline())
        tree = ProcessTree(child.pid)
        assert tree.resident_mb() > 5
        assert set(tree.seen) == {child.pid, grandchild}
        tree.kill()
        child.wait(timeout=10)
        assert _wait_gone(grandchild)
        assert tree.resident_mb() == 0.0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)


def test_the_guardian_kills_the_group_when_its_pipe_closes() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], process_group=0)
    guardian, write_end = start_guardian(child.pid)
    try:
        time.sleep(0.2)
        assert child.poll() is None
        os.close(write_end)  # as when the supervisor dies, however it dies
        assert child.wait(timeout=10) == -signal.SIGKILL
        guardian.wait(timeout=10)
    finally:
        for proc in (child, guardian):
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
