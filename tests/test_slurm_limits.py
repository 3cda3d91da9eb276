"""converter.sweep.isolation.slurm_limits: what a job asks Slurm for follows its own limits."""

from __future__ import annotations

from converter.sweep.isolation.slurm_limits import SLURM_SLACK_MIN, cpus, memory_gb, time_limit_min


def test_memory_is_the_jobs_cap_plus_the_supervisor_rounded_up_to_whole_gib() -> None:
    assert memory_gb(3000) == 4  # 3000 + 1024 MiB
    assert memory_gb(3072) == 4 and memory_gb(3073) == 5
    assert memory_gb(None) == memory_gb("null") == 5, "no cap: 4 GiB for the job, 1 for the supervisor"


def test_the_time_limit_covers_the_job_and_every_follow_up_so_converters_own_timeout_fires_first() -> None:
    assert time_limit_min(600, "false", 3) == 10 + SLURM_SLACK_MIN
    assert time_limit_min(600, True, 3) == 40 + SLURM_SLACK_MIN
    assert time_limit_min(61, "False", 2) == 2 + SLURM_SLACK_MIN, "whole minutes, rounded up"


def test_cores_are_the_benchmarks_threads_or_one() -> None:
    assert (cpus(None), cpus("None"), cpus(4), cpus(0)) == (1, 1, 4, 1)
