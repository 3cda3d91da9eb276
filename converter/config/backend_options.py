"""Each backend's `export.options`: one dataclass per target, the one place its option defaults
are stated. conf/export/<backend>.yaml takes them from here (its defaults list names
`/export_options/<backend>`, registered by `register_option_defaults`), the exporter builds them
from the job's options, and README's targets table lists them."""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields
from typing import Any, Dict, Optional


@dataclass
class TorchExportOptions:
    # Lower to the core ATen opset, as edge runtimes and AOTInductor expect.
    run_decompositions: bool = False
    # Export in no-grad mode, as inference runs. With grad on, a model that switches grad
    # mode inside (SAM 2's @torch.no_grad position encodings) gets wrap_with_set_grad_enabled
    # nodes, and torch 2.14 cannot reload the saved non-strict program (SpecViolationError).
    no_grad: bool = True
    # On an export failure, run torch.export.draft_export and keep its report (every guard and
    # failure it met, with locations) as draft_report.txt in the run folder and in MLflow.
    draft_report: bool = True


@dataclass
class TraceOptions:
    # Re-run the trace on the example and compare: torch's own consistency check.
    check_trace: bool = True
    # torch.jit.freeze: inline parameters as constants for inference.
    freeze: bool = False


@dataclass
class ScriptOptions:
    # torch.jit.freeze: inline parameters as constants for inference.
    freeze: bool = False


ONNX_OPTIMIZATION_LEVELS = ("disable", "basic", "extended", "all")


@dataclass
class OnnxOptions:
    # ONNX opset of the exported graph (torch.onnx's translation supports 18 and later).
    opset: int = 18
    # torch.onnx's graph optimizer (constant folding, redundant-node removal) after translation.
    optimize: bool = True
    # ONNX Runtime's graph optimizations when the session loads: disable, basic, extended, all.
    graph_optimization_level: str = "all"
    # Session intra-op threads; null: benchmark.threads, else torch's thread count.
    intra_op_threads: Optional[int] = None

    def __post_init__(self) -> None:
        if self.graph_optimization_level not in ONNX_OPTIMIZATION_LEVELS:
            raise ValueError(
                f"graph_optimization_level '{self.graph_optimization_level}' is not an ONNX Runtime level; "
                f"use one of {', '.join(ONNX_OPTIMIZATION_LEVELS)}"
            )


@dataclass
class AotiOptions:
    # Fold weights into the compiled graph (inductor's `freezing`): the CPU speed-up.
    freezing: bool = True
    # Benchmark kernel choices while compiling (slow to compile; helps most on GPUs).
    max_autotune: bool = False
    # Any other torch._inductor.config key, passed through (e.g. {cpp.threads: 2}).
    inductor_configs: Optional[Dict[str, Any]] = None
    # As export=torch_export: export under no_grad.
    no_grad: bool = True
    # With a dynamic Dim, pack convolution weights for oneDNN at compile time, at the example's
    # sizes (with freezing); Inductor otherwise repacks them on every call (inductor_private.py).
    pack_conv_weights: bool = True


COREML_SOURCES = ("torch_export", "trace", "script")
COREML_TARGETS = ("mlprogram", "neuralnetwork")


@dataclass
class CoreMLOptions:
    # What coremltools converts: the torch.export program, a torch.jit.trace or a torch.jit.script.
    source: str = "torch_export"
    # mlprogram (.mlpackage, iOS 15+) or neuralnetwork (.mlmodel, older devices).
    convert_to: str = "mlprogram"
    # Per input name: {type: image, scale: 0.0171, bias: [...], color_layout: RGB} or {type: tensor}.
    inputs: Optional[Dict[str, Any]] = None
    # user_defined_metadata; dict and list values are stored as JSON (Xcode's preview params).
    metadata: Optional[Dict[str, Any]] = None
    # e.g. iOS16, macOS13; null: coremltools' default for convert_to.
    minimum_deployment_target: Optional[str] = None
    # mlprogram only: float16 (coremltools' default) or float32.
    compute_precision: Optional[str] = None

    def __post_init__(self) -> None:
        # null in YAML (so `export.options.inputs={x: {...}}` can set it from the command line)
        self.inputs, self.metadata = dict(self.inputs or {}), dict(self.metadata or {})
        if self.source not in COREML_SOURCES:
            raise ValueError(f"source '{self.source}' is not one of {', '.join(COREML_SOURCES)}")
        if self.convert_to not in COREML_TARGETS:
            raise ValueError(f"convert_to '{self.convert_to}' is not one of {', '.join(COREML_TARGETS)}")
        for name, spec in self.inputs.items():
            if (spec or {}).get("type", "tensor") not in ("tensor", "image"):
                raise ValueError(f"inputs.{name}.type must be tensor or image")


