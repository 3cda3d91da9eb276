"""Hydra's callback for the sweep's MLflow parent run, through converter.tracking.writer (the
functions it calls live in converter.tracking.sweep, which the writer carries out)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import OmegaConf

from converter.config.schema import TrackingConfig
from converter.tracking.job_run import PARENT_FILE
from converter.tracking.sweep import experiment_name, report_outage, sweep_name


def _jobs_run_here(config: Any) -> bool:
    """Hydra's basic launcher runs every job in this process, so their logging queues behind the
    parent run in this process's writer; other launchers' workers read its marker file themselves."""
    target = OmegaConf.select(config, "hydra.launcher._target_") or ""
    return target.endswith(".BasicLauncher")


class TrackingCallback(Callback):
    """The sweep's MLflow parent run, through converter.tracking.writer: opened at the start
    (without waiting when the jobs log from this process, after it), closed with the summary."""

    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        from converter.tracking import writer

        tracking: TrackingConfig = OmegaConf.to_object(config.tracking)
        if not tracking.enabled:
            return
        request = dict(
            tracking=writer.tracking_fields(tracking),
            sweep_dir=str(Path(config.hydra.sweep.dir)),
            sweep=sweep_name(config),
            experiment=experiment_name(config),
        )
        if _jobs_run_here(config):
            writer.submit("start_parent_run_or_report", **request)
        else:
            writer.call("start_parent_run_or_report", **request)

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        from converter.tracking import writer

        writer.drain()  # every job's run logged and its tracking.json written
        sweep_dir = Path(config.hydra.sweep.dir)
        if not (sweep_dir / PARENT_FILE).is_file():
            return
        tracking = OmegaConf.to_object(config.tracking)
        try:
            fields = writer.call(
                "finish_parent_run",
                tracking=writer.tracking_fields(tracking),
                sweep_dir=str(sweep_dir),
                status="FINISHED",
            )
        except Exception as exc:  # noqa: BLE001 (the parent stays RUNNING; sync closes it)
            report_outage("log the sweep's summary", tracking, sweep_dir, exc)
            return
        if fields is not None:
            from converter.tracking.nightly import NightlyReport

            print(f"\n{NightlyReport(**fields).markdown()}\n", flush=True)
        from converter.reporting.html_report import ui_url
        from converter.tracking.landing import print_sweep_urls

        parent = json.loads((sweep_dir / PARENT_FILE).read_text())
        print_sweep_urls(ui_url(tracking), parent["experiment_id"], parent["run_id"])
