"""One job without `--multirun`, composed once.

`@hydra.main` composes the config three times (to pick the mode, to run, for logging), and
the preflight check a fourth: most of the harness's start-up cost on a small model. A single
run does what Hydra's own `Hydra.run` does, with the one composition the checks also use:
the same run folder, logging, `.hydra/` files and callbacks, through Hydra's plugin API
(`hydra.core.utils.run_job`, as launchers call it).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Callable, Optional

from converter.cli.preflight import CONF_DIR, CONFIG_NAME, job_overrides, prepare_jobs
from converter.config.composition import compose_checked
from converter.config.schema import register_schema
from converter.job.config_checks import check_job


def run_single(args: argparse.Namespace, task: Callable[[Any], Any]) -> Optional[Path]:
    """Compose, check (ConfigError before anything is written), run. Returns the job's run
    folder, or None when no model is selected (nothing runs)."""
    from hydra import initialize_config_dir
    from hydra.core.utils import run_job
    from hydra.types import HydraContext, RunMode

    from converter.config.hydra_private import callbacks as hydra_callbacks
    from converter.config.hydra_private import compose_for_run, current_app

    register_schema()
    config_name = args.config_name or CONFIG_NAME
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3", job_name="convert"):
        app = current_app()
        overrides = job_overrides(args)
        cfg = compose_checked(compose_for_run(app), config_name, overrides, hydra=True)
        job = check_job(cfg, overrides)
        if not job.get("model"):
            return None
        prepare_jobs([job])
        if cfg.hydra.mode is None:
            cfg.hydra.mode = RunMode.RUN
        callbacks = hydra_callbacks(cfg)
        callbacks.on_run_start(config=cfg, config_name=config_name)
        context = HydraContext(config_loader=app.config_loader, callbacks=callbacks)
        ret = run_job(
            hydra_context=context, task_function=task, config=cfg, job_dir_key="hydra.run.dir", job_subdir_key=None
        )
        callbacks.on_run_end(config=cfg, config_name=config_name, job_return=ret)
        _ = ret.return_value  # re-raises what the task raised, as Hydra.run does
        return Path(ret.hydra_cfg.hydra.runtime.output_dir)
