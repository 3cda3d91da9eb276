"""Models that misbehave the ways third-party model code does: the isolation tests run them.

Each is a real nn.Module (or loader) that segfaults, aborts, hangs, allocates without bound,
exits, or leaves processes behind. The allocation is bounded here too (6 GiB), so a broken
memory cap fails its test rather than the machine.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch import nn

from converter.job.context import current_run_dir

PIDS_FILE = "spawned_pids.txt"


class Segfault(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ctypes.string_at(0)  # reads address 0: SIGSEGV
        return x


class Abort(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        os.abort()
        return x


class Hang(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        time.sleep(3600)
        return x


class Hog(nn.Module):
    """Holds on to 64 MiB blocks until 6 GiB (the supervisor's cap should stop it long before)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        blocks = []
        for _ in range(96):
            blocks.append(torch.ones(16 * 2**20))
            time.sleep(0.01)
        return x + len(blocks)


def exits(code: int = 3) -> nn.Module:
    sys.exit(code)


class Spawner(nn.Module):
    """Starts two `sleep` processes while loading (one in a session of its own) and never waits."""

    def __init__(self) -> None:
        super().__init__()
        stay = subprocess.Popen(["sleep", "300"])
        escape = subprocess.Popen(["sleep", "301"], start_new_session=True)
        run_dir = current_run_dir() or Path(".")
        (run_dir / PIDS_FILE).write_text(f"{stay.pid}\n{escape.pid}\n")
        time.sleep(0.5)  # long enough for the supervisor to sample the tree at least once
        self.linear = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


class Slow(nn.Module):
    """Sleeps while loading: the job a sweep is killed in the middle of."""

    def __init__(self, seconds: float = 4.0) -> None:
        super().__init__()
        time.sleep(seconds)
        self.linear = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)
