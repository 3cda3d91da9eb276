"""Failure categories: what an expert reads in a failed job, and the override that fixes it.

Each rule looks at one failure (stage, exception type and message, the job's config, the
validation report) and either claims it or passes. The first claim wins, so the order runs
from the most specific evidence to the least. A claim is a `Diagnosis`: the category, one
paragraph of hint, and `fix_overrides`, Hydra overrides that can be pasted onto the same
command line (empty where no override can fix it: the hint says what code to change).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, List, Mapping, Optional, Sequence

from converter.config.schema import ConverterConfig, ModelConfig
from converter.diagnosis.input_checks import artifact_error, input_rejected, list_input_fix, loader_rejected
from converter.diagnosis.location import Frame, Location, locate, location_at
from converter.diagnosis.shapes import dim_override, pinned_dimensions, suggested_fixes
from converter.diagnosis.verdict import Diagnosis
from converter.errors import first_line
from converter.records.results import Status

CATEGORIES = (
    "loader_rejected",
    "input_rejected",
    "static_shape",
    "strict_tracing",
    "input_mutation",
    "not_a_module",
    "unsupported_output",
    "trace_divergence",
    "script_unsupported",
    "data_dependent",
    "missing_op",
    "unsupported_op",
    "device_mismatch",
    "compiler_error",
    "artifact_error",
    "crashed",
    "timeout",
    "oom",
    "validation_mismatch",
    "unknown",
)


@dataclass(frozen=True)
class FailureContext:
    """Everything a rule may read about one failed job."""

    stage: str
    type: str
    message: str
    job: ConverterConfig
    status: str = Status.FAILED.value
    frames: Sequence[Frame] = ()
    validation: Optional[Mapping[str, Any]] = None
    warnings: Sequence[Mapping[str, Any]] = ()
    log_tail: Sequence[str] = ()
    process: Mapping[str, Any] = field(default_factory=dict)
    # The structure of eager's output ("{'out': Tensor[1, 21, 64, 64]}"), computed on demand.
    eager_structure: Optional[Callable[[], Optional[str]]] = None
    # Under export.strict=auto: why strict tracing failed before non-strict was tried.
    strict_failure: Optional[str] = None
    # What only the live objects could tell (diagnosis.input_checks.input_facts): forward's parameters,
    # which take lists, the embedding an index overran.
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def backend(self) -> str:
        return self.job.export.backend

    @property
    def model(self) -> ModelConfig:
        return self.job.model


Rule = Callable[[FailureContext, Optional[Location]], Optional[Diagnosis]]


def diagnose(context: FailureContext) -> Diagnosis:
    location = locate(context.message, context.frames, context.log_tail)
    for rule in RULES:
        found = rule(context, location)
        if found is not None:
            return found if found.location else replace(found, location=location)
    return Diagnosis(
        "unknown",
        f"{_at(location)}no known pattern matched this failure; the exception is kept whole in result.json "
        "(failure.message and failure.traceback) and convert.log. `repro/repro.py` in the run folder makes "
        "the failing call on its own, for a debugger or a bug report.",
        [],
        location,
    )


def _at(location: Optional[Location]) -> str:
    return f"At {location}: " if location else ""


def _has(text: str, *needles: str) -> bool:
    lowered = text.lower()
    return any(needle.lower() in lowered for needle in needles)


def supervised(context: FailureContext, location: Optional[Location]) -> Optional[Diagnosis]:
    """The isolation verdicts: the child left no result of its own."""
    settings = context.job.job
    if context.status == Status.TIMEOUT:
        limit = float(settings.timeout_s)
        return Diagnosis(
            "timeout",
            f"the job ran past job.timeout_s={limit:g} s in stage '{context.stage}' and was killed. If it was only "
            "slow (a large model, a long compile), give it more time; if it hangs, the end of convert.log shows where "
            f"it was{' (' + str(location) + ')' if location else ''}.",
            [f"job.timeout_s={math.ceil(limit * 2)}"] if limit else [],
        )
    if context.status == Status.OOM:
        cap = settings.max_memory_mb
        peak = context.process.get("peak_memory_mb")
        return Diagnosis(
            "oom",
            f"the job's processes held {peak or '?'} MiB, over job.max_memory_mb={cap}, in stage '{context.stage}', "
            "and were killed. Raise the cap if the machine has the memory, or use smaller inputs or a smaller "
            "variant (+tiny=NAME).",
            [f"job.max_memory_mb={int(cap) * 2}"] if cap else [],
        )
    if context.status == Status.CRASHED:
        others = [b for b in ("torch_export", "torchscript_trace", "torchscript_script") if b != context.backend]
        return Diagnosis(
            "crashed",
            f"the job's process died in stage '{context.stage}' ({context.type.rsplit('.', 1)[-1]}): a crash in native "
            f"code or an exit from the model's code{', at ' + str(location) if location else ''}. The Python stack at "
            "the crash is at the end of convert.log. No override is known to fix a crash; another backend "
            f"({', '.join('export=' + b for b in others)}) may not reach the same code, and job.isolate=false runs "
            "the job in this process for a debugger.",
            [],
        )
    return None


def not_a_module(context: FailureContext, location: Optional[Location]) -> Optional[Diagnosis]:
    message = context.message
    if not _has(message, "not a torch.nn.Module", "to be an instance of `torch.nn.Module`", "Expected `mod`"):
        return None
    returned = re.search(r"returned an? (\w+)", message)
    kind = returned.group(1) if returned else "callable"
    return Diagnosis(
        "not_a_module",
        f"the loader returned a {kind}, not an nn.Module (a common case: SAM 2's bound method "
        "SAM2ImagePredictor._predict). Exporters take modules: wrap the callable in one, "
        "registry.common.CallableAsModule, whose forward calls it (a method's module is kept as a submodule, "
        "so its weights belong to the artifact). For a method of a bigger object, write a small nn.Module "
        "whose forward calls it, as registry/sam2/wrappers.py does.",
        ["model.wrapper={_target_:registry.common.CallableAsModule}"],
    )


_OUTPUT_REFUSED = (
    "Encountering a dict at the output of the tracer",
    "can be output from traced functions",
    "Tracer cannot infer type of",
    "Only tensors, lists, tuples of tensors, or dictionary of tensors can be output",
)


def unsupported_output(context: FailureContext, location: Optional[Location]) -> Optional[Diagnosis]:
    if context.stage != "export" or not _has(context.message, *_OUTPUT_REFUSED):
        return None
    structure = context.eager_structure() if context.eager_structure else None
    library_object = re.search(r"(\w+)\(\d+ tensors\)", structure or "")
    if library_object:
        return _library_object_output(context, structure, library_object.group(1))
    # Keys of a dict at the top only: a tuple holding a dict (YOLO's (Tensor, {'boxes': ...})) is picked by index.
    keys = re.findall(r"'(\w+)': ", structure or "") if (structure or "").startswith("{") else []
    if keys and context.backend == "torchscript_trace" and len(context.model.inputs) > 1:
        return Diagnosis(
            "unsupported_output",
            f"torchscript_trace refuses the model's output {structure} under strict tracing. export.strict=false "
            "lets torch.jit.trace return a dict whose keys do not depend on the inputs (a transformers ModelOutput).",
            ["export.strict=false"],
        )
    if keys:  # a dict: pick one entry (torchvision deeplabv3's 'out')
        return Diagnosis(
            "unsupported_output",
            f"{context.backend} refuses the model's output {structure}: tracing takes tensors and tuples of tensors. "
            f"Wrap the model to return one entry, registry.common.SelectOutput with key '{keys[0]}' (the Core ML "
            "fix Apple's Core ML DeepLabV3 example applies), or use export=torch_export, which takes the dict as it is.",
            [f"model.wrapper={{_target_:registry.common.SelectOutput,key:{keys[0]}}}"],
        )
    if structure and structure[:1] in "([" and structure[1:].startswith("Tensor"):
        return Diagnosis(
            "unsupported_output",
            f"{context.backend} refuses the model's output {structure}: a trace returns tensors and tuples of "
            "tensors, and this one nests a list (or a value) it cannot type. Wrap the model to return its first "
            "output, registry.common.SelectOutput with key 0 (the rest is dropped: write a wrapper returning a "
            "flat tuple to keep it), or use export=torch_export, which takes nested outputs as they are.",
            ["model.wrapper={_target_:registry.common.SelectOutput,key:0}"],
        )
    return Diagnosis(
        "unsupported_output",
        f"{context.backend} refuses the model's output{' ' + structure if structure else ''}: strict tracing takes "
        "tensors and tuples of tensors only. export.strict=false lets torch.jit.trace return lists and dicts "
        "(their structure must not depend on the inputs); or wrap the model to return a tuple.",
        ["export.strict=false"],
    )


def _library_object_output(context: FailureContext, structure: str, kind: str) -> Diagnosis:
    """A model library's object (a transformers cache) in the output of a target that takes tensors only."""
    from converter.config.dotted_paths import top_package
    from converter.tensors.library_types import output_fix

    model = context.model
    fix = output_fix(model.library or top_package(model.loader["_target_"]), model.loader)
    keys = re.findall(r"'(\w+)': Tensor", structure)
    if fix:
        return Diagnosis(
            "unsupported_output",
            f"{context.backend} refuses the model's output {structure}: the {kind} is a library object this target "
            f"cannot carry (torch.export and the targets built on its program can). Build the model without it: "
            f"{fix.lstrip('+')}.",
            [fix],
        )
    return Diagnosis(
        "unsupported_output",
        f"{context.backend} refuses the model's output {structure}: the {kind} is a library object this target "
        "cannot carry. Wrap the model to return its tensors only"
        + (f": registry.common.SelectOutput with key '{keys[0]}'." if keys else "."),
        [f"model.wrapper={{_target_:registry.common.SelectOutput,key:{keys[0]}}}"] if keys else [],
    )


