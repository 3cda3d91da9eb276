"""Log one finished job to MLflow: params, metrics, tags and the run folder's files."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

from converter.tracking.store import client_and_experiment, git_commit

log = logging.getLogger("converter")
PARENT_FILE = ".mlflow_parent.json"
RUN_FILES = ("config.yaml", "result.json", "bench.json", "bench.png", "convert.log", "graph.txt", "operators.txt")
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
    if result.get("artifact"):
        metrics["artifact_size_mb"] = result["artifact"]["size_bytes"] / 2**20
    for number, case in enumerate((bench or {}).get("cases", [])):
        label = metric_key("_".join(f"{k}{v}" for k, v in case["sizes"].items()) or "example")
        for who, stats in case["latency_s"].items():
            for figure in ("p50", "p90", "p99", "mean", "std"):
                metrics[f"bench/{label}/{who}_{figure}_ms"] = stats[figure] * 1000
            metrics[f"bench/{label}/{who}_cv"] = stats["cv"]
            metrics[f"bench/{label}/{who}_items_per_s"] = case["throughput_items_per_s"][who]
            for key in ("achieved_gflops", "fraction_of_peak", "peak_memory_mb"):
                if (case.get(key) or {}).get(who) is not None:
                    metrics[f"bench/{label}/{who}_{key}"] = case[key][who]
        metrics[f"bench/{label}/speedup"] = case["speedup"]["ratio"]
        metrics[f"bench/{label}/speedup_low"] = case["speedup"]["low"]
        metrics[f"bench/{label}/speedup_high"] = case["speedup"]["high"]
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
    tags = {
        "status": result["status"],
        "model": result["model"],
        "backend": result["backend"],
        "strict": str(result["strict"]).lower(),
        "variant": result.get("variant") or "",
        "device": result["device"],
        "failure_class": failure.get("type", ""),
        "failure_stage": failure.get("stage", ""),
        "failure_message": (failure.get("message") or "")[:5000],
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


def log_job(
    config: Mapping[str, Any], result: Mapping[str, Any], run_dir: Path, experiment: str, sweep: Optional[str]
) -> str:
    """Create the job's run (a child of the sweep's run when there is one) and log everything."""
    from mlflow.entities import Metric, RunTag
    from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

    tracking = config["tracking"]
    parent = parent_run(run_dir)
    client, experiment_id = client_and_experiment(tracking, parent["experiment"] if parent else experiment)
    tags = job_tags(result, sweep)
    if parent:
        tags[MLFLOW_PARENT_RUN_ID] = parent["run_id"]
    run = client.create_run(experiment_id, run_name=f"{result['model']}/{result['backend']}", tags=tags)
    run_id = run.info.run_id
    bench_file = run_dir / "bench.json"
    bench = json.loads(bench_file.read_text()) if bench_file.is_file() else None
    now = int(time.time() * 1000)
    params = _params(config)
    metrics = [Metric(k, v, now, 0) for k, v in job_metrics(result, bench).items()]
    for start in range(0, max(len(params), len(metrics)), 100):
        client.log_batch(run_id, metrics=metrics[start : start + 100], params=params[start : start + 100], tags=[])
    for name in RUN_FILES:
        if (run_dir / name).is_file():
            client.log_artifact(run_id, str(run_dir / name))
    artifact = (result.get("artifact") or {}).get("path")
    if artifact and tracking.get("log_artifact_file", True) and Path(artifact).is_file():
        client.log_artifact(run_id, artifact, artifact_path="artifact")
    client.set_terminated(run_id, "FINISHED" if result["status"] == "ok" else "FAILED")
    client.set_tag(run_id, RunTag("status", result["status"]).key, result["status"])
    log.info("logged to MLflow run %s (experiment '%s')", run_id, parent["experiment"] if parent else experiment)
    return run_id
