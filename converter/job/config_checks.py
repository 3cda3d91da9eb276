"""Checks of a composed job that need no import: keys with no value, what the config may call,
value ranges the schema's types cannot state, device, backend options, Dims, checkpoint file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Mapping, Sequence

from converter.config.composition import resolved_without_hydra
from converter.config.job_spec import typed_config
from converter.config.schema import ConverterConfig, ExportConfig, TrackingConfig
from converter.errors import ConfigError, raise_all

DEVICE_PATTERN = re.compile(r"^(cpu|cuda(:\d+)?)$")


def check_job(cfg: Any, overrides: Sequence[str] = ()) -> Dict[str, Any]:
    """Checks that need only the config, one section at a time: what it may import, value ranges,
    tracking, device, the backend and its options, the model (inputs, Dims, checkpoint). Nothing is
    imported. Every section's error is reported at once (ConfigErrors); within a section the first.
    Returns the resolved job; its typed config is built here once for this process (typed_config),
    and its task takes the same one."""
    from omegaconf import OmegaConf

    # Hydra's own node (present on a run's config) holds interpolations only a running job resolves.
    missing = sorted(
        k for key in cfg if key != "hydra" and OmegaConf.is_config(cfg[key]) for k in OmegaConf.missing_keys(cfg[key])
    )
    if missing:
        raise ConfigError(
            missing[0],
            "this required key has no value",
            f"set it in the model's YAML or on the command line ({missing[0]}=VALUE)",
        )
    job = resolved_without_hydra(cfg)
    config = typed_config(job)
    hydra_node = OmegaConf.to_container(cfg.hydra, resolve=False) if "hydra" in cfg else None
    errors = range_errors(job)
    sections = [
        lambda: _check_imports_allowed(job, overrides, hydra_node),
        lambda: _check_tracking(config.tracking),
        lambda: _check_device(config.device),
        lambda: _check_export(config.export, config.device),
    ]
    if not errors and config.model is not None:  # its input plan and the benchmark's sizes need values in range
        sections.append(lambda: _check_model(config))
    for section in sections:
        try:
            section()
        except ConfigError as exc:
            errors.append(exc)
    raise_all(errors)
    return job


def _check_imports_allowed(job: Mapping[str, Any], overrides: Sequence[str], hydra_node: Any) -> None:
    from converter.config.security import check_allowlist_source, check_targets

    check_allowlist_source(job, overrides)
    check_targets(job, hydra_node)


def _check_tracking(tracking: TrackingConfig) -> None:
    if tracking.enabled and tracking.register and not tracking.log_artifact_file:
        raise ConfigError(
            "tracking.register",
            "registering needs the artifact in MLflow, and tracking.log_artifact_file is false",
            "set tracking.log_artifact_file=true, or tracking.register=false",
        )


def _check_device(device: str) -> None:
    if not DEVICE_PATTERN.match(str(device)):
        raise ConfigError(
            "device",
            f"'{device}' is not a device converter runs on",
            "use device=cpu, device=cuda or device=cuda:N",
        )


def _check_export(export: ExportConfig, device: str) -> None:
    from converter.exporters import build_options, check_packages, get_exporter

    build_options(get_exporter(export.backend), export.options or {})
    if DEVICE_PATTERN.match(str(device)):
        check_packages(export.backend, str(device))


def _check_model(config: ConverterConfig) -> None:
    from converter.tensors.inputs import InputPlan

    model = config.model
    wrapper = model.wrapper
    if wrapper is not None and not (isinstance(wrapper, dict) and isinstance(wrapper.get("_target_"), str)):
        raise ConfigError(
            "model.wrapper",
            f"expected null or a mapping with a _target_, got {wrapper!r}",
            "write model.wrapper={_target_: registry.common.SelectOutput, key: out} or model.wrapper=null",
        )
    if "_target_" not in model.loader:
        raise ConfigError(
            "model.loader._target_",
            "the loader names no _target_",
            "set model.loader._target_ to a function or class that builds the nn.Module",
        )
    for name, spec in model.inputs.items():
        factory = spec.factory
        if factory is not None and not (isinstance(factory, dict) and isinstance(factory.get("_target_"), str)):
            raise ConfigError(
                f"model.inputs.{name}.factory",
                f"expected null or a mapping with a _target_, got {factory!r}",
                "write factory: {_target_: registry.x.make_points, ...} or factory: null",
            )
        if spec.constant:
            if not (spec.value is None or isinstance(spec.value, (bool, int, float, str))):
                raise ConfigError(
                    f"model.inputs.{name}.value",
                    f"a constant input must be a bool, int, float, string or null, not {type(spec.value).__name__}",
                    "give a single value, or build structured inputs with a factory",
                )
            if model.dynamic_shapes.get(name):
                raise ConfigError(
                    f"model.dynamic_shapes.{name}", "a constant input has no dimensions", "remove its Dims"
                )
            continue
        if spec.shape is None and not spec.factory:
            raise ConfigError(
                f"model.inputs.{name}",
                "the input has neither a shape nor a factory",
                "give shape: [...], a factory: {_target_: ...}, or constant: true with a value",
            )
        if spec.count is not None and spec.count < 1:
            raise ConfigError(f"model.inputs.{name}.count", f"{spec.count} is out of range", "give 1 or more")
    plan = InputPlan.of(model)  # checks every Dim against the inputs
    if config.benchmark.enabled:
        from converter.benchmark.run import batch_points

        batch_points(plan, config.benchmark)
    if model.checkpoint:
        checkpoint = Path(model.checkpoint).expanduser()
        if not checkpoint.is_file():
            raise ConfigError(
                "model.checkpoint",
                f"no file at '{model.checkpoint}'",
                "give the path of a local state-dict file, or model.checkpoint=null for random init",
            )
        from converter.config.security import checkpoint_kind

        checkpoint_kind(checkpoint)


# (dotted key, test, what a valid value is): ranges the schema's types cannot say.
_RANGES = (
    ("export.strict", lambda v: v is True or v is False or v == "auto", "true, false or auto"),
    ("validate.atol", lambda v: v is None or v >= 0, "null (the model's tolerance) or a tolerance of 0 or more"),
    ("validate.rtol", lambda v: v is None or v >= 0, "null (the model's tolerance) or a tolerance of 0 or more"),
    ("validate.num_random_inputs", lambda v: v >= 0, "0 or more"),
    ("benchmark.warmup", lambda v: v >= 0, "0 or more"),
    ("benchmark.min_iterations", lambda v: v >= 1, "1 or more"),
    ("benchmark.calls_per_turn", lambda v: v >= 1, "1 or more"),
    ("benchmark.min_time_s", lambda v: v >= 0, "0 or more seconds"),
    ("benchmark.cv_threshold", lambda v: v > 0, "a fraction above 0 (0.10 is 10%)"),
    ("benchmark.speedup_precision", lambda v: v > 0, "a fraction above 0 (0.05 is +-5%)"),
    ("benchmark.max_extra_rounds", lambda v: v >= 0, "0 or more"),
    ("benchmark.threads", lambda v: v is None or v >= 1, "null or 1 or more"),
    ("benchmark.confidence", lambda v: 0 < v < 1, "a probability between 0 and 1 (0.95)"),
    ("benchmark.batch_sizes", lambda v: all(s >= 1 for s in v), "sizes of 1 or more"),
    ("job.timeout_s", lambda v: v > 0, "more than 0 seconds"),
    ("job.max_memory_mb", lambda v: v is None or v > 0, "null (no cap) or more than 0 MiB"),
    ("job.poll_interval_s", lambda v: 0 < v <= 10, "between 0 and 10 seconds"),
    ("tracking.latency_regression", lambda v: v >= 0, "a fraction of 0 or more (0.10 is 10%)"),
    ("tracking.error_drift", lambda v: v >= 1, "a factor of 1 or more"),
    ("tracking.error_floor", lambda v: v >= 0, "0 or more"),
    ("diagnosis.max_fix_attempts", lambda v: v >= 1, "1 or more"),
    ("seed", lambda v: v >= 0, "0 or more"),
)


def _select(job: Mapping[str, Any], dotted: str) -> Any:
    value: Any = job
    for part in dotted.split("."):
        value = value[part]
    return value


def range_errors(job: Mapping[str, Any]) -> List[ConfigError]:
    """Every value of the right type but outside what it can mean (a negative tolerance, low above
    high), each its own error."""
    errors = [
        ConfigError(key, f"{_select(job, key)!r} is out of range", f"give {meaning}")
        for key, valid, meaning in _RANGES
        if not valid(_select(job, key))
    ]
    try:
        _check_model_ranges(job)
    except ConfigError as exc:
        errors.append(exc)
    return errors


def _check_model_ranges(job: Mapping[str, Any]) -> None:
    from converter.tensors.inputs import is_integer_dtype

    model = job.get("model") or {}
    for name, spec in (model.get("inputs") or {}).items():
        if spec.get("factory") is None and is_integer_dtype(spec["dtype"]) and spec["high"] <= spec["low"]:
            raise ConfigError(
                f"model.inputs.{name}.high",
                f"high={spec['high']} is not above low={spec['low']}: integer inputs draw from [low, high) as "
                "torch.randint does, so this range is empty",
                f"give high > low (model.inputs.{name}.high={int(spec['low']) + 1} for the single value {spec['low']}; "
                "high is the vocabulary size for token ids)",
            )
        if spec.get("factory") is None and spec["low"] > spec["high"]:
            raise ConfigError(
                f"model.inputs.{name}.low",
                f"low={spec['low']} is above high={spec['high']}",
                f"give low <= high (e.g. model.inputs.{name}.low={spec['high']} or raise high)",
            )
        if spec.get("shape") is not None and any(int(size) < 0 for size in spec["shape"]):
            raise ConfigError(f"model.inputs.{name}.shape", f"{spec['shape']} has a negative size", "use sizes >= 0")
    tolerance = model.get("tolerance") or {}
    for name in ("atol", "rtol"):
        if name in tolerance and tolerance[name] < 0:
            raise ConfigError(f"model.tolerance.{name}", f"{tolerance[name]!r} is out of range", "give 0 or more")
