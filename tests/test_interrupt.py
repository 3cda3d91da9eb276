"""converter/cli/interrupt.py: what the launcher says when Ctrl-C or SIGTERM stops it (the sweep
case runs for real in test_isolation.py)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from converter.cli import interrupt


def test_sigterm_exits_143_and_ctrl_c_130() -> None:
    assert interrupt.exit_code(interrupt.Interrupted(signal.SIGTERM)) == 143
    assert interrupt.exit_code(KeyboardInterrupt()) == 130


def test_a_single_run_is_told_to_run_again(tmp_path: Path) -> None:
    assert interrupt.paragraph(KeyboardInterrupt(), None) == (
        "Interrupted by SIGINT: the running job was stopped (its process group killed) and wrote no result. "
        "Fix: run the same command again."
    )
    assert f"keep their files in {tmp_path.resolve()} " in interrupt.paragraph(KeyboardInterrupt(), tmp_path)


def test_sigterm_is_raised_where_the_launcher_is() -> None:
    previous = signal.getsignal(signal.SIGTERM)
    try:
        interrupt.raise_on_sigterm()
        with pytest.raises(interrupt.Interrupted) as raised:
            os.kill(os.getpid(), signal.SIGTERM)  # the handler runs before the next line
        assert raised.value.signal_number == signal.SIGTERM
    finally:
        signal.signal(signal.SIGTERM, previous)
