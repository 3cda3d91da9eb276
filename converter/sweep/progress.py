"""A sweep's progress, read from its folder: live in a terminal, one line per job otherwise.

Jobs may run in this process, in joblib workers or on cluster nodes; all of them write
result.json when they end and `.stage.json` while they run, so a thread in the launching
process can watch the folder the same way whatever the launcher.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, TextIO

from converter.records import stage
from converter.records.outcome import job_dirs, read_json
from converter.records.results import Status
from converter.records.run_folder import SWEEP_FILE, read_result

COUNTED = tuple(Status)


@dataclass
class Snapshot:
    total: Optional[int]
    finished: List[Dict[str, Any]] = field(default_factory=list)
    running: List[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    def counts(self) -> Dict[str, int]:
        counts = {status: 0 for status in COUNTED}
        for result in self.finished:
            counts[result["status"]] = counts.get(result["status"], 0) + 1
        counts["cached"] = sum(1 for r in self.finished if r.get("cached"))
        return counts

    def eta_s(self) -> Optional[float]:
        done = len(self.finished)
        if not done or not self.total or done >= self.total:
            return None
        return self.elapsed_s / done * (self.total - done)

    def line(self) -> str:
        counts = self.counts()
        figures = " · ".join(f"{name} {counts[name]}" for name in (*COUNTED, "cached"))
        eta = self.eta_s()
        timing = f"{_clock(self.elapsed_s)} elapsed" + (f", ~{_clock(eta)} left" if eta is not None else "")
        running = f" · running: {', '.join(self.running)}" if self.running else ""
        return f"sweep {len(self.finished)}/{self.total or '?'} done · {figures} · {timing}{running}"


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def job_label(result: Dict[str, Any]) -> str:
    return f"{result.get('model')}/{result.get('backend')}"


class SweepMonitor(threading.Thread):
    """Watches `sweep_dir` until stopped; `live` draws a rich display, else prints a line per finished job."""

    def __init__(self, sweep_dir: Path, live: bool, out: Optional[TextIO] = None, interval_s: float = 0.5) -> None:
        super().__init__(daemon=True, name="converter-sweep-progress")
        # sys.stdout as it is now, not as it was when this module was imported (a redirect since counts).
        self.sweep_dir, self.live, self.out, self.interval_s = sweep_dir, live, out or sys.stdout, interval_s
        self.started = time.monotonic()
        self._stop_event = threading.Event()
        self._results: Dict[str, Dict[str, Any]] = {}
        self._printed: List[str] = []

    def snapshot(self) -> Snapshot:
        record = read_json(self.sweep_dir / SWEEP_FILE)
        snap = Snapshot(total=record.get("total"), elapsed_s=time.monotonic() - self.started)
        for job_dir in job_dirs(self.sweep_dir):
            if job_dir.name not in self._results:
                result = read_result(job_dir)
                if "status" in result:
                    self._results[job_dir.name] = result
            if job_dir.name in self._results:
                snap.finished.append(self._results[job_dir.name])
            else:
                current = stage.current(job_dir)
                if current:
                    snap.running.append(f"{job_dir.name.split('-', 1)[-1]} [{current}]")
        return snap

    def _print_new(self, snap: Snapshot) -> None:
        for name, result in self._results.items():
            if name in self._printed:
                continue
            self._printed.append(name)
            cached = " (cached)" if result.get("cached") else ""
            print(
                f"[sweep {len(self._printed)}/{snap.total or '?'}] {job_label(result)}: {result['status']}{cached}",
                file=self.out,
                flush=True,
            )

    def run(self) -> None:
        if not self.live:
            while not self._stop_event.wait(self.interval_s):
                self._print_new(self.snapshot())
            return
        from rich.console import Console
        from rich.live import Live

        with Live(
            self.snapshot().line(), console=Console(file=self.out), refresh_per_second=4, transient=False
        ) as live:
            while not self._stop_event.wait(self.interval_s):
                live.update(self.snapshot().line())
            live.update(self.snapshot().line())

    def stop(self) -> Snapshot:
        """Stop watching; the final state (every finished job printed in plain mode)."""
        self._stop_event.set()
        self.join(timeout=10)
        snap = self.snapshot()
        if not self.live:
            self._print_new(snap)
        return snap