# A target's own compiler failing on a program torch.export produced and validated: not the
# model's fault (torch 2.14 AOTInductor on SAM 2: "Node _tensor_constant0 target _tensor_constant0
# references nonexistent attribute"; coremltools 9: "index shape (1, is5) must match input shape").
_COMPILER_ERRORS = (
    "references nonexistent attribute",
    "must match input shape",
    "InductorError",
    "LoweringException",
    "not supported in XNNPACK Delegate",  # ExecuTorch's XNNPACK partitioner (its output twice: delegate_output_twice)
    "SpecViolationError",  # ExecuTorch's Edge dialect verifier (e.g. a cat of mixed dtypes)
)
# ExecuTorch's runtime error 0x14 (OperatorMissing): no kernel for an operator left outside the delegate.
_EXECUTORCH_OPERATOR_MISSING = "error: 0x:14"


def runtime_operator_missing(context: FailureContext, location: Optional[Location]) -> Optional[Diagnosis]:
    """ExecuTorch loads the program but its runtime has no kernel for an operator XNNPACK did not take."""
    if context.backend != "executorch" or _EXECUTORCH_OPERATOR_MISSING not in context.message:
        return None
    return Diagnosis(
        "unsupported_op",
        "ExecuTorch's runtime could not load the program's forward (error 0x14, OperatorMissing): an operator that "
        "XNNPACK did not take has no kernel in this runtime build (result.json's graph facts list the operators "
        "left outside the delegate). Replace it with a patch in model.patches, build the runtime with that "
        "kernel, or pick another target.",
        [],
    )


