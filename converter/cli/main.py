"""`python -m converter`: check the whole invocation, then let Hydra run (or sweep) the jobs.

Exit codes (converter.records.outcome, read from the files the jobs wrote): 0 every job ok, 1 a job
failed, crashed, timed out, ran out of memory or was not logged, or a nightly regressed, 2 the
config is wrong (nothing was run or written), 128 + the signal when Ctrl-C or SIGTERM stopped it
(converter.cli.interrupt).
"""

from __future__ import annotations

import os
import string
import sys
import time
from pathlib import Path
from typing import Any, List, Optional

import hydra

from converter.cli.helpers_start import start_helpers
from converter.cli.model_list import available_models, format_catalog
from converter.cli.preflight import CONF_DIR, CONFIG_NAME, compose_jobs, parse_argv, prepare_jobs, sweep_dir_override
from converter.config.schema import register_schema
from converter.errors import ConfigError
from converter.records.outcome import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, run_exit_code, sweep_exit_code
from converter.records.run_folder import SWEEP_FILE
from converter.sweep.isolation.slurm_limits import register_preset_support
from converter.sweep.task import task

register_schema()
register_preset_support()


def _register_help_resolvers(config_dirs: Optional[List[Path]] = None) -> None:
    """--help names every target's format (the exporter catalog) and the config groups a user picks
    in `config_dirs` (conf/ and --config-dir)."""
    from omegaconf import OmegaConf

    from converter.cli.model_list import config_groups_text
    from converter.exporters.formats import formats

    folders = config_dirs or [CONF_DIR]
    OmegaConf.register_new_resolver("converter_formats", formats, replace=True)
    OmegaConf.register_new_resolver("converter_config_groups", lambda: config_groups_text(folders), replace=True)


_register_help_resolvers()


def help_text() -> str:
    """--help as Hydra prints it from conf/hydra/help/converter.yaml, without composing the whole
    config first (about half a second): the template names no job value, only the resolvers above."""
    from omegaconf import OmegaConf

    template = OmegaConf.create({"hydra": {"help": OmegaConf.load(CONF_DIR / "hydra" / "help" / "converter.yaml")}})
    return string.Template(template.hydra.help.template).substitute()


hydra_entry = hydra.main(config_path=str(CONF_DIR), config_name=CONFIG_NAME, version_base="1.3")(task)


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sync"]:
        from converter.cli.sync import main as sync_main

        return sync_main(argv[1:])
    if argv[:1] == ["new"]:
        from converter.cli.new.command import main as new_main

        return new_main(argv[1:])
    if argv[:1] == ["explain"]:
        from converter.cli.explain import main as explain_main

        return explain_main(argv[1:])
    args = parse_argv(argv)
    if args.help or args.hydra_help or args.info or args.shell_completion:
        _register_help_resolvers(_config_dirs(args))
        if args.help and not args.hydra_help and not any("hydra" in o for o in args.overrides):
            print(help_text())
            return EXIT_OK
        return _run_hydra(argv)
    if not args.cfg:  # `python -m converter` started them before Hydra's import; a call of main() starts them here
        start_helpers(argv)
    from converter.cli import interrupt

    interrupt.raise_on_sigterm()
    try:
        return _main(args, argv)
    except (KeyboardInterrupt, interrupt.Interrupted) as exc:
        print(interrupt.paragraph(exc, _sweep_dir), file=sys.stderr, flush=True)
        return interrupt.exit_code(exc)
    finally:
        from converter.tracking import writer

        writer.close()


_sweep_dir: Optional[Path] = None  # the running sweep's folder, for the interruption's message


def _main(args: Any, argv: List[str]) -> int:
    try:
        if not args.cfg and not args.multirun:
            return _run_single(args)
        plan = compose_jobs(args)
        if not args.cfg and not any(job.get("model") for job in plan.jobs):
            return _print_catalog(args)
        if not args.cfg:
            prepare_jobs(plan.jobs)
    except ConfigError as exc:
        from converter.sweep.isolation import warm

        warm.discard_spare()  # no job will take it: end it now, not when this process ends
        print(exc.paragraph(), file=sys.stderr)
        return EXIT_CONFIG
    if args.cfg or not args.multirun:
        return _run_hydra(argv)
    global _sweep_dir
    _sweep_dir = plan.sweep_dir
    _write_sweep_record(plan.sweep_dir, plan.jobs, argv)
    from converter.config.hydra_private import remember_compositions

    remember_compositions()  # on since preflight composed the jobs: the sweeper takes them from it
    code = _run_hydra([*argv, sweep_dir_override(plan.sweep_dir)])
    return max(code, sweep_exit_code(plan.sweep_dir))


def _write_sweep_record(sweep_dir: Path, jobs: List[dict], argv: List[str]) -> None:
    """What the sweep will run, for the progress display, the exit code and `converter sync`."""
    from converter.records.artifacts import write_json_atomically

    record = {
        "total": len(jobs),
        "jobs": [{"model": (j.get("model") or {}).get("name"), "backend": j["export"]["backend"]} for j in jobs],
        "argv": argv,
        "pid": os.getpid(),
        "started": time.time(),
    }
    write_json_atomically(record, sweep_dir / SWEEP_FILE)


def _print_catalog(args: Any) -> int:
    dirs = _config_dirs(args)
    print(format_catalog(available_models(dirs), available_models(dirs, "tiny")))
    return EXIT_OK


def _run_single(args: Any) -> int:
    from converter.cli.single_run import run_single

    run_dir = run_single(args, task)
    if run_dir is None:
        return _print_catalog(args)
    from converter.tracking import writer

    writer.drain()  # tracking.json written: the exit code reads it
    return run_exit_code(run_dir)


def _config_dirs(args: Any) -> List[Path]:
    return [CONF_DIR] + ([Path(args.config_dir)] if args.config_dir else [])


def _run_hydra(argv: List[str]) -> int:
    saved = sys.argv
    sys.argv = [saved[0] if saved else "converter", *argv]
    try:
        hydra_entry()
    except SystemExit as exc:  # Hydra exits 1 after printing an error it caught
        if exc.code not in (None, 0):
            return EXIT_FAILED
    finally:
        sys.argv = saved
    return EXIT_OK


def main_exit() -> None:
    """Console-script entry, and `python -m converter`'s: main's exit code, without the interpreter's
    teardown when it would only free memory. Freeing the ~2,800 modules MLflow, Hydra and SQLAlchemy
    bring takes about 1.3 s here (a seventh of a cached sweep's re-run). By the time main returns
    every file is written, fsynced and renamed; the atexit handlers (logging's flush among them)
    still run first. A launcher that leaves threads or child processes (joblib's reusable workers)
    gets the full teardown, which ends them."""
    code = main()
    if _nothing_left_running():
        import atexit

        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _nothing_left_running() -> bool:
    import threading

    import psutil

    return threading.active_count() == 1 and not psutil.Process().children()
