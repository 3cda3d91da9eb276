"""Ctrl-C or SIGTERM on the launcher: one paragraph and exit 128 + the signal, not a traceback.

The supervisor's `finally` has already killed the running job's process group by the time the
interruption reaches here (converter.sweep.isolation.supervisor); the tracking writer still logs
what finished (converter.cli.main closes it). What is left to say is where the work is and how
to go on from it.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any, Optional


class Interrupted(BaseException):
    """SIGTERM, raised like KeyboardInterrupt so every `finally` on the way out runs."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal_number)
        self.signal_number = signal_number


def raise_on_sigterm() -> None:
    """SIGTERM (a scheduler's cancel, `timeout`, `kill`) unwinds like Ctrl-C instead of ending the
    launcher on the spot (which left the MLflow logging of finished jobs undone)."""

    def handler(signal_number: int, frame: Any) -> None:
        raise Interrupted(signal_number)

    signal.signal(signal.SIGTERM, handler)


def signal_of(exc: BaseException) -> int:
    return exc.signal_number if isinstance(exc, Interrupted) else int(signal.SIGINT)


def exit_code(exc: BaseException) -> int:
    """128 + the signal, as a shell reports a command a signal ended (130 for Ctrl-C)."""
    return 128 + signal_of(exc)


def paragraph(exc: BaseException, sweep_dir: Optional[Path]) -> str:
    name = signal.Signals(signal_of(exc)).name
    sweep_dir = sweep_dir.resolve() if sweep_dir is not None else None
    if sweep_dir is None:
        return (
            f"Interrupted by {name}: the running job was stopped (its process group killed) and wrote no result. "
            "Fix: run the same command again."
        )
    return (
        f"Interrupted by {name}: the running job was stopped (its process group killed) and wrote no result; the "
        f"jobs that finished keep their files in {sweep_dir} (and their MLflow runs, with tracking on). Fix: run the "
        "same command again (job.cache=true, the default, reuses every job that finished); with tracking on, "
        f"`python -m converter sync {sweep_dir}` closes this sweep's MLflow parent run."
    )
