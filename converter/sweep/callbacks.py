"""Hydra callback for a sweep's own files: the live progress display while it runs, summary.md and
report.html in the sweep folder after (MLflow's parent run is converter.tracking.sweep's)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

from converter.records.run_folder import SUMMARY_FILE
from converter.reporting.summary import write_summary


class SummaryCallback(Callback):
    """Hydra callback: a progress display while the sweep runs; summary.md in the sweep folder after."""

    def __init__(self) -> None:
        self.monitor: Any = None

    def __getstate__(self) -> dict:
        # Launchers pickle the callbacks to their workers (submitit, joblib); the display stays here.
        return {"monitor": None}

    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        from converter.sweep.progress import SweepMonitor

        self.monitor = SweepMonitor(Path(config.hydra.sweep.dir), live=sys.stdout.isatty())
        self.monitor.start()

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        if self.monitor is not None:
            self.monitor.stop()
        from omegaconf import OmegaConf

        from converter.tracking import writer

        writer.drain()  # the summary names runs not logged: every job's tracking.json first

        sweep_dir = Path(config.hydra.sweep.dir)
        if sweep_dir.is_dir():
            table = write_summary(sweep_dir, OmegaConf.to_object(config.tracking))
            if table:
                print(
                    f"\nSweep summary ({sweep_dir / SUMMARY_FILE}, {sweep_dir / 'report.html'}):\n\n{table}\n",
                    flush=True,
                )
