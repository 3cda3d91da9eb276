"""Export targets by name. Modules import lazily: naming a backend costs no torch import."""

from __future__ import annotations

import importlib
from typing import Any, Dict, Mapping

from converter.errors import ConfigError, first_line

BACKENDS: Dict[str, str] = {
    "torch_export": "converter.exporters.torch_export:TorchExportExporter",
    "torchscript_trace": "converter.exporters.torchscript_trace:TorchScriptTraceExporter",
    "torchscript_script": "converter.exporters.torchscript_script:TorchScriptScriptExporter",
    "onnx": "converter.exporters.onnx:OnnxExporter",
    "aoti": "converter.exporters.aoti:AotiExporter",
    "coreml": "converter.exporters.coreml:CoreMLExporter",
    "tensorrt": "converter.exporters.tensorrt:TensorRTExporter",
    "openvino": "converter.exporters.openvino:OpenVinoExporter",
    "executorch": "converter.exporters.executorch:ExecuTorchExporter",
}


def check_backend(name: str) -> None:
    if name not in BACKENDS:
        raise ConfigError(
            "export.backend",
            f"unknown backend '{name}'",
            f"choose one of {', '.join(sorted(BACKENDS))} (e.g. export=torch_export)",
        )


def get_exporter(name: str) -> Any:
    check_backend(name)
    module_name, class_name = BACKENDS[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)()


def build_options(exporter: Any, options: Mapping[str, Any]) -> Any:
    """Merge `export.options` onto the backend's option dataclass; unknown keys are errors."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        merged = OmegaConf.merge(OmegaConf.structured(exporter.Options), dict(options))
    except OmegaConfBaseException as exc:
        raise ConfigError(
            f"export.options.{getattr(exc, 'key', '') or ''}".rstrip("."),
            f"{first_line(exc)} for backend '{exporter.name}'",
            f"use only the options of {exporter.Options.__name__}: " + ", ".join(exporter.Options.__dataclass_fields__),
        ) from exc
    try:
        return OmegaConf.to_object(merged)
    except ValueError as exc:  # the dataclass's own check of a value (__post_init__)
        raise ConfigError("export.options", str(exc), "correct the option named here") from exc


def check_packages(name: str, device: str = "cpu") -> None:
    """A backend whose optional packages are missing, or that needs a GPU the job does not ask
    for, fails before any job, naming the extra or the device."""
    import importlib.util

    module_name, class_name = BACKENDS[name].split(":")
    exporter_class = getattr(importlib.import_module(module_name), class_name)
    if getattr(exporter_class, "needs_cuda", False) and not device.startswith("cuda"):
        raise ConfigError(
            "device",
            f"export={name} compiles for NVIDIA GPUs only and this job has device={device}",
            "run it with device=cuda on a machine with a GPU, or pick a CPU target (export=onnx, export=aoti)",
        )
    import shutil

    for tool in getattr(exporter_class, "tools", ()):
        if shutil.which(tool) is None:
            raise ConfigError(
                "export.backend",
                f"backend '{name}' compiles with {tool}, which is not on PATH",
                f"install a C++ toolchain (apt-get install -y {tool}), or pick another target",
            )
    missing = [p for p in _requires(module_name, class_name) if importlib.util.find_spec(p) is None]
    if missing:
        raise ConfigError(
            "export.backend",
            f"backend '{name}' needs {', '.join(missing)}, which is not installed",
            f"pip install -e '.[{name}]' (the '{name}' extra), or pip install {' '.join(missing)}",
        )


def _requires(module_name: str, class_name: str) -> tuple:
    """The exporter class's `requires`, read without importing torch (exporters import it lazily)."""
    return tuple(getattr(getattr(importlib.import_module(module_name), class_name), "requires", ()))
