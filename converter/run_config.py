"""Run one job from its resolved config file alone: `python -m converter.run_config RUN_DIR/config.yaml [OUT_DIR]`.

`python -m converter.run_config --wait` imports what a job needs first, then reads "CONFIG<TAB>OUT_DIR"
from its stdin (a supervisor's prestarted spare, converter.sweep.isolation.warm). Before that line it
may be asked "check<TAB>JOBS_JSON": it runs the preflight's import checks on those jobs and
answers on stdout, so the launching process need not import torch to check them.

This is the seam for isolation: the supervisor (converter.sweep.isolation.supervisor) runs every
job this way in a child process, and a cluster node or a user reproducing a failure needs
nothing but the config.yaml a previous run left behind.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    import faulthandler

    from omegaconf import OmegaConf

    from converter.sweep.isolation.processes import (
        SUPERVISOR_PID_ENV,
        die_with_parent,
        leave_slurms_warning_to_the_supervisor,
    )

    die_with_parent()
    leave_slurms_warning_to_the_supervisor()
    faulthandler.enable()  # a segfault or abort prints the Python stack into the job's log

    from converter.config.schema import ConverterConfig, job_config
    from converter.job.pipeline import run_job

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--wait"]:
        argv = _wait_for_job()
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    config = Path(argv[0])
    if not config.is_file():
        print(f"No config file at '{config}'. Fix: give the config.yaml of a converter run folder.", file=sys.stderr)
        return 2
    out_dir = Path(argv[1]) if len(argv) > 1 else config.parent
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s][%(name)s][%(levelname)s] - %(message)s")
    # Merged onto the schema, so a hand-edited config.yaml is checked like a composed one.
    job = OmegaConf.to_container(
        OmegaConf.merge(OmegaConf.structured(ConverterConfig), OmegaConf.load(config)), resolve=True
    )
    result = run_job(job, out_dir, job_config(job))  # typed once in the child
    code = 0 if result.ok else 1
    if SUPERVISOR_PID_ENV not in os.environ:
        print(result.headline())
        return code
    # Supervised: result.json is fsynced and the supervisor prints the headline. Skip the
    # interpreter's teardown (torch's takes about a second) that nobody waits for.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _wait_for_job() -> List[str]:
    """Import what nearly every job needs, then block until the supervisor names the job."""
    import importlib

    import torch  # noqa: F401

    from converter.sweep.isolation import warm

    for optional in ("torchvision.models", "converter.exporters.torch_export", "hydra.utils"):
        try:
            importlib.import_module(optional)
        except ImportError:
            pass
    while True:
        line = sys.stdin.readline()
        if not line.strip():  # the supervisor closed the pipe: this spare is not needed
            sys.exit(0)
        fields = line.rstrip("\n").split("\t", 1)
        if fields[0] != warm.CHECK_REQUEST:
            return line.rstrip("\n").split("\t")
        _answer_check(json.loads(fields[1]))


def _answer_check(jobs: List[dict]) -> None:
    """The preflight's import checks, run here for the launching process (one reply line)."""
    from converter.cli.preflight import check_imports
    from converter.errors import ConfigError
    from converter.sweep.isolation import warm

    try:
        for job in jobs:
            check_imports(job, services=False)
        reply: dict = {"error": None}
    except ConfigError as exc:
        reply = {"error": {"key": exc.key, "problem": exc.problem, "fix": exc.fix}}
    except Exception as exc:  # not a verdict on the config: the launching process checks again itself
        reply = {"unchecked": f"{type(exc).__name__}: {exc}"}
    sys.stdout.buffer.write(warm.CHECK_REPLY + json.dumps(reply).encode() + b"\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
