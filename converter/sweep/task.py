"""Hydra's task function: one job, reused from the cache, run in a supervised child, recorded.

Whatever the job does (segfault, abort, exit, hang, runaway memory), this function returns
its status and leaves a result.json, so a sweep always goes on to the next job. Its files
are written under scratch names and renamed; a disk that fills while they are written fails
this job only.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

from converter.config.job_spec import JobSpec
from converter.config.schema import ConverterConfig, JobConfig, TrackingConfig
from converter.errors import Failure, one_line
from converter.records.results import JobResult, ProcessRecord, Status
from converter.records.run_folder import (
    CONFIG_FILE,
    SWEEP_FILE,
    TRACKING_FILE,
    forget_result,
    read_record,
    read_result,
    write_result,
)

log = logging.getLogger("converter")
# Supervisor verdicts whose fix (a higher job.timeout_s or job.max_memory_mb) is not tried automatically.
RESOURCE_VERDICTS = (Status.TIMEOUT.value, Status.OOM.value, Status.CRASHED.value)


def task(cfg: Any) -> str:
    """One job in the run folder Hydra made for it; returns its status."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode
    from omegaconf import OmegaConf

    from converter.config.redact import env_derived_keys

    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    env_keys = env_derived_keys(cfg)
    spec = JobSpec.of(OmegaConf.to_container(cfg, resolve=True), env_keys)  # typed once in this process
    config = spec.config
    single = hydra_cfg.mode != RunMode.MULTIRUN
    more = not single and _jobs_after(Path(hydra_cfg.sweep.dir), int(hydra_cfg.job.num)) > 0
    result = run_guarded(
        spec,
        run_dir,
        echo=sys.stdout if single else None,
        prestart_next=more,
        fresh_child=bool(hydra_cfg.job.env_set),
    )
    verify = not result.ok and result.failure is not None and bool(result.failure.fix_overrides)
    if config.tracking.enabled:  # a fix tried next reads this run's id (its follow-up's fix_of tag)
        track(config.tracking, spec.record, result, run_dir, wait=verify)
    if verify:
        result = _with_verified_fix(result, run_dir, config, hydra_cfg, env_keys)
    if single:
        first, *rest = result.headline().split("\n")
        print("\n".join([f"{first}  [{run_dir}]", *rest]), flush=True)
    return result.status


def _with_verified_fix(result: JobResult, run_dir: Path, config: Any, hydra_cfg: Any, env_keys: Any) -> JobResult:
    """The failed job's record with `failure.fix`: its fix tried as follow-up jobs (fix_verification)."""
    from converter.diagnosis.fix_verification import NOT_TRIED, FixRecord, verify_fix

    if not config.diagnosis.verify_fix:
        record = FixRecord(NOT_TRIED, "diagnosis.verify_fix=false")
    elif result.status in RESOURCE_VERDICTS:
        # A longer or bigger run of a job that hung or ran away would cost twice the limit to learn little.
        record = FixRecord(NOT_TRIED, f"a {result.status} job's fix raises a limit; it is not run automatically")
    else:
        failed_run = _run_id(run_dir)
        record = verify_fix(
            result,
            run_dir,
            list(hydra_cfg.overrides.task),
            lambda overrides: _compose_follow_up([*overrides, *_search_path(hydra_cfg)]),
            lambda job, target: _run_follow_up(job, target, failed_run, env_keys),
            config.diagnosis.max_fix_attempts,
            _config_dir(hydra_cfg),
        )
    log.info("fix %s: %s", record.verified, record.command or record.reason)
    result.failure = replace(result.failure, fix=record.to_dict())
    result = write_result(result, run_dir)
    failed_run = _run_id(run_dir)
    if config.tracking.enabled and failed_run:
        from converter.tracking import writer

        tracking = writer.tracking_fields(config.tracking)
        writer.submit("retag_fix_or_warn", tracking=tracking, run_id=failed_run, result=result.to_dict())
    return result


