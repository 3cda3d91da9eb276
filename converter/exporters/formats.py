"""The README's table of targets, rendered from the exporters themselves (`make readme`)."""

from __future__ import annotations

import importlib
import sys
from typing import List, Optional

from converter.config.backend_options import option_defaults
from converter.exporters import BACKENDS
from converter.records.readme_section import render_or_embed

START, END = "<!-- targets:start -->", "<!-- targets:end -->"

# backend -> (artifact, runtime that validates and benchmarks it)
RUNTIMES = {
    "torch_export": ("ExportedProgram", "`torch.export.load(...).module()`"),
    "torchscript_trace": ("TorchScript", "`torch.jit.load`"),
    "torchscript_script": ("TorchScript", "`torch.jit.load`"),
    "onnx": ("ONNX graph (opset in `export.options.opset`)", "ONNX Runtime (CPU; CUDA provider on `device=cuda`)"),
    "aoti": ("AOTInductor package", "`torch._inductor.aoti_load_package`"),
    "coreml": ("Core ML mlprogram / neuralnetwork", "Core ML (macOS only: elsewhere validation says `skipped`)"),
    "tensorrt": ("Torch-TensorRT ExportedProgram", "TensorRT engines (NVIDIA GPUs only)"),
    "openvino": ("OpenVINO IR from the torch.export program", "OpenVINO's CPU plugin (f32 unless `precision` asks)"),
    "executorch": ("ExecuTorch program, XNNPACK-delegated", "ExecuTorch's Python runtime (`executorch.runtime`)"),
}


# backend -> the format's own name, as the CLI's help lists them (one entry per format)
FORMATS = {
    "torch_export": "torch.export",
    "torchscript_trace": "TorchScript",
    "torchscript_script": "TorchScript",
    "onnx": "ONNX",
    "aoti": "AOTInductor",
    "coreml": "Core ML",
    "tensorrt": "TensorRT",
    "openvino": "OpenVINO",
    "executorch": "ExecuTorch",
}


def formats() -> str:
    """'torch.export, TorchScript, ONNX, ...': every target's format once, in the catalog's order."""
    return ", ".join(dict.fromkeys(FORMATS[name] for name in BACKENDS))


def default_backend() -> str:
    """The export group's default, as conf/config.yaml's defaults list names it."""
    from omegaconf import OmegaConf

    from converter.config.composition import CONF_DIR, CONFIG_NAME

    for entry in OmegaConf.load(CONF_DIR / f"{CONFIG_NAME}.yaml").get("defaults", []):
        if isinstance(entry, dict) or OmegaConf.is_dict(entry):
            if "export" in entry:
                return str(entry["export"])
    return ""


def backends_line() -> str:
    """'Backends: export=torch_export (default), ...': every target the exporters define."""
    default = default_backend()
    return "Backends: " + ", ".join(f"export={n}" + (" (default)" if n == default else "") for n in BACKENDS)


def _yaml(value: object) -> str:
    """An option's default as a user types it on the command line."""
    if value is None:
        return "null"
    return str(value).lower() if isinstance(value, bool) else str(value)


def render() -> str:
    lines = ["| `export=` | artifact | runs on | `export.options` and defaults | needs |", "|---|---|---|---|---|"]
    for name, where in BACKENDS.items():
        module_name, class_name = where.split(":")
        exporter = getattr(importlib.import_module(module_name), class_name)
        artifact, runtime = RUNTIMES[name]
        suffix = {
            "coreml": ".mlpackage / .mlmodel",
            "openvino": ".openvino/model.xml + .bin",
            "executorch": ".executorch/model.pte",
        }.get(name, exporter.suffix)
        options = ", ".join(f"`{name}={_yaml(value)}`" for name, value in option_defaults(exporter.Options).items())
        needs = [f"extra `{name}`" if getattr(exporter, "requires", ()) else ""]
        needs += [f"`{tool}`" for tool in getattr(exporter, "tools", ())]
        if getattr(exporter, "needs_cuda", False):
            needs.append("`device=cuda`")
        lines.append(
            f"| `{name}` | {artifact} (`{suffix}`) | {runtime} | {options} | {', '.join(n for n in needs if n) or '-'} |"
        )
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    return render_or_embed(render, START, END, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
