"""Log one finished job to MLflow: params, metrics, tags and the run folder's files."""

from __future__ import annotations

import functools
import json
import logging
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

from converter.config.schema import TrackingConfig
from converter.records.run_folder import (
    BENCH_CHART,
    BENCH_FILE,
    CONFIG_FILE,
    GRAPH_FILE,
    LOG_FILE,
    OPERATORS_FILE,
    RESULT_FILE,
)
from converter.tracking.store import client_and_experiment, git_commit

log = logging.getLogger("converter")
PARENT_FILE = ".mlflow_parent.json"
RUN_FILES = (
    CONFIG_FILE,
    RESULT_FILE,
    BENCH_FILE,
    BENCH_CHART,
    LOG_FILE,
    GRAPH_FILE,
    OPERATORS_FILE,
    "draft_report.txt",
)
MAX_PARAM_LENGTH = 500


def flatten(value: Any, prefix: str = "") -> Iterator[Tuple[str, Any]]:
    """Dotted keys of a nested config: model.inputs.x.shape -> [2, 3, 224, 224]."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from flatten(item, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def metric_key(text: str) -> str:
    return "".join(c if c.isalnum() or c in "_-./ " else "_" for c in text)


def job_metrics(result: Mapping[str, Any], bench: Optional[Mapping[str, Any]]) -> Dict[str, float]:
    metrics = {f"stage/{name}_s": seconds for name, seconds in result["stages"].items()}
    validation = result.get("validation") or {}
    outputs = validation.get("outputs") or {}
    if outputs:
        metrics["validation/max_abs_error"] = max(o["max_abs_error"] for o in outputs.values())
        metrics["validation/max_rel_error"] = max(o["max_rel_error"] for o in outputs.values())
    if validation.get("atol") is not None:  # a reduced precision's is measured per job: worth a chart
        metrics["validation/atol"] = validation["atol"]
    if validation.get("precision_reference"):
        metrics["validation/eager_max_abs_error_at_precision"] = validation["precision_reference"][
            "eager_max_abs_error"
        ]
    if result.get("artifact"):
        metrics["artifact_size_mb"] = result["artifact"]["size_bytes"] / 2**20
    if (result.get("export_info") or {}).get("compile_s") is not None:
        metrics["export/compile_s"] = result["export_info"]["compile_s"]
    for name, value in (result.get("graph") or {}).items():
        if name != "operators" and value is not None:  # the histogram stays in result.json
            metrics[f"graph/{name}"] = len(value) if isinstance(value, list) else value
    for number, case in enumerate((bench or {}).get("cases", [])):
        label = metric_key("_".join(f"{k}{v}" for k, v in case["sizes"].items()) or "example")
        for who, stats in case["latency_s"].items():
            for figure in ("p50", "p90", "p99", "mean", "std"):
                metrics[f"benchmark/{label}/{who}_{figure}_ms"] = stats[figure] * 1000
            metrics[f"benchmark/{label}/{who}_cv"] = stats["cv"]
            metrics[f"benchmark/{label}/{who}_items_per_s"] = case["throughput_items_per_s"][who]
            for key in ("achieved_gflops", "fraction_of_peak", "peak_memory_mb"):
                if (case.get(key) or {}).get(who) is not None:
                    metrics[f"benchmark/{label}/{who}_{key}"] = case[key][who]
        metrics[f"benchmark/{label}/speedup"] = case["speedup"]["ratio"]
        metrics[f"benchmark/{label}/speedup_low"] = case["speedup"]["low"]
        metrics[f"benchmark/{label}/speedup_high"] = case["speedup"]["high"]
        if number == 0:  # headline columns for the run table and searches like metrics.speedup < 1
            metrics["speedup"] = case["speedup"]["ratio"]
            metrics["artifact_p50_ms"] = case["latency_s"]["artifact"]["p50"] * 1000
            metrics["eager_p50_ms"] = case["latency_s"]["eager"]["p50"] * 1000
    if bench and bench.get("cold_start"):
        metrics["cold_start/load_s"] = bench["cold_start"]["load_s"]
        metrics["cold_start/process_s"] = bench["cold_start"]["process_s"]
    return {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))}


def job_tags(result: Mapping[str, Any], sweep: Optional[str]) -> Dict[str, str]:
    failure = result.get("failure") or {}
    versions = dict(result.get("versions") or {})
    process = result.get("process") or {}
    tags = {
        "status": result["status"],
        "cached": str(bool(result.get("cached"))).lower(),
        "job_key": result.get("job_key") or "",
        "signal": process.get("signal") or "",
        "model": result["model"],
        "backend": result["backend"],
        "strict": str(result["strict"]).lower(),
        "variant": result.get("variant") or "",
        "device": result["device"],
        "failure_class": failure.get("type", ""),
        "failure_stage": failure.get("stage", ""),
        "failure_message": (failure.get("message") or "")[:5000],
        "failure_category": failure.get("category") or "",
        "failure_location": _location_text(failure.get("location")),
        "failure_hint": (failure.get("hint") or "")[:5000],
        "failure_fix": " ".join(failure.get("fix_overrides") or []),
        # fix_verification: passed / failed / not_tried, and the command that converts (passed only).
        "fix_verified": (failure.get("fix") or {}).get("verified") or "",
        "fix_command": (failure.get("fix") or {}).get("command") or "",
        "strict_mode": _strict_mode_text(result.get("strict_mode")),
        "torch_version": versions.pop("torch", ""),
        "library_versions": ", ".join(f"{k} {v}" for k, v in versions.items() if k != "python"),
        "python_version": versions.get("python", ""),
    }
    commit = git_commit()
    if commit:
        tags["git_commit"] = tags["mlflow.source.git.commit"] = commit
    if sweep:
        tags["sweep"] = sweep
    return tags


def _location_text(location: Optional[Mapping[str, Any]]) -> str:
    return f"{location['file']}:{location['line']}" if location else ""


def _strict_mode_text(mode: Optional[Mapping[str, Any]]) -> str:
    if not mode:
        return ""
    used = "strict" if mode.get("strict") else "non-strict"
    return used + (f" (strict failed: {mode['strict_failure']})" if mode.get("strict_failure") else "")[:1000]


def _params(config: Mapping[str, Any]) -> List[Any]:
    from mlflow.entities import Param

    params = []
    for key, value in flatten(config):
        text = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
        params.append(Param(key, text[:MAX_PARAM_LENGTH]))
    return params


def parent_run(run_dir: Path) -> Optional[Dict[str, str]]:
    """The sweep's parent run, which the sweep callback records beside the job folders."""
    marker = run_dir.parent / PARENT_FILE
    return json.loads(marker.read_text()) if marker.is_file() else None