def _compose_follow_up(overrides: List[str]) -> Dict[str, Any]:
    """The follow-up job's config, composed and checked as the command line's jobs are."""
    from hydra import compose
    from hydra.core.hydra_config import HydraConfig

    from converter.config.composition import compose_checked, resolved_without_hydra
    from converter.job.config_checks import check_job

    cfg = compose_checked(compose, HydraConfig.get().job.config_name, overrides)
    check_job(cfg, overrides)
    return resolved_without_hydra(cfg)


def _run_follow_up(job: Dict[str, Any], run_dir: Path, failed_run: Optional[str], env_keys: Any) -> JobResult:
    job = {**job, "tracking": {**job["tracking"], "register": False}}  # advice, not a deliverable: never registered
    spec = JobSpec.of(job, env_keys)
    result = run_guarded(spec, run_dir)
    log.info("follow-up %s", result.headline().split("\n")[0])
    if spec.config.tracking.enabled:
        track(spec.config.tracking, spec.record, result, run_dir, {"fix_of": failed_run} if failed_run else None)
    return result


def _run_id(run_dir: Path) -> Optional[str]:
    from converter.records.outcome import read_json

    return read_json(run_dir / TRACKING_FILE).get("run_id")


def _search_path(hydra_cfg: Any) -> List[str]:
    """The hydra.searchpath override that --config-dir became (preflight.job_overrides)."""
    return [o for o in hydra_cfg.overrides.hydra if o.startswith("hydra.searchpath=")]


def _config_dir(hydra_cfg: Any) -> Optional[str]:
    """--config-dir, if the command line gave one (a user's own model YAMLs), for the fix's command line."""
    for override in _search_path(hydra_cfg):
        found = re.search(r"file://([^,\]]+)", override)
        if found:
            return found.group(1)
    return None


def run_guarded(spec: JobSpec, run_dir: Path, **options: Any) -> JobResult:
    """`run_supervised` that never raises: Hydra's sweeper re-raises a task's exception, which
    would end the sweep, so an error of the supervisor itself becomes this job's failure."""
    try:
        return run_supervised(spec, run_dir, **options)
    except Exception as exc:  # noqa: BLE001
        from converter.sweep.isolation.slurm import record_slurm_warning, slurm_warning

        state = slurm_warning(exc)
        if state:  # Slurm is about to end the job (time limit, preemption): say so while there is time
            return record_slurm_warning(spec.job, spec.record, run_dir, state, exc)
        return _supervisor_failure(spec.job, spec.record, run_dir, exc)


def _supervisor_failure(job: Dict[str, Any], record_config: Dict[str, Any], run_dir: Path, exc: Exception) -> JobResult:
    """The record of a job whose supervision itself failed (a full disk while reusing a cached
    result, say): the job fails, the sweep goes on."""
    from converter.job.pipeline import new_result

    log.exception("supervising the job failed")
    result = new_result(job)
    result.status = Status.FAILED.value
    result.failure = Failure.from_exception("supervise", exc)
    result.config = record_config
    result.process = ProcessRecord(isolated=bool(job["job"]["isolate"]))
    return write_result(result, run_dir)


def _jobs_after(sweep_dir: Path, number: int) -> int:
    """How many jobs of the sweep come after job `number` (sweep.json, written before launch)."""

    try:
        return int(json.loads((sweep_dir / SWEEP_FILE).read_text())["total"]) - number - 1
    except (OSError, ValueError, KeyError):
        return 0


