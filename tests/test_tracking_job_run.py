"""converter/tracking/job_run.py: what one job's MLflow run holds, as metrics and tags (no server needed)."""

from __future__ import annotations

import pytest

from converter.tracking import job_run as tracking_job
from converter.tracking.job_run import job_metrics, job_tags

STATS = {"p50": 0.010, "p90": 0.012, "p99": 0.013, "mean": 0.011, "std": 0.001, "cv": 0.09}

RESULT = {
    "model": "resnet18",
    "backend": "onnx",
    "strict": True,
    "device": "cpu",
    "variant": "tiny",
    "status": "ok",
    "stages": {"load": 0.5, "export": 2.0},
    "validation": {
        "atol": 0.03,
        "precision_reference": {"dtype": "bfloat16", "eager_max_abs_error": 0.01, "multiplier": 3.0, "atol": 0.03},
        "outputs": {
            "logits": {"max_abs_error": 1e-6, "max_rel_error": 2e-6},
            "aux": {"max_abs_error": 3e-6, "max_rel_error": 1e-7},
        },
    },
    "artifact": {"size_bytes": 3 * 2**20},
    "export_info": {"compile_s": 12.5},
    "graph": {"operators": {"aten.conv2d": 20}, "custom_ops": ["x::y", "x::z"], "parameters": 1000},
    "versions": {"python": "3.11.7", "torch": "2.14.1", "torchvision": "0.29.1"},
}

BENCH = {
    "cases": [
        {
            "sizes": {"batch": 1},
            "latency_s": {"eager": STATS, "artifact": {**STATS, "p50": 0.005}},
            "throughput_items_per_s": {"eager": 100.0, "artifact": 200.0},
            "achieved_gflops": {"eager": 3.0, "artifact": 6.0},
            "peak_memory_mb": {"eager": 40.0, "artifact": None},
            "speedup": {"ratio": 2.0, "low": 1.9, "high": 2.1},
        }
    ],
    "cold_start": {"load_s": 0.25, "process_s": 1.5},
}


def test_job_metrics_name_every_figure_and_skip_the_missing_ones() -> None:
    metrics = job_metrics(RESULT, BENCH)
    expected = {
        "stage/load_s": 0.5,
        "stage/export_s": 2.0,
        "validation/max_abs_error": 3e-6,
        "validation/max_rel_error": 2e-6,
        "validation/atol": 0.03,
        "validation/eager_max_abs_error_at_precision": 0.01,
        "artifact_size_mb": 3.0,
        "export/compile_s": 12.5,
        "graph/custom_ops": 2.0,
        "graph/parameters": 1000.0,
        "cold_start/load_s": 0.25,
        "cold_start/process_s": 1.5,
        "speedup": 2.0,
        "artifact_p50_ms": 5.0,
        "eager_p50_ms": 10.0,
        "benchmark/batch1/speedup": 2.0,
        "benchmark/batch1/speedup_low": 1.9,
        "benchmark/batch1/speedup_high": 2.1,
        "benchmark/batch1/eager_achieved_gflops": 3.0,
        "benchmark/batch1/artifact_achieved_gflops": 6.0,
        "benchmark/batch1/eager_peak_memory_mb": 40.0,
        "benchmark/batch1/eager_items_per_s": 100.0,
        "benchmark/batch1/artifact_items_per_s": 200.0,
    }
    for who, p50 in (("eager", 10.0), ("artifact", 5.0)):
        expected |= {
            f"benchmark/batch1/{who}_p50_ms": p50,
            f"benchmark/batch1/{who}_p90_ms": 12.0,
            f"benchmark/batch1/{who}_p99_ms": 13.0,
            f"benchmark/batch1/{who}_mean_ms": 11.0,
            f"benchmark/batch1/{who}_std_ms": 1.0,
            f"benchmark/batch1/{who}_cv": 0.09,
        }
    assert metrics.keys() == expected.keys()
    assert metrics == pytest.approx(expected)