# MLflow run status per job status: a job the supervisor had to kill reads KILLED.
RUN_STATUS = {"ok": "FINISHED", "failed": "FAILED", "crashed": "FAILED", "timeout": "KILLED", "oom": "KILLED"}


def find_logged(client: Any, experiment_id: str, run_dir: Path) -> Optional[str]:
    """The run already logged for this run folder, if any: what makes logging idempotent."""
    runs = client.search_runs([experiment_id], filter_string=f"tags.run_dir = '{run_dir.resolve()}'", max_results=1)
    return runs[0].info.run_id if runs else None


def log_job(
    record: Mapping[str, Any],
    result: Mapping[str, Any],
    run_dir: Path,
    tracking: TrackingConfig,
    experiment: str,
    extra_tags: Optional[Mapping[str, str]] = None,
) -> Tuple[str, bool]:
    """Create the job's run (a child of the sweep's run when there is one) and log everything.

    `record` is the config as recorded (environment-derived values redacted); `tracking` the
    real settings. Returns the run id and whether it was created now: a run folder already
    logged is not logged twice.
    """
    from mlflow.entities import Metric
    from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID, MLFLOW_RUN_NOTE

    from converter.tracking.model_registry import registered_name
    from converter.tracking.store import tracking_lock

    parent = parent_run(run_dir)
    with tracking_lock(tracking):
        client, experiment_id = client_and_experiment(tracking, parent["experiment"] if parent else experiment)
        existing = find_logged(client, experiment_id, run_dir)
        if existing:
            return existing, False
        tags = {**job_tags(result, tracking.sweep), **(extra_tags or {})}
        tags["run_dir"] = str(run_dir.resolve())
        tags[MLFLOW_RUN_NOTE] = _note(result)
        if parent:
            tags[MLFLOW_PARENT_RUN_ID] = parent["run_id"]
        if not _uploads_artifact(result, tracking) and _artifact_on_disk(result) and tracking.log_artifact_file:
            tags[ARTIFACT_RUN_TAG] = artifact_holder(result)  # the very file (sha256-checked) is in that run
        run = client.create_run(experiment_id, run_name=f"{result['model']}/{result['backend']}", tags=tags)
        run_id = run.info.run_id
        bench_file = run_dir / BENCH_FILE
        bench = json.loads(bench_file.read_text()) if bench_file.is_file() else None
        now = int(time.time() * 1000)
        params = _params(record)
        metrics = [Metric(k, v, now, 0) for k, v in job_metrics(result, bench).items()]
        for start in range(0, max(len(params), len(metrics)), 100):
            client.log_batch(run_id, metrics=metrics[start : start + 100], params=params[start : start + 100], tags=[])
        _log_files(client, run_id, record, run_dir, result, tracking)
        client.set_terminated(run_id, RUN_STATUS.get(result["status"], "FAILED"))
        if tracking.register:
            from converter.tracking.model_registry import register

            version = register(client, run_id, result)
            if version:
                log.info("registered as version %s of '%s'", version, registered_name(result))
    log.info("logged to MLflow run %s (experiment '%s')", run_id, parent["experiment"] if parent else experiment)
    return run_id, True