# precision -> the torch dtype eager runs at to set a reduced precision's tolerance.
TENSORRT_PRECISIONS = {"fp32": None, "fp16": "float16"}


@dataclass
class TensorRTOptions:
    # Kernels TensorRT may pick: fp32, or fp16 (faster on tensor cores, looser numbers).
    precision: str = "fp32"
    # TensorRT's builder workspace in MiB (null: its default).
    workspace_mb: Optional[int] = None

    def __post_init__(self) -> None:
        if self.precision not in TENSORRT_PRECISIONS:
            raise ValueError(f"precision '{self.precision}' is not one of {', '.join(TENSORRT_PRECISIONS)}")


# precision -> the torch dtype eager runs at to set a reduced precision's tolerance (converter/job/precision.py).
OPENVINO_PRECISIONS = {"f32": None, "bf16": "bfloat16", "f16": "float16"}


@dataclass
class OpenVinoOptions:
    # Inference precision of the CPU plugin: f32 (exact), bf16 or f16 (faster; validation allows 3x the
    # error eager PyTorch makes at that precision, recorded in result.json).
    precision: str = "f32"
    # Store weights as fp16 in model.bin (half the size, about 2e-3 error).
    compress_weights: bool = False
    # The torch.export program it converts: no-grad, as inference runs.
    no_grad: bool = True
    run_decompositions: bool = False

    def __post_init__(self) -> None:
        if self.precision not in OPENVINO_PRECISIONS:
            raise ValueError(f"precision '{self.precision}' is not one of {', '.join(OPENVINO_PRECISIONS)}")


EXECUTORCH_DELEGATES = ("xnnpack", "none")


@dataclass
class ExecuTorchOptions:
    # xnnpack: delegate what XNNPACK takes (the fast path on CPUs); none: portable kernels only.
    delegate: str = "xnnpack"
    # The torch.export program it lowers: no-grad, as inference runs.
    no_grad: bool = True

    def __post_init__(self) -> None:
        if self.delegate not in EXECUTORCH_DELEGATES:
            raise ValueError(f"delegate '{self.delegate}' is not one of {', '.join(EXECUTORCH_DELEGATES)}")


BACKEND_OPTIONS: Dict[str, type] = {
    "torch_export": TorchExportOptions,
    "torchscript_trace": TraceOptions,
    "torchscript_script": ScriptOptions,
    "onnx": OnnxOptions,
    "aoti": AotiOptions,
    "coreml": CoreMLOptions,
    "tensorrt": TensorRTOptions,
    "openvino": OpenVinoOptions,
    "executorch": ExecuTorchOptions,
}


def option_defaults(options: type) -> Dict[str, Any]:
    """The dataclass's field defaults as plain values (before its __post_init__ checks)."""
    values: Dict[str, Any] = {}
    for option in fields(options):
        values[option.name] = option.default_factory() if option.default is MISSING else option.default
    return values


def register_option_defaults() -> None:
    """Make `/export_options/<backend>` available to conf/export/*.yaml's defaults lists: plain
    values, so an override may set a null option to a mapping; build_options types them later."""
    from hydra.core.config_store import ConfigStore

    for name, options in BACKEND_OPTIONS.items():
        ConfigStore.instance().store(group="export_options", name=name, node=option_defaults(options))