def run_supervised(
    spec: JobSpec,
    run_dir: Path,
    echo: Optional[Any] = None,
    prestart_next: bool = False,
    fresh_child: bool = False,
) -> JobResult:
    """The job's result as written to run_dir/result.json: reused, run in a child, or run here."""
    from converter.sweep import cache

    job, settings, record_config = spec.job, spec.config.job, spec.record

    run_dir.mkdir(parents=True, exist_ok=True)
    key = cache.key_of(job)
    cache_dir = Path(settings.cache_dir)
    rejected = None
    if settings.cache:
        found = cache.lookup(cache_dir, key)
        if isinstance(found, cache.CacheHit):
            result = cache.reuse(found, run_dir)
            result.config = record_config
            log.info("reused the result of %s (job key %s…)", found.run_dir, key[:12])
            return write_result(result, run_dir)
        rejected = found.rejected
        if rejected:
            log.warning("cache entry not trusted, running the job again: %s", rejected)
    forget_result(run_dir)
    if settings.isolate:
        result = _run_in_child(spec, run_dir, echo, prestart_next, fresh_child)
    else:
        from converter.job.pipeline import run_job

        result = run_job(job, run_dir, spec.config)
        result.process = ProcessRecord(isolated=False)
    result.config, result.job_key, result.cache_rejected = record_config, key, rejected
    result = write_result(result, run_dir)
    if settings.cache and cache.cacheable(result) and result.written:
        try:
            cache.store(cache_dir, key, run_dir)
        except OSError as exc:
            log.warning("could not record the job in the cache at %s: %s", cache_dir, exc)
    return result


def _run_in_child(
    spec: JobSpec, run_dir: Path, echo: Optional[Any], prestart_next: bool, fresh_child: bool
) -> JobResult:
    from omegaconf import OmegaConf

    from converter.records.artifacts import save_atomically
    from converter.sweep.isolation.slurm import slurm_warning_deferred
    from converter.sweep.isolation.supervisor import Limits, supervise

    job, settings = spec.job, spec.config.job
    config_file = run_dir / CONFIG_FILE
    save_atomically(lambda path: path.write_text(OmegaConf.to_yaml(OmegaConf.create(job))), config_file)
    limits = Limits(settings.timeout_s, settings.max_memory_mb, settings.poll_interval_s)
    with slurm_warning_deferred() as answer_slurm_warning:
        outcome = supervise(config_file, run_dir, limits, echo, prestart_next, fresh_child, answer_slurm_warning)
    if outcome.status is None:  # the child wrote its record
        result = read_record(run_dir)
        if result is None:
            raise RuntimeError(f"the job's process in {run_dir} ended without error but left no record")
        result.process = outcome.process_record()
        return result
    from converter.job.pipeline import new_result

    result = new_result(job)
    result.status = outcome.status.value
    result.failure = _failure(outcome, settings)
    result.process = replace(outcome.process_record(), log_tail=list(outcome.log_tail))
    slurm_end = _ended_by_slurm(outcome)
    if slurm_end:
        from converter.sweep.isolation.slurm import slurm_failure

        state, minutes = slurm_end
        result.status, failure = slurm_failure(state, result.failure.stage, minutes)
        result.failure = replace(failure, traceback="\n".join(outcome.log_tail))
        result.process.slurm_state = state
    else:
        result.failure = result.failure.diagnosed(_diagnosis_of(result, spec.config, outcome.log_tail))
    result.stages = _stages_so_far(run_dir)
    return result


def _ended_by_slurm(outcome: Any) -> Optional[Any]:
    """Slurm's (state, time limit) when the child died of the signals Slurm sends a job it ends."""
    if outcome.signal not in ("SIGTERM", "SIGKILL"):
        return None
    from converter.sweep.isolation.slurm import own_slurm_end

    return own_slurm_end()