def log_and_record(
    tracking: TrackingConfig,
    record: Mapping[str, Any],
    result: Mapping[str, Any],
    run_dir: Path,
    experiment: str,
    extra_tags: Optional[Mapping[str, str]] = None,
) -> None:
    """log_job, then tracking.json beside the job's files (what the summary, the exit code and
    `converter sync` read). Never raises: the files are already on disk, so a tracking failure
    costs the MLflow record only, and the job's error message says how to log it later."""
    import sys

    from converter.errors import one_line
    from converter.records.artifacts import write_json_atomically
    from converter.records.run_folder import TRACKING_FILE

    try:
        run_id, _ = log_job(record, result, run_dir, tracking, experiment, extra_tags)
        state = logged_state(result, tracking, run_id)
    except Exception as exc:  # noqa: BLE001 (any MLflow or network failure)
        reason = one_line(exc)
        print(
            f"Tracking error: could not log {result['model']}/{result['backend']} to MLflow at "
            f"{tracking.uri or 'the embedded store'} ({reason}). The run's files are in {run_dir}. "
            f"Fix: once the server is back, run `python -m converter sync {run_dir}`.",
            file=sys.stderr,
            flush=True,
        )
        state = {"logged": False, "error": reason}
    try:
        write_json_atomically(state, run_dir / TRACKING_FILE)
    except OSError as exc:
        log.error("could not write %s: %s", run_dir / TRACKING_FILE, exc)


def _note(result: Mapping[str, Any]) -> str:
    """The run's description in MLflow (markdown): its headline, and for a failure the hint and fix."""
    from converter.records.results import headline

    failure = result.get("failure") or {}
    cached = " (reused from the cache)" if result.get("cached") else ""
    lines = [headline(result).split("\n")[0] + cached]
    if failure.get("hint"):
        lines += ["", failure["hint"]]
    from converter.records.fix_record import fix_parts

    label, paste = fix_parts(failure)
    if paste:
        lines += ["", f"{label[:1].upper()}{label[1:]}: `{paste}`"]
    return "\n".join(lines)[:5000]


def retag_fix(tracking: TrackingConfig, run_id: str, result: Mapping[str, Any]) -> None:
    """After its fix was tried: the failed job's run gets fix_verified, fix_command and a new description."""
    from mlflow.tracking import MlflowClient
    from mlflow.utils.mlflow_tags import MLFLOW_RUN_NOTE

    from converter.tracking.store import tracking_lock, tracking_uri

    with tracking_lock(tracking):
        client = MlflowClient(tracking_uri=tracking_uri(tracking))
        tags = job_tags(result, tracking.sweep)
        for key in ("fix_verified", "fix_command"):
            client.set_tag(run_id, key, tags[key])
        client.set_tag(run_id, MLFLOW_RUN_NOTE, _note(result))


