"""`python -m converter`: check the whole invocation, then let Hydra run (or sweep) the jobs.

Exit codes: 0 every job ok, 1 a job failed (its result.json says why) or a nightly
regressed, 2 the config is wrong (nothing was run or written).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, List, Optional

import hydra
from omegaconf import DictConfig, OmegaConf

from converter.catalog import available_models, format_catalog
from converter.errors import ConfigError
from converter.preflight import CONF_DIR, CONFIG_NAME, check_imports, compose_jobs, parse_argv
from converter.schema import register_schema

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2
_STATUSES: List[str] = []

register_schema()


def task(cfg: DictConfig) -> str:
    """Hydra's task function: one job, in the run folder Hydra made for it."""
    from hydra.core.hydra_config import HydraConfig

    from converter.runner import run_job

    run_dir = Path(HydraConfig.get().runtime.output_dir)
    job = OmegaConf.to_container(cfg, resolve=True)
    result = run_job(job, run_dir)
    _STATUSES.append(result.status)
    print(f"{result.headline()}  [{run_dir}]", flush=True)
    if job["tracking"]["enabled"]:
        _track(job, result.to_dict(), run_dir)
    return result.status


hydra_entry = hydra.main(config_path=str(CONF_DIR), config_name=CONFIG_NAME, version_base="1.3")(task)


def _track(job: dict, result: dict, run_dir: Path) -> None:
    """Log the job to MLflow. Its files are already on disk, so a tracking failure costs the
    MLflow record only; it is reported, and the job keeps its status."""
    from converter.tracking.job import log_job

    tracking = job["tracking"]
    try:
        log_job(job, result, run_dir, tracking["experiment"] or result["model"], tracking["sweep"])
    except Exception as exc:  # noqa: BLE001 (any MLflow or network failure)
        print(
            f"Tracking error: could not log {result['model']}/{result['backend']} to MLflow at "
            f"{tracking['uri'] or 'the embedded store'} ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}). "
            f"The run's files are in {run_dir}. Fix: check tracking.uri, or run with tracking=off.",
            file=sys.stderr,
        )
        _STATUSES.append("tracking_failed")


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_argv(argv)
    if args.help or args.hydra_help or args.info or args.shell_completion:
        return _run_hydra(argv)
    try:
        if not args.cfg and not args.multirun:
            return _run_single(args)
        jobs = compose_jobs(args)
        if not args.cfg and not any(job.get("model") for job in jobs):
            return _print_catalog(args)
        if not args.cfg:
            for job in jobs:
                check_imports(job)
            os.environ["CONVERTER_SWEEP_JOBS"] = str(len(jobs))
    except ConfigError as exc:
        print(exc.paragraph(), file=sys.stderr)
        return EXIT_CONFIG
    return _run_hydra(argv)


def _print_catalog(args: Any) -> int:
    dirs = _config_dirs(args)
    print(format_catalog(available_models(dirs), available_models(dirs, "tiny")))
    return EXIT_OK


def _run_single(args: Any) -> int:
    from converter.single_run import run_single

    _STATUSES.clear()
    code = run_single(args, task, lambda: _print_catalog(args))
    if code is not None:
        return code
    return EXIT_FAILED if any(status != "ok" for status in _STATUSES) else EXIT_OK


def _config_dirs(args: Any) -> List[Path]:
    return [CONF_DIR] + ([Path(args.config_dir)] if args.config_dir else [])


def _run_hydra(argv: List[str]) -> int:
    from converter.summary import SWEEP_STATUSES
    from converter.tracking.sweep import REGRESSED

    for collected in (_STATUSES, SWEEP_STATUSES, REGRESSED):
        collected.clear()
    saved = sys.argv
    sys.argv = [saved[0] if saved else "converter", *argv]
    try:
        hydra_entry()
    except SystemExit as exc:  # Hydra exits 1 after printing an error it caught
        if exc.code not in (None, 0):
            return EXIT_FAILED
    finally:
        sys.argv = saved
    statuses = _STATUSES + SWEEP_STATUSES
    return EXIT_FAILED if REGRESSED or any(status != "ok" for status in statuses) else EXIT_OK


def main_exit() -> None:
    """Console-script entry: `converter ...` behaves exactly like `python -m converter ...`."""
    sys.exit(main())
