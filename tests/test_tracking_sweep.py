"""converter/tracking/sweep.py: the sweep's job table as the parent run logs it."""

from __future__ import annotations

from converter.tracking.sweep import summary_table

RESULTS = [
    {
        "model": "resnet18",
        "variant": "tiny",
        "backend": "onnx",
        "status": "ok",
        "benchmark": {"speedup": 1.92, "artifact_p50_s": 0.004},
        "validation": {"outputs": {"output": {"max_abs_error": 2e-6, "max_rel_error": 1e-6}}},
    },
    {
        "model": "mvit",
        "backend": "torch_export",
        "status": "failed",
        "failure": {"stage": "export", "message": "  Constraints violated (batch)\n"},
    },
]


def test_one_row_per_job_with_failure_speed_and_error() -> None:
    assert summary_table(RESULTS) == {
        "model": ["resnet18", "mvit"],
        "variant": ["tiny", ""],
        "backend": ["onnx", "torch_export"],
        "status": ["ok", "failed"],
        "failure": ["", "export: Constraints violated (batch)"],
        "speedup": [1.92, None],
        "artifact_p50_ms": [4.0, None],
        "max_abs_error": [2e-6, None],
    }