# ExecuTorch's XNNPACK delegate cannot hand one tensor out as two of its outputs (ExecuTorch 1.5.1).
_XNNPACK_PASS_THROUGH = "is already in the inputs"


def delegate_output_twice(context: FailureContext, location: Optional[Location]) -> Optional[Diagnosis]:
    """XNNPACK refuses a partition returning one tensor twice: YOLO's pose head returns its keypoint
    maps and also decodes them, and XNNPACK's own passes drop the copy that kept the two apart."""
    if context.backend != "executorch" or context.stage != "export" or _XNNPACK_PASS_THROUGH not in context.message:
        return None
    structure = context.eager_structure() if context.eager_structure else None
    keys = re.findall(r"'(\w+)': ", structure or "") if (structure or "").startswith("{") else []
    key = keys[0] if keys else "0"
    return Diagnosis(
        "unsupported_output",
        f"{_at(location)}ExecuTorch's XNNPACK delegate would return one tensor as two of its outputs "
        f"({first_line(context.message)[:120]}): the model returns tensors it also goes on computing with "
        f"(YOLO's head returns its raw maps beside the decoded predictions). Return only what you deploy: "
        f"registry.common.SelectOutput with key {key} keeps {'that entry' if keys else 'the first output'} "
        "(YOLO's decoded predictions, what Ultralytics' own exports return), or wrap the model to return the "
        "outputs you need.",
        [f"model.wrapper={{_target_:registry.common.SelectOutput,key:{key}}}"],
    )


