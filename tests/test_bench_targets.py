"""benchmarks/harness.py's speed-target section: the fastest validated target at batch 1 per model,
at full precision and at any precision, read from the jobs of several sweep folders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from benchmarks.harness import targets_section, with_targets


def job(
    sweep: Path,
    number: int,
    model: str,
    backend: str,
    ratio: float,
    precision: Optional[str] = None,
    passed: Optional[bool] = True,
    shares: Optional[tuple] = None,
) -> None:
    """A finished job folder: its result.json, and a bench.json at batch 1 with `ratio` over eager."""
    folder = sweep / f"{number}-{model}-{backend}"
    folder.mkdir(parents=True)
    options = {"precision": precision} if precision else {}
    result = {
        "model": model,
        "backend": backend,
        "strict": True,
        "device": "cpu",
        "status": "ok",
        "stages": {},
        "validation": {"passed": passed},
        "config": {"export": {"backend": backend, "options": options}},
    }
    (folder / "result.json").write_text(json.dumps(result))
    case = {"sizes": {"batch": 1}, "speedup": {"ratio": ratio, "low": ratio - 0.1, "high": ratio + 0.1}}
    if shares:  # eager's and the artifact's achieved GFLOP/s over the machine's measured peak
        case["fraction_of_peak"] = {"eager": shares[0], "artifact": shares[1]}
    (folder / "bench.json").write_text(json.dumps({"cases": [case]}))


def test_each_goal_is_met_at_full_precision_at_a_reduced_one_only_or_not(tmp_path: Path) -> None:
    bench, bf16 = tmp_path / "bench", tmp_path / "bench_bf16"
    job(bench, 0, "resnet18", "aoti", 2.1, shares=(0.42, 0.88))
    job(bench, 1, "resnet18", "onnx", 1.5)
    job(bench, 2, "yolo11_pose", "aoti", 1.6)
    job(bench, 3, "deeplabv3", "onnx", 1.4)
    job(bench, 4, "deeplabv3", "openvino", 3.0, passed=False)  # fast, but it did not validate
    job(bench, 5, "vit_b_16", "torch_export", 5.0, passed=None)  # not validated (a constant reference)
    job(bf16, 0, "yolo11_pose", "openvino", 2.6, precision="bf16")
    job(bf16, 1, "deeplabv3", "openvino", 1.65, precision="bf16")
    rows = [line for line in targets_section([bench, bf16]) if line.startswith("| ") and "goal" not in line]
    assert rows == [
        "| resnet18 | 2.0x | aoti 2.10x [2.00, 2.20] | 42% / 88% | aoti 2.10x [2.00, 2.20] | yes |",
        "| yolo11_pose | 2.0x | aoti 1.60x [1.50, 1.70] | - | openvino bf16 2.60x [2.50, 2.70] | at bf16 only |",
        "| vit_b_16 | 2.0x | none validated | - | none validated | **no** |",
        "| deeplabv3 | 1.7x | onnx 1.40x [1.30, 1.50] | - | openvino bf16 1.65x [1.55, 1.75] | **no** |",
    ]


def test_the_section_is_replaced_in_place_or_put_before_the_artifact_tables(tmp_path: Path) -> None:
    bench = tmp_path / "bench"
    job(bench, 0, "resnet18", "aoti", 2.1)
    results = "# Benchmarks\n\nMachine: x.\n\n## Artifacts against eager\n\ntable\n"
    once = with_targets(results, [bench])
    assert once.startswith("# Benchmarks\n\nMachine: x.\n\n## Speed targets at batch 1\n")
    assert "| **no** |\n\n## Artifacts against eager\n" in once, "one blank line before the next section"
    job(bench, 1, "resnet18", "onnx", 2.5)
    twice = with_targets(once, [bench])
    assert twice.count("## Speed targets at batch 1") == 1
    assert "| resnet18 | 2.0x | onnx 2.50x [2.40, 2.60] |" in twice and "aoti 2.10x" not in twice
    assert twice.endswith("## Artifacts against eager\n\ntable\n")
