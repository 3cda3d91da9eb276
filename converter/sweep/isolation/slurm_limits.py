"""What a converter job asks Slurm for, derived from its own limits (conf/hydra/launcher/submitit_slurm.yaml).

Resolvers, so the preset reads `${converter_slurm_mem_gb:${job.max_memory_mb}}` and the numbers
follow the job's settings. Light: registered by the CLI before Hydra composes anything.
"""

from __future__ import annotations

import math
from typing import Any, Optional

# Memory the supervisor process needs beside the job's cap (it imports Hydra and MLflow, not torch).
SUPERVISOR_MB = 1024
# A job without a cap (job.max_memory_mb=null) still has to ask Slurm for some memory.
DEFAULT_JOB_MB = 4096
# Minutes a Slurm job needs beyond its converter jobs' own limits: start-up, cache, MLflow logging.
SLURM_SLACK_MIN = 5


def memory_gb(max_memory_mb: Optional[Any]) -> int:
    """A Slurm job's memory: the converter job's cap (job.max_memory_mb) plus the supervisor."""
    job_mb = DEFAULT_JOB_MB if max_memory_mb in (None, "None", "null") else int(max_memory_mb)
    return max(1, math.ceil((job_mb + SUPERVISOR_MB) / 1024))


def time_limit_min(timeout_s: Any, verify_fix: Any, max_fix_attempts: Any) -> int:
    """A Slurm time limit above everything the job may run: the job and, when fixes are verified,
    each follow-up job, each bounded by job.timeout_s; so converter's own timeout fires first."""
    runs = 1 + (int(max_fix_attempts) if str(verify_fix).lower() == "true" else 0)
    return math.ceil(float(timeout_s) * runs / 60) + SLURM_SLACK_MIN


def cpus(threads: Optional[Any]) -> int:
    """Cores for one job: benchmark.threads when set (a benchmark measures that many), else one."""
    return 1 if threads in (None, "None", "null") else max(1, int(threads))


def register_preset_support() -> None:
    """The preset's resolvers; and quiet Hydra's notice that a file named like the plugin's own
    config (submitit_slurm) is checked against that config: it is on purpose, so every key is typed."""
    import warnings

    from omegaconf import OmegaConf

    warnings.filterwarnings("ignore", message=r"\s*'hydra/launcher/submitit_slurm' is validated against ConfigStore")

    OmegaConf.register_new_resolver("converter_slurm_mem_gb", memory_gb, replace=True)
    OmegaConf.register_new_resolver("converter_slurm_cpus", cpus, replace=True)
    OmegaConf.register_new_resolver("converter_slurm_time_min", time_limit_min, replace=True)
