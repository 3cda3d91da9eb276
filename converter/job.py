"""Run one job from its resolved config file alone: `python -m converter.job RUN_DIR/config.yaml [OUT_DIR]`.

This is the seam for isolation: the supervisor (converter.isolation.supervisor) runs every
job this way in a child process, and a cluster node or a user reproducing a failure needs
nothing but the config.yaml a previous run left behind.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    import faulthandler

    from omegaconf import OmegaConf

    from converter.isolation.processes import SUPERVISOR_PID_ENV, die_with_parent

    die_with_parent()
    faulthandler.enable()  # a segfault or abort prints the Python stack into the job's log

    from converter.runner import run_job
    from converter.schema import ConverterConfig

    argv = list(sys.argv[1:] if argv is None else argv)
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
    result = run_job(job, out_dir)
    if SUPERVISOR_PID_ENV not in os.environ:  # a supervisor prints the headline itself
        print(result.headline())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