# A backend's full precision, and the one to try first when float16 overflows: bf16 keeps float32's range.
_FULL_PRECISION = {"openvino": "f32", "tensorrt": "fp32"}
_WIDE_HALF_PRECISION = {"openvino": "bf16"}


def precision_reference_failed(context: FailureContext, location: Optional[Location]) -> Optional[Diagnosis]:
    """Eager raised or overflowed at the target's reduced precision (converter/job/precision.py), so the
    target cannot be validated there: another precision."""
    if "PrecisionReferenceError" not in context.type:
        return None
    dtype = re.search(r"at (\w+) \(torch\.autocast\)", context.message)
    overflow = "overflows at" in context.message
    half = overflow and bool(dtype) and dtype.group(1) == "float16" and context.backend in _WIDE_HALF_PRECISION
    precision = _WIDE_HALF_PRECISION[context.backend] if half else _FULL_PRECISION.get(context.backend)
    reason = "bf16 keeps float32's exponent range" if half else "at full precision eager is the reference itself"
    remedy = (
        "scale the model's large activations down (a norm before them)"
        if overflow
        else "make the code autocast runs agree on dtypes (cast the value to the destination's dtype)"
    )
    return Diagnosis(
        "validation_mismatch",
        f"{_at(location)}{first_line(context.message)[:300]}. Run the target at {precision or 'full precision'}: "
        f"{reason}; or {remedy} if it must run at this one.",
        [f"export.options.precision={precision}"] if precision else [],
    )


def trace_check_failed(context: FailureContext, location: Optional[Location]) -> Optional[Diagnosis]:
    """torch.jit.trace's own check: tracing twice gave two graphs (torchvision's ViT: its shape asserts)."""
    if context.backend != "torchscript_trace" or "TracingCheckError" not in context.type:
        return None
    return Diagnosis(
        "trace_divergence",
        f"{_at(location)}torch.jit.trace traced the model twice and got different graphs ({first_line(context.message)[:120]}): "
        "some Python in forward runs differently from call to call, or records values as constants. converter "
        "validates the reloaded artifact against eager anyway, so turn trace's own check off and let validation "
        "judge; if validation then fails, the trace really depends on its inputs (export=torchscript_script).",
        ["export.options.check_trace=false"],
    )


def compiler_error(context: FailureContext, location: Optional[Location]) -> Optional[Diagnosis]:
    if context.stage != "export" or context.backend in ("torch_export", "torchscript_trace", "torchscript_script"):
        return None
    if not _has(context.message, *_COMPILER_ERRORS) and not _has(context.type, *_COMPILER_ERRORS):
        return None
    return Diagnosis(
        "compiler_error",
        f"{_at(location)}{context.backend}'s compiler failed on the program torch.export produced "
        f"({first_line(context.message)[:200]}): a limitation or bug of the target, not of the model's code. "
        "export=torch_export gives the same program as a .pt2, which runs; report the failure to the target's "
        "project with repro/, or replace the construct the compiler chokes on with a patch in model.patches.",
        ["export=torch_export"],
    )


