"""Export targets by name. Modules import lazily: naming a backend costs no torch import."""

from __future__ import annotations

import importlib
from typing import Any, Dict, Mapping

from converter.errors import ConfigError

BACKENDS: Dict[str, str] = {
    "torch_export": "converter.exporters.torch_export:TorchExportExporter",
    "torchscript_trace": "converter.exporters.torchscript_trace:TorchScriptTraceExporter",
    "torchscript_script": "converter.exporters.torchscript_script:TorchScriptScriptExporter",
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
            f"{str(exc).splitlines()[0]} for backend '{exporter.name}'",
            f"use only the options of {exporter.Options.__name__}: " + ", ".join(exporter.Options.__dataclass_fields__),
        ) from exc
    return OmegaConf.to_object(merged)
