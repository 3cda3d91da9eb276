"""converter.reporting.best_target: the fastest target that validated, per model and batch size."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

from converter.reporting.best_target import fastest_markdown, fastest_targets, run_name_suffix, verdict


def job(tmp_path: Path, backend: str, ratios: Dict[int, tuple], passed: Any = True, status: str = "ok") -> dict:
    run_dir = tmp_path / backend
    run_dir.mkdir()
    cases = [
        {"sizes": {"batch": batch}, "speedup": {"ratio": r, "low": low, "high": high}}
        for batch, (r, low, high) in ratios.items()
    ]
    (run_dir / "bench.json").write_text(json.dumps({"cases": cases}))
    validation = {"passed": passed} if passed is not None else {"skipped": "not macOS"}
    return {
        "model": "resnet18",
        "backend": backend,
        "status": status,
        "validation": validation,
        "run_dir": str(run_dir),
    }


def test_the_fastest_validated_target_wins_per_batch_size(tmp_path: Path) -> None:
    results = [
        job(tmp_path, "onnx", {1: (1.8, 1.7, 1.9), 8: (1.2, 1.1, 1.3)}),
        job(tmp_path, "aoti", {1: (1.5, 1.4, 1.6), 8: (1.4, 1.3, 1.5)}),
        job(tmp_path, "coreml", {1: (9.0, 8.0, 10.0)}, passed=None),  # not validated here: never competes
        job(tmp_path, "openvino", {1: (5.0, 4.0, 6.0)}, passed=False),
        job(tmp_path, "executorch", {1: (5.0, 4.0, 6.0)}, status="failed"),
    ]
    best = fastest_targets(results)
    assert {key: entry["backend"] for key, entry in best.items()} == {
        ("resnet18", "batch=1"): "onnx",
        ("resnet18", "batch=8"): "aoti",
    }
    assert fastest_markdown(results)[-2:] == [
        "| resnet18 | batch=1 | onnx | 1.80x [1.70, 1.90] | faster |",
        "| resnet18 | batch=8 | aoti | 1.40x [1.30, 1.50] | faster |",
    ]
    assert run_name_suffix(results) == " · best: resnet18 onnx 1.80x"


def test_only_an_interval_clear_of_one_is_a_verdict() -> None:
    assert verdict({"ratio": 1.3, "low": 1.01, "high": 1.6}) == "faster"
    assert verdict({"ratio": 0.8, "low": 0.7, "high": 0.99}) == "slower: eager is the fastest"
    assert verdict({"ratio": 1.1, "low": 0.9, "high": 1.3}) == "no clear difference"
    assert (fastest_markdown([]), run_name_suffix([])) == ([], "")


def test_a_reduced_precision_is_its_own_target_named_by_its_precision(tmp_path: Path) -> None:
    exact = job(tmp_path, "openvino", {1: (1.7, 1.6, 1.8)})
    exact["config"] = {"export": {"backend": "openvino", "options": {"precision": "f32"}}}
    (tmp_path / "openvino").rename(tmp_path / "openvino-f32")
    exact["run_dir"] = str(tmp_path / "openvino-f32")
    reduced = job(tmp_path, "openvino", {1: (3.1, 2.9, 3.3)})
    reduced["config"] = {"export": {"backend": "openvino", "options": {"precision": "bf16"}}}
    results = [exact, reduced, job(tmp_path, "aoti", {1: (1.8, 1.7, 1.9)})]
    assert fastest_markdown(results)[-1] == "| resnet18 | batch=1 | openvino bf16 | 3.10x [2.90, 3.30] | faster |"
    assert fastest_markdown([exact, results[2]])[-1] == "| resnet18 | batch=1 | aoti | 1.80x [1.70, 1.90] | faster |"