def retag_fix_or_warn(tracking: TrackingConfig, run_id: str, result: Mapping[str, Any]) -> None:
    """retag_fix, a failure only warned about: the files hold the verdict, MLflow is a copy."""
    from converter.errors import one_line

    try:
        retag_fix(tracking, run_id, result)
    except Exception as exc:  # noqa: BLE001
        log.warning("could not tag the failed run with its verified fix: %s", one_line(exc))


def _log_files(
    client: Any,
    run_id: str,
    record: Mapping[str, Any],
    run_dir: Path,
    result: Mapping[str, Any],
    tracking: TrackingConfig,
) -> None:
    """The run folder's files in one upload (each upload call resolves the run's artifact store
    again), with the recorded (redacted) config, not config.yaml, which keeps environment values
    for reruns."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="converter-run-files-") as staging:
        (Path(staging) / CONFIG_FILE).write_text(config_yaml(record))
        for name in RUN_FILES:
            if name != CONFIG_FILE and (run_dir / name).is_file():
                shutil.copyfile(run_dir / name, Path(staging) / name)
        client.log_artifacts(run_id, staging)
    if _uploads_artifact(result, tracking):
        client.log_artifact(run_id, result["artifact"]["path"], artifact_path="artifact")


def config_yaml(record: Mapping[str, Any]) -> str:
    """The config as OmegaConf.to_yaml writes it (block style, keys in order, a string quoted when
    OmegaConf would read it back as a number or a bool), by PyYAML's C emitter: a tenth of the
    time, which a sweep re-run from the cache spends once per job."""
    import yaml

    return yaml.dump(dict(record), Dumper=_dumper(), sort_keys=False, allow_unicode=True, default_flow_style=False)


@functools.lru_cache(maxsize=1)
def _dumper() -> Any:
    """PyYAML's C dumper, with OmegaConf's rule for quoting strings (made once per process)."""
    import yaml

    class Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
        pass

    def text(dumper: Any, value: str) -> Any:
        style = "'" if _reads_as_number_or_bool(value) else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    return Dumper


YAML_BOOLS = frozenset(("y", "yes", "n", "no", "true", "false", "on", "off"))


def _reads_as_number_or_bool(value: str) -> bool:
    try:
        float(value)  # "1e-3", "0123", "1_000", "nan": OmegaConf's loader reads them as numbers
        return True
    except ValueError:
        return value.lower() in YAML_BOOLS


# A job reused from the cache: the MLflow run that holds its artifact, uploaded once, not again
# with every re-run (a nightly of unchanged models would otherwise store each artifact nightly).
ARTIFACT_RUN_TAG = "artifact_run_id"


def _artifact_on_disk(result: Mapping[str, Any]) -> bool:
    path = (result.get("artifact") or {}).get("path")
    return bool(path) and Path(path).is_file()


def logged_state(result: Mapping[str, Any], tracking: TrackingConfig, run_id: str) -> Dict[str, Any]:
    """tracking.json's content once a job is in MLflow: its run, and whether that run holds the
    artifact file (a cached job reusing this folder then points at it instead of uploading again)."""
    return {"logged": True, "run_id": run_id, "artifact_logged": _uploads_artifact(result, tracking)}


def _uploads_artifact(result: Mapping[str, Any], tracking: TrackingConfig) -> bool:
    """Whether the job's run gets the artifact file itself: not when a cached job's is already in
    the run it reused (registering needs it in the run, so then it is uploaded anyway)."""
    if not (tracking.log_artifact_file and _artifact_on_disk(result)):
        return False
    return tracking.register or artifact_holder(result) is None


def artifact_holder(result: Mapping[str, Any]) -> Optional[str]:
    """For a cached job, the run of the job it reused if that run uploaded the artifact, else None."""
    from converter.records.outcome import read_json
    from converter.records.run_folder import TRACKING_FILE

    if not result.get("cached") or not result.get("cached_from"):
        return None
    state = read_json(Path(result["cached_from"]) / TRACKING_FILE)
    return state.get("run_id") if state.get("logged") and state.get("artifact_logged") else None
