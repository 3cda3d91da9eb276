"""converter/reporting/summary.py: the sweep's model-by-backend table and what follows it in summary.md."""

from __future__ import annotations

from converter.reporting.summary import matrix_markdown

RESULTS = [
    {
        "model": "yolo11_pose",
        "variant": "n",
        "backend": "torch_export",
        "status": "ok",
        "strict_mode": {
            "requested": "auto",
            "strict_failure": "PendingUnbackedSymbolNotFound: Pending unbacked symbols {zuf0}",
        },
        "validation": {"passed": True, "outputs": {"output": {"max_abs_error": 2e-6, "max_rel_error": 1e-6}}},
    },
    {
        "model": "yolo11_pose",
        "variant": "n",
        "backend": "torchscript_trace",
        "status": "failed",
        "failure": {
            "stage": "export",
            "type": "builtins.RuntimeError",
            "message": "Tracer cannot infer type of (tensor, [tensors])",
            "category": "unsupported_output",
            "fix_overrides": ["model.wrapper={_target_:registry.common.SelectOutput,key:0}"],
        },
    },
    {
        "model": "deeplabv3",
        "variant": "resnet50",
        "backend": "coreml",
        "status": "ok",
        "cached": True,
        "validation": {"passed": None, "skipped": "Core ML runtime needs macOS"},
    },
]

EXPECTED = """\
| model | coreml | torch_export | torchscript_trace |
|---|---|---|---|
| deeplabv3 (resnet50) | ok, cached (not validated: Core ML runtime needs macOS) | – | – |
| yolo11_pose (n) | – | ok (max abs err 2.0e-06) | failed [unsupported_output]: export: RuntimeError: Tracer cannot infer type of (tensor, [tensors]) |

2 of 3 jobs ok.
By status: 2 ok, 1 failed; 1 reused from the cache.
By failure category: 1 unsupported_output.

Fixes (a verified one was run and converts; `python -m converter explain SWEEP_DIR` says why):

- yolo11_pose/torchscript_trace: suggested fix, not verified: `model.wrapper={_target_:registry.common.SelectOutput,key:0}`

export.strict=auto exported non-strict where strict failed:

- yolo11_pose/torch_export: PendingUnbackedSymbolNotFound: Pending unbacked symbols {zuf0}"""


def test_the_table_counts_fixes_and_strict_fallbacks_name_model_and_backend() -> None:
    assert matrix_markdown(RESULTS) == EXPECTED


def test_one_backend_at_two_precisions_is_two_columns() -> None:
    def openvino(precision: str, error: float) -> dict:
        return {
            "model": "resnet18",
            "backend": "openvino",
            "status": "ok",
            "config": {"export": {"backend": "openvino", "options": {"precision": precision}}},
            "validation": {"passed": True, "outputs": {"output": {"max_abs_error": error, "max_rel_error": error}}},
        }

    table = matrix_markdown([openvino("f32", 2e-6), openvino("bf16", 9e-3)]).splitlines()
    assert table[:3] == [
        "| model | openvino | openvino bf16 |",
        "|---|---|---|",
        "| resnet18 | ok (max abs err 2.0e-06) | ok (max abs err 9.0e-03) |",
    ]