def strict_tracing(context: FailureContext, location: Optional[Location]) -> Optional[Diagnosis]:
    if context.stage != "export" or context.backend != "torch_export":
        return None
    strict = context.job.export.strict
    dynamo = context.type.startswith("torch._dynamo.") or "PendingUnbackedSymbolNotFound" in context.type
    if (
        strict is not True
        or not dynamo
        or _is_data_dependent(context.message)
        or "Constraints violated" in context.message
    ):
        return None
    return Diagnosis(
        "strict_tracing",
        f"{_at(location)}strict export traces with Dynamo, which failed on this model's Python "
        f"({context.type.rsplit('.', 1)[-1]}: {first_line(context.message)}). Non-strict export runs the Python "
        "as Python and traces only tensor operations; it gets ultralytics YOLO11-pose through. export.strict=auto "
        "tries strict, then non-strict.",
        ["export.strict=false"],
    )


def _is_data_dependent(message: str) -> bool:
    return _has(message, "data-dependent", "GuardOnDataDependentSymNode")


def data_dependent(context: FailureContext, location: Optional[Location]) -> Optional[Diagnosis]:
    if context.stage != "export" or not _is_data_dependent(context.message):
        return None
    if context.backend == "torchscript_script":
        return None
    lists = [n for n in context.facts.get("list_parameters") or () if n in context.model.inputs]
    lists = [n for n in lists if context.model.inputs[n].count is None]
    return Diagnosis(
        "data_dependent",
        f"{_at(location)}the model branches (or loops) on a value computed from its inputs, so no single graph "
        "holds for every input. Rewrite the line: `torch.where(cond, a, b)` or `torch.cond(pred, true_fn, "
        "false_fn, operands)` for a branch, `torch._check(expr)` to tell the exporter what holds (e.g. "
        "`torch._check(boxes.numel() > 0)`). Without a rewrite, torch.jit.script keeps Python control flow: "
        "export=torchscript_script (with model.traced_submodules for parts that do not script). "
        "draft_report.txt in the run folder lists every such guard draft_export found."
        + (
            f" The scripted forward takes '{lists[0]}' as List[Tensor]: the fix gives it as a list too."
            if lists
            else ""
        ),
        ["export=torchscript_script", *(list_input_fix(context.model, lists[0]) if lists else [])],
    )


def static_shape(context: FailureContext, location: Optional[Location]) -> Optional[Diagnosis]:
    model = context.model
    if context.stage == "export" and _has(context.message, "Constraints violated", "Suggested fixes"):
        overrides, notes = suggested_fixes(context.message, model)
        return Diagnosis(
            "static_shape",
            f"{_at(location)}a declared dynamic dimension does not hold over its whole range: "
            f"{'; '.join(notes) or first_line(context.message)}. torch.export's own suggested fixes are "
            "turned into the overrides below.",
            overrides,
        )
    errors = [c.get("error") or "" for c in (context.validation or {}).get("cases") or []]
    pinned = pinned_dimensions(errors, list(model.inputs))
    if context.stage != "validate" or not pinned:
        return None
    failing = [c["name"] for c in context.validation["cases"] if not c.get("passed")]
    declared = {(name, int(index)) for name, per in model.dynamic_shapes.items() for index in per}
    what = ", ".join(f"{name}.shape[{index}] == {size}" for (name, index), size in sorted(pinned.items()))
    if set(pinned) <= declared and not context.job.export.dynamic:
        return Diagnosis(
            "static_shape",
            f"the artifact was exported with static shapes (export.dynamic=false) and refuses other sizes: it "
            f"insists on {what}, so {', '.join(failing)} failed (a static batch, as torchvision's MViT exported at batch 2). Declare the "
            "model's Dims to the exporter.",
            ["export.dynamic=true"],
        )
    overrides = []
    for (name, index), size in sorted(pinned.items()):
        if (name, index) not in declared:
            overrides.append(dim_override(model, name, index, min=1, max=max(size * 8, 16)))
    return Diagnosis(
        "static_shape",
        f"the artifact insists on {what} and refuses the sizes validation tried ({', '.join(failing)}): that "
        "dimension was exported static. Declare it as a Dim so the exporter keeps it symbolic.",
        overrides,
    )


