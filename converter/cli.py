"""`python -m converter`: check the whole invocation, then let Hydra run (or sweep) the jobs.

Exit codes: 0 every job ok, 1 a job failed (its result.json says why), 2 the config is
wrong (nothing was run or written).
"""

from __future__ import annotations

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


@hydra.main(config_path=str(CONF_DIR), config_name=CONFIG_NAME, version_base="1.3")
def hydra_entry(cfg: DictConfig) -> str:
    """Hydra's task function: one job, in the run folder Hydra made for it."""
    from hydra.core.hydra_config import HydraConfig

    from converter.runner import run_job

    run_dir = Path(HydraConfig.get().runtime.output_dir)
    job = OmegaConf.to_container(cfg, resolve=True)
    result = run_job(job, run_dir)
    _STATUSES.append(result.status)
    print(f"{result.headline()}  [{run_dir}]", flush=True)
    return result.status


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_argv(argv)
    if args.help or args.hydra_help or args.info or args.shell_completion:
        return _run_hydra(argv)
    try:
        jobs = compose_jobs(args)
        if not args.cfg and not any(job.get("model") for job in jobs):
            dirs = _config_dirs(args)
            print(format_catalog(available_models(dirs), available_models(dirs, "tiny")))
            return EXIT_OK
        if not args.cfg:
            for job in jobs:
                check_imports(job)
    except ConfigError as exc:
        print(exc.paragraph(), file=sys.stderr)
        return EXIT_CONFIG
    return _run_hydra(argv)


def _config_dirs(args: Any) -> List[Path]:
    return [CONF_DIR] + ([Path(args.config_dir)] if args.config_dir else [])


def _run_hydra(argv: List[str]) -> int:
    _STATUSES.clear()
    saved = sys.argv
    sys.argv = [saved[0] if saved else "converter", *argv]
    try:
        hydra_entry()
    except SystemExit as exc:  # Hydra exits 1 after printing an error it caught
        if exc.code not in (None, 0):
            return EXIT_FAILED
    finally:
        sys.argv = saved
    return EXIT_FAILED if any(status != "ok" for status in _STATUSES) else EXIT_OK


def main_exit() -> None:
    """Console-script entry: `converter ...` behaves exactly like `python -m converter ...`."""
    sys.exit(main())
