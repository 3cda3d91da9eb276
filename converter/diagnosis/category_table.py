"""The README's table of failure categories, rendered from the code (`make readme`)."""

from __future__ import annotations

import sys
from typing import List, Optional

from converter.diagnosis.categories import CATEGORIES
from converter.records.readme_section import render_or_embed

START, END = "<!-- categories:start -->", "<!-- categories:end -->"

# category -> (what it recognises, the fix it offers); one row each, in CATEGORIES order.
DESCRIPTIONS = {
    "loader_rejected": (
        "the loader refusing model.loader's arguments (a small transformers config whose pad token id is "
        "past its vocabulary: `Padding_idx must be within num_embeddings`)",
        "the library's fix where it knows one (`++model.loader.config.pad_token_id=0`)",
    ),
    "input_rejected": (
        "the eager model refusing the example inputs (the `reference` stage): a token id past the embedding "
        "table, a tensor where forward takes `List[Tensor]` or an object, a required input missing",
        "the input's `high` set to the embedding's size; `count` and the per-item shape for a list",
    ),
    "static_shape": (
        "a Dim torch.export cannot keep (its 'Suggested fixes', a 0/1-specialized example) or a static "
        "artifact refusing another size (torchvision's MViT exported at batch 2)",
        "the Dim range torch.export suggests (`model.dynamic_shapes.x={0:{...}}`), an example of size 2, "
        "or `export.dynamic=true`",
    ),
    "strict_tracing": (
        "a Dynamo-only failure under `export.strict=true` (ultralytics YOLO11n-pose's `PendingUnbackedSymbolNotFound`)",
        "`export.strict=false` (`auto`, the default, falls back by itself)",
    ),
    "input_mutation": (
        "an in-place write the exporter cannot trace (BLIP's `cannot mutate tensors with frozen storage`; a write through `.data`)",
        "none: the hint gives the clone patch to add to `model.patches`",
    ),
    "not_a_module": (
        "a loader that returns a function or bound method (SAM 2's `SAM2ImagePredictor._predict`)",
        "`model.wrapper={_target_:registry.common.CallableAsModule}`",
    ),
    "unsupported_output": (
        "outputs tracing refuses (torchvision deeplabv3's dict, with the structure found; a transformers cache); "
        "outputs ExecuTorch's XNNPACK delegate would return twice (YOLO11-pose's raw maps)",
        "`model.wrapper={_target_:registry.common.SelectOutput,key:out}` (`key:0` for a tuple), `export.strict=false` for lists, "
        "`+model.loader.config.use_cache=false` for a cache",
    ),
    "trace_divergence": (
        "a traced artifact that differs from eager, with the TracerWarning's line (a branch on a tensor's value, frozen)",
        "`export=torchscript_script` (or the hybrid, `model.traced_submodules`)",
    ),
    "script_unsupported": (
        "a TorchScript compile error, with its file, line and construct (segment-anything's encoder)",
        "`export=torch_export`; the hint says how to write a patch in `registry/patches/`",
    ),
    "data_dependent": (
        "a branch or loop on a value computed from the inputs (detection models, GPT-2's loop); "
        "`draft_report.txt` lists every such guard",
        "`export=torchscript_script`; the hint gives the `torch.cond` / `torch._check` rewrite",
    ),
    "missing_op": (
        "an operator without a fake (meta) kernel",
        "`export=torchscript_trace`; or register a fake kernel",
    ),
    "unsupported_op": ("an operator the target has no implementation of", "none: a patch or another target"),
    "device_mismatch": (
        "tensors on two devices in one operator under `device=cuda` (a tensor made in forward without `device=`)",
        "none: the hint gives the `device=x.device` patch to add to `model.patches`",
    ),
    "compiler_error": (
        "a target's own compiler failing on a valid program (AOTInductor's `references nonexistent attribute` "
        "on SAM 2, coremltools' `index shape ... must match input shape`)",
        "`export=torch_export`, the same program as a .pt2",
    ),
    "artifact_error": (
        "a reloaded artifact that raises when called (torchvision's scripted detector given a tensor for "
        "`images: List[Tensor]`)",
        "`count` and the per-item shape when the artifact takes a list",
    ),
    "crashed": ("the job's process died (signal or exit), located from faulthandler's stack", "none"),
    "timeout": ("the job ran past `job.timeout_s`", "`job.timeout_s=` twice the limit"),
    "oom": ("the job's processes passed `job.max_memory_mb`", "`job.max_memory_mb=` twice the cap"),
    "validation_mismatch": (
        "the artifact's numbers differ from eager; on torch.export artifacts, the first submodule that "
        "diverges (`validation.first_divergence`); eager itself overflowing at a target's reduced precision",
        "none: the hint names where to look; for an overflow, another precision (`export.options.precision=bf16` "
        "for OpenVINO's f16)",
    ),
    "unknown": ("anything else, the exception kept whole", "none: `repro/repro.py` reproduces it"),
}


def render() -> str:
    lines = ["| category | what it recognises | fix_overrides |", "|---|---|---|"]
    for category in CATEGORIES:
        what, fix = DESCRIPTIONS[category]
        lines.append(f"| `{category}` | {what} | {fix} |")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    return render_or_embed(render, START, END, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