def script_unsupported(context: FailureContext, location: Optional[Location]) -> Optional[Diagnosis]:
    if context.stage != "export" or context.backend != "torchscript_script":
        return None
    construct = (first_line(context.message) or context.type.rsplit(".", 1)[-1])[:160]
    library = _library_of(location)
    return Diagnosis(
        "script_unsupported",
        f"{_at(location)}torch.jit.script cannot compile this Python ({construct}). Either patch the construct: "
        f"write a scriptable replacement for the function or method in registry/patches/{library}/ and list "
        "it in model.patches as {target: module.Class.method, replacement: registry.patches...} (segment-anything "
        "needs five, see registry/patches/segment_anything/); or trace the submodule that holds it "
        "(model.traced_submodules=[path]) and script the rest; or use a backend that does not compile source: "
        "export=torch_export (or export=torchscript_trace when the model has no data-dependent control flow).",
        ["export=torch_export"],
    )


def _library_of(location: Optional[Location]) -> str:
    if location and "site-packages/" in location.file:
        return location.file.split("site-packages/", 1)[1].split("/", 1)[0]
    return "<library>"


def input_mutation(context: FailureContext, location: Optional[Location]) -> Optional[Diagnosis]:
    if context.stage != "export" or not _has(
        context.message, "frozen storage", "in-place operation", "mutate", "constant's list"
    ):
        return None
    return Diagnosis(
        "input_mutation",
        f"{_at(location)}the model writes in place into a tensor the exporter cannot mutate (an input, a view of "
        "one, or frozen storage: BLIP's models/blip.py line 112, `text.input_ids[:,0] = self.tokenizer.bos_token_id`). Clone before writing: add a "
        "patch to model.patches that replaces the method with one doing `x = x.clone()` before the write "
        "({target: library.module.Class.forward, replacement: registry.patches.<library>.<fixed_forward>}, "
        "as registry/patches/blip/ does). Writing through `.data` is never traced: use the tensor itself.",
        [],
    )


def missing_op(context: FailureContext, location: Optional[Location]) -> Optional[Diagnosis]:
    message = context.message
    if context.stage != "export":
        return None
    if _has(message, "no fake impl", "There is no fake", "does not have a fake", "'Meta' backend", "no meta"):
        op = re.search(r"(\w+::\w+(?:\.\w+)?)", message)
        return Diagnosis(
            "missing_op",
            f"{_at(location)}the operator {op.group(1) if op else ''} has no fake (meta) kernel, so torch.export "
            "cannot trace shapes through it. Register one with @torch.library.register_fake (it computes output "
            "shapes only), or use export=torchscript_trace, which runs the real kernel.",
            ["export=torchscript_trace"],
        )
    if _has(
        message,
        "Unknown builtin op",
        "not supported in opset",
        "Unsupported: ONNX export of operator",
        "No ONNX function",
        "Unsupported fx node",  # coremltools' frontend
        "Core ML only supports tensors with rank",
        "Model wasn't fully converted",  # OpenVINO's PyTorch frontend (OpConversionFailure)
    ):
        op = re.search(r"No ONNX function found for <OpOverload\(op='([\w.]+)'", message) or re.search(
            r"Conversion is failed for: ([^\n]+)", message
        )
        named = f"{op.group(1).strip()}" if op else first_line(message)[:200]
        return Diagnosis(
            "unsupported_op",
            f"{_at(location)}{context.backend} has no implementation of an operator the model calls ({named}). "
            "Replace the call with supported ones (a patch in model.patches), register a translation for it "
            "(ONNX: torch.onnx's custom_translation_table), or pick another target.",
            [],
        )
    return None


_TWO_DEVICES = re.compile(
    r"Expected all tensors to be on the same device, but (?:found at least two devices, ([\w:]+) and ([\w:]+)|"
    r"got (\w+) is on ([\w:]+), different from other tensors on ([\w:]+))"
)