def test_a_failed_job_without_a_benchmark_has_stage_metrics_only() -> None:
    failed = {"stages": {"load": 0.5}, "status": "failed", "failure": {"stage": "export"}}
    assert job_metrics(failed, None) == {"stage/load_s": 0.5}


def test_job_tags_carry_the_failure_its_diagnosis_and_the_versions(monkeypatch) -> None:
    monkeypatch.setattr(tracking_job, "git_commit", lambda: "abc123")
    failure = {
        "type": "torch._dynamo.exc.UserError",
        "stage": "export",
        "message": "Constraints violated (batch)",
        "category": "static_shape",
        "location": {"file": "model.py", "line": 12, "source": "x.view(2, -1)"},
        "hint": "declare the batch",
        "fix_overrides": ["export.dynamic=true", "export.strict=false"],
    }
    record = {**RESULT, "status": "failed", "failure": failure, "cached": True, "job_key": "k1", "process": {}}
    tags = job_tags(record, "nightly")
    assert tags == {
        "status": "failed",
        "cached": "true",
        "job_key": "k1",
        "signal": "",
        "model": "resnet18",
        "backend": "onnx",
        "strict": "true",
        "variant": "tiny",
        "device": "cpu",
        "failure_class": "torch._dynamo.exc.UserError",
        "failure_stage": "export",
        "failure_message": "Constraints violated (batch)",
        "failure_category": "static_shape",
        "failure_location": "model.py:12",
        "failure_hint": "declare the batch",
        "failure_fix": "export.dynamic=true export.strict=false",
        "fix_verified": "",
        "fix_command": "",
        "strict_mode": "",
        "torch_version": "2.14.1",
        "library_versions": "torchvision 0.29.1",
        "python_version": "3.11.7",
        "git_commit": "abc123",
        "mlflow.source.git.commit": "abc123",
        "sweep": "nightly",
    }


def test_an_experiment_another_sweep_creates_meanwhile_is_used_not_an_error(tmp_path, monkeypatch) -> None:
    """Two sweeps starting at once into a new experiment: the second's create fails (it exists now)."""
    from mlflow.tracking import MlflowClient

    from converter.config.schema import TrackingConfig
    from converter.tracking.store import client_and_experiment

    uri = f"sqlite:///{tmp_path / 'race.db'}"
    theirs = MlflowClient(tracking_uri=uri).create_experiment("race")
    looked = []
    original = MlflowClient.get_experiment_by_name

    def not_yet_the_first_time(self, name):
        looked.append(name)
        return None if len(looked) == 1 else original(self, name)

    monkeypatch.setattr(MlflowClient, "get_experiment_by_name", not_yet_the_first_time)
    _, experiment_id = client_and_experiment(TrackingConfig(uri=uri), "race")
    assert experiment_id == theirs and looked == ["race", "race"]


def test_the_logged_config_reads_as_omegaconf_writes_it() -> None:
    """config_yaml is PyYAML's C emitter standing in for OmegaConf.to_yaml: the same text, quoting
    included, for the values a job's config holds."""
    from omegaconf import OmegaConf

    record = {
        "model": {
            "name": "resnet18",
            "loader": {"_target_": "torchvision.models.resnet18", "num_classes": 10},
            "inputs": {"x": {"shape": [2, 3, 224, 224], "dtype": "float32", "range": [-1.0, 1.0]}},
            "dynamic_shapes": {"x": {"0": {"name": "batch", "min": 1, "max": 16}}},
            "patches": [],
            "checkpoint": None,
        },
        "export": {"name": "torch_export", "strict": False, "options": {}},
        "validate": {"atol": 1e-05, "rtol": 0.001},
        "tricky": [
            "yes",
            "Off",
            "null",
            "1e-3",
            "0123",
            "1_000",
            "nan",
            "-inf",
            "a: b",
            "#x",
            "",
            "ünï",
            "${x}",
            "- y",
        ],
        "empty": {},
    }
    assert tracking_job.config_yaml(record) == OmegaConf.to_yaml(OmegaConf.create(record))
