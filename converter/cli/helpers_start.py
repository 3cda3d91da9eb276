"""Start the processes a job invocation runs beside the launcher, from its bare command line.

A single job's spare child imports torch (converter.sweep.isolation.warm) and the tracking writer
imports MLflow (converter.tracking.writer); each import is what a job, or a sweep re-run from the
cache, waits for at the end. `python -m converter` calls this before it imports Hydra and the
launcher (about a quarter of a second), so both start that much sooner. Reading the tokens
itself, not Hydra's parser, is what keeps it that early; where a token is unclear it starts
nothing, and the launcher's own call (converter.cli.main) decides again once Hydra parsed the line.
"""

from __future__ import annotations

from typing import Sequence

# Commands of their own, and flags after which no job runs (help, --cfg, shell completion, --info).
SUBCOMMANDS = ("sync", "new", "explain")
NO_JOB_FLAGS = frozenset(("-h", "--help", "--hydra-help", "-i", "--info", "-c", "--cfg", "-sc", "--shell-completion"))
JOB_GROUPS = ("model=", "tiny=", "bench=", "sweep=")
IN_PROCESS = ("job=inprocess", "job.isolate=false", "job.isolate=False")
TRACKING_OFF = frozenset(("tracking=off", "tracking.enabled=false", "tracking.enabled=False", "tracking.enabled=0"))


def tracking_requested(overrides: Sequence[str]) -> bool:
    """Whether the command line leaves MLflow on (a preset's YAML may still turn it off: the
    writer then only imported MLflow, beside the jobs)."""
    return not any(o.lstrip("+") in TRACKING_OFF for o in overrides)


def start_helpers(argv: Sequence[str]) -> None:
    """The spare child of a single isolated job, and the tracking writer of anything that runs
    jobs with MLflow on. Both calls are idempotent; a sweep starts its spare only once the
    preflight knows a job will run (a re-run from the job cache needs none, and its import
    would take the core the writer imports MLflow on)."""
    flags = {token.split("=", 1)[0] for token in argv if token.startswith("-")}  # --cfg=job is --cfg
    if not argv or argv[0] in SUBCOMMANDS or NO_JOB_FLAGS & flags:
        return
    overrides = [token for token in argv if not token.startswith("-")]
    if not any(o.lstrip("+").startswith(JOB_GROUPS) for o in overrides):
        return
    multirun = bool({"-m", "--multirun"} & flags)
    if not multirun and not any(o in IN_PROCESS for o in overrides):
        from converter.sweep.isolation import warm

        warm.prestart()
    if tracking_requested(overrides):
        from converter.tracking import writer

        writer.start()