def device_mismatch(context: FailureContext, location: Optional[Location]) -> Optional[Diagnosis]:
    """A tensor the model makes on the CPU meets the inputs on an accelerator (device=cuda only)."""
    errors = [context.message, *(c.get("error") or "" for c in (context.validation or {}).get("cases") or [])]
    found = next((m for m in map(_TWO_DEVICES.search, errors) if m), None)
    if found is None:
        return None
    named = found.group(3)
    devices = (found.group(4), found.group(5)) if named else (found.group(1), found.group(2))
    return Diagnosis(
        "device_mismatch",
        f"{_at(location)}an operator got tensors on two devices ({' and '.join(devices)}"
        f"{', the ' + named + ' on ' + devices[0] if named else ''}): the model makes a tensor in forward without "
        "`device=` (torch.arange, torch.zeros and torch.tensor default to the CPU) and uses it with the inputs "
        f"on {context.job.device}; a trace also records such a tensor as a constant on the device it was made "
        "on. Make it on the input's device (`torch.arange(n, device=x.device)`) with a patch in model.patches "
        "({target: library.module.Class.method, replacement: registry.patches.<library>.<fixed_method>}). "
        "converter's traces already repeat by a size without a CPU index (SAM's, SAM 2's and MViT's "
        "`repeat_interleave`).",
        [],
    )


def validation_mismatch(context: FailureContext, location: Optional[Location]) -> Optional[Diagnosis]:
    if context.stage != "validate" or "ValidationMismatch" not in context.type:
        return None
    validation = context.validation or {}
    failing = [c["name"] for c in validation.get("cases") or [] if not c.get("passed")]
    if context.backend == "torchscript_trace":
        tracer = next((w for w in context.warnings if w.get("category") == "TracerWarning"), None)
        where = _tracer_location(tracer) or location
        return Diagnosis(
            "trace_divergence",
            f"{_at(where)}the trace recorded one path through the model and the artifact differs from eager on "
            f"{', '.join(failing)}"
            f"{': the tracer warned ' + repr(first_line(tracer['message'])[:120]) if tracer else ''}. A tensor "
            "turned into a Python bool or int froze that branch. Script the model, which "
            "keeps control flow (export=torchscript_script), or trace only the submodules without branches and "
            "script the rest (model.traced_submodules=[...] with export=torchscript_script).",
            ["export=torchscript_script"],
            where,
        )
    divergence = validation.get("first_divergence")
    localized = (
        f" The first submodule whose output leaves the tolerance is '{divergence['module']}' (max abs error "
        f"{divergence['max_abs_error']:.3g}, cosine similarity {divergence['cosine_similarity']:.4f}): start there."
        if divergence
        else ""
    )
    return Diagnosis(
        "validation_mismatch",
        f"the artifact's numbers differ from eager beyond atol {validation.get('atol')} / rtol "
        f"{validation.get('rtol')} on {', '.join(failing)} ({validation.get('worst')}).{localized} A patch that "
        "changes the numbers, a backend option that changes precision, or an operator the target implements "
        "differently are the usual causes; loosen validate.atol only if the difference is float noise.",
        [],
        _divergence_location(divergence) or location,
    )


def _tracer_location(warning: Optional[Mapping[str, Any]]) -> Optional[Location]:
    if not warning or ":" not in warning.get("location", ""):
        return None
    path, _, line = warning["location"].rpartition(":")
    return location_at(path, int(line)) if line.isdigit() else None


def _divergence_location(divergence: Optional[Mapping[str, Any]]) -> Optional[Location]:
    if not divergence or not divergence.get("file"):
        return None
    return location_at(divergence["file"], int(divergence.get("line") or 0))


RULES: List[Rule] = [
    supervised,
    not_a_module,
    loader_rejected,
    precision_reference_failed,
    input_rejected,
    unsupported_output,
    static_shape,
    missing_op,
    input_mutation,
    data_dependent,
    strict_tracing,
    script_unsupported,
    device_mismatch,
    trace_check_failed,
    runtime_operator_missing,
    delegate_output_twice,
    compiler_error,
    artifact_error,
    validation_mismatch,
]