def _failure(outcome: Any, settings: JobConfig) -> Failure:
    stage = outcome.stage or "start"
    during = f"during stage '{stage}' after {outcome.seconds:.1f} s"
    if outcome.status == Status.TIMEOUT:
        kind, message = (
            "converter.sweep.isolation.Timeout",
            f"the job ran past job.timeout_s={settings.timeout_s:g} s {during} and was killed. "
            "Fix: raise job.timeout_s if it was only slow, or look at the end of convert.log for where it hangs",
        )
    elif outcome.status == Status.OOM:
        kind, message = (
            "converter.sweep.isolation.MemoryLimit",
            f"the job's processes held {outcome.peak_memory_mb:.0f} MiB, over job.max_memory_mb="
            f"{settings.max_memory_mb}, {during} and were killed. "
            "Fix: raise job.max_memory_mb, or use smaller inputs or a smaller variant (+tiny=NAME)",
        )
    elif outcome.signal and stage == "save":
        kind, message = (
            f"converter.sweep.isolation.{outcome.signal}",
            f"the job's process was killed by {outcome.signal} (exit code {outcome.returncode}) {during}. "
            "A save that dies usually means the disk filled: torch's zip writer (PyTorchStreamWriter) aborts the "
            "process when a write comes up short. Fix: free space where the run folder is, then run the job again",
        )
    elif outcome.signal:
        kind, message = (
            f"converter.sweep.isolation.{outcome.signal}",
            f"the job's process was killed by {outcome.signal} (exit code {outcome.returncode}) {during}; "
            "the Python stack at the crash is at the end of convert.log. "
            "Fix: a crash in native code; try another backend, or rerun with job.isolate=false under a debugger",
        )
    else:
        kind, message = (
            "converter.sweep.isolation.ExitWithoutResult",
            f"the job's process exited with code {outcome.returncode} without writing result.json {during} "
            "(the model's code called sys.exit or os._exit). Fix: see the end of convert.log",
        )
    return Failure(stage=stage, type=kind, message=message, traceback="\n".join(outcome.log_tail))


def _diagnosis_of(result: JobResult, config: ConverterConfig, log_tail: Any) -> Dict[str, Any]:
    from converter.diagnosis.failure_report import diagnose_record

    try:
        return diagnose_record(result, config, list(log_tail or []))
    except Exception as exc:  # noqa: BLE001 (the verdict stands without its diagnosis)
        log.warning("diagnosing the %s job failed: %s", result.status, exc)
        return {}


def _stages_so_far(run_dir: Path) -> Dict[str, float]:
    from converter.records import stage

    return dict(stage.read(run_dir).get("finished") or {})


def track(
    tracking: TrackingConfig,
    record_config: Mapping[str, Any],
    result: JobResult,
    run_dir: Path,
    extra_tags: Optional[Mapping[str, str]] = None,
    wait: bool = False,
) -> None:
    """Log the job to MLflow through the tracking writer, which writes tracking.json after (see
    converter.tracking.job_run.log_and_record). `wait`: when the next step reads its run id."""
    from converter.tracking import writer

    request = dict(
        tracking=writer.tracking_fields(tracking),
        record=dict(record_config),
        result=result.to_dict(),
        run_dir=str(run_dir),
        experiment=tracking.experiment or result.model,
        extra_tags=dict(extra_tags) if extra_tags else None,
    )
    if wait:
        writer.call("log_and_record", **request)
    else:
        writer.submit("log_and_record", **request)


def record_slurm_end(sweep_config: Any, run_dir: Path, state: str, error: Any) -> str:
    """Write the record of a job Slurm ended before its supervisor could (SIGKILL), log it; its status.
    A record the job wrote itself stands."""
    from omegaconf import OmegaConf

    from converter.config.redact import env_derived_keys
    from converter.sweep.isolation.slurm import write_slurm_record

    run_dir.mkdir(parents=True, exist_ok=True)
    own = read_result(run_dir)
    if own.get("status"):  # a record the job wrote itself stands
        return str(own["status"])
    job_cfg = OmegaConf.masked_copy(sweep_config, [k for k in sweep_config if k != "hydra"])
    spec = JobSpec.of(OmegaConf.to_container(job_cfg, resolve=True), env_derived_keys(job_cfg))
    minutes = int(getattr(getattr(sweep_config.hydra, "launcher", None), "timeout_min", 0) or 0)
    detail = one_line(error) if error else ""
    result = write_slurm_record(spec.job, spec.record, run_dir, state, state, minutes, detail)
    if spec.config.tracking.enabled:
        track(spec.config.tracking, spec.record, result, run_dir)
    return str(result.status)
