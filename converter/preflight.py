"""Compose and check every job of an invocation before Hydra starts any of them.

Hydra's own errors exit 1 with a traceback hint, and by then it may have made the run
folder. Composing here first turns a typo, a wrong type, an unknown model or an import
path that does not resolve into one paragraph and exit code 2, with nothing written.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

from converter.errors import ConfigError
from converter.schema import SCHEMA_NAME, register_schema

CONF_DIR = Path(__file__).resolve().parents[1] / "conf"
CONFIG_NAME = "config"
DEVICE_PATTERN = re.compile(r"^(cpu|cuda(:\d+)?)$")


def parse_argv(argv: List[str]) -> argparse.Namespace:
    from hydra._internal.utils import get_args_parser

    return get_args_parser().parse_args(argv)


def job_overrides(args: argparse.Namespace) -> List[str]:
    """The command line's overrides, with --config-dir as the search-path entry it stands for."""
    overrides = list(args.overrides)
    if args.config_dir:
        overrides.append(f"hydra.searchpath=[file://{Path(args.config_dir).resolve()}]")
    return overrides


@dataclass(frozen=True)
class SweepPlan:
    """Every job an invocation would launch (resolved, plain dicts) and the folder its sweep writes to."""

    jobs: List[Dict[str, Any]]
    sweep_dir: Path


def compose_jobs(args: argparse.Namespace) -> SweepPlan:
    """Compose and check every job the invocation would launch, before any of them runs."""
    from hydra import compose, initialize_config_dir

    register_schema()
    overrides = job_overrides(args)
    config_name = args.config_name or CONFIG_NAME
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3", job_name="convert"):
        per_job, base = _expand_sweep(overrides, args) if args.multirun else ([overrides], None)
        jobs = []
        for one in per_job:
            cfg = compose_checked(compose, config_name, one, hydra=True)
            check_job(cfg, overrides)
            jobs.append(resolved_without_hydra(cfg))
        sweep_dir = Path(str(base.hydra.sweep.dir)) if base is not None else Path(".")
    return SweepPlan(jobs, sweep_dir)


def resolved_without_hydra(cfg: Any) -> Dict[str, Any]:
    """The job's config as plain, resolved dicts; Hydra's own node holds interpolations only a running job resolves."""
    from omegaconf import OmegaConf

    return {
        key: OmegaConf.to_container(cfg[key], resolve=True) if OmegaConf.is_config(cfg[key]) else cfg[key]
        for key in cfg
        if key != "hydra"
    }


def _expand_sweep(overrides: List[str], args: argparse.Namespace) -> Any:
    """Each job's override list, as Hydra's basic sweeper would make them, and the sweep's base config."""
    from hydra import compose
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    parsed = _parse(parser, overrides)
    fixed = [o.input_line for o in parsed if not o.is_sweep_override()]
    try:  # as Hydra's multirun does: the fixed overrides alone, before any swept value is chosen
        base = compose_checked(compose, args.config_name or CONFIG_NAME, fixed, hydra=True)
    except ConfigError:
        raise _swept_group_override(compose, args, parsed, fixed) from None
    params = base.hydra.sweeper.get("params") or {}
    from_config = [
        f"{key}={value}" for key, value in params.items() if key not in {o.get_key_element() for o in parsed}
    ]
    batches = BasicSweeper.split_arguments(_parse(parser, from_config + overrides), max_batch_size=None)
    return [job for batch in batches for job in batch], base


def _swept_group_override(compose: Any, args: argparse.Namespace, parsed: List[Any], fixed: List[str]) -> ConfigError:
    """Why the sweep's base does not compose. Hydra applies fixed overrides before it picks each
    swept group (+model=a,b), so `model.inputs.x.shape=[...]` finds no model yet; a one-value
    sweep is applied per job instead."""
    name = args.config_name or CONFIG_NAME
    for override in parsed:
        if override.is_sweep_override() or "." not in override.get_key_element():
            continue
        try:
            compose_checked(compose, name, [o for o in fixed if o != override.input_line], hydra=True)
        except ConfigError:
            continue
        key = override.get_key_element().lstrip("+~")
        value = override.input_line.split("=", 1)[1]
        return ConfigError(
            key,
            f"Hydra's multirun applies '{override.input_line}' before it picks each swept group, when the key does "
            "not exist yet",
            f"write it as a one-value sweep, applied per job: '{key}=choice({value})' (quoted for the shell)",
        )
    try:
        compose_checked(compose, name, fixed, hydra=True)
    except ConfigError as exc:
        return exc
    return ConfigError("", "the sweep's shared overrides do not compose", "check the overrides without --multirun")


def _parse(parser: Any, overrides: List[str]) -> List[Any]:
    from hydra.errors import OverrideParseException

    try:
        return parser.parse_overrides(overrides)
    except OverrideParseException as exc:
        raise _override_error(overrides, exc) from exc


def compose_checked(compose: Any, config_name: str, overrides: List[str], hydra: bool = False) -> Any:
    from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException

    try:
        return compose(config_name=config_name, overrides=overrides, return_hydra_config=hydra)
    except MissingConfigException as exc:
        raise _missing_config(exc) from exc
    except OverrideParseException as exc:
        raise _override_error(overrides, exc) from exc
    except ConfigCompositionException as exc:
        raise _composition_error(exc) from exc
    except Exception as exc:  # noqa: BLE001 (OmegaConf bugs surface as AttributeError and the like)
        text = str(exc)
        key = getattr(exc, "full_key", None) or _field(text, "full_key") or ""
        raise ConfigError(
            key,
            f"the override cannot be applied ({type(exc).__name__}: {text.splitlines()[0] if text else ''})",
            "set the key whole with a value of the schema's type, or delete it first with ~KEY",
        ) from exc


def _override_error(overrides: List[str], exc: Exception) -> ConfigError:
    """Name the override Hydra's grammar refused (it reports only the failing token)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    parser = OverridesParser.create()
    culprit = None
    for override in overrides:
        try:
            parser.parse_overrides([override])
        except OverrideParseException:
            culprit = override
            break
    text = str(exc).splitlines()[0]
    if culprit is None:
        return ConfigError("", text, "write overrides as key=value, +key=value to add, ~key to delete")
    key = culprit.lstrip("+~").split("=", 1)[0]
    return ConfigError(
        key,
        f"cannot parse the override '{culprit}' ({text})",
        "write key=value (+key=value to add, ~key to delete); quote a value with spaces or characters "
        "such as ~ [ ] { } : in single quotes, e.g. key='~/file.pt'",
    )


def _missing_config(exc: Any) -> ConfigError:
    text = str(exc)
    found = re.search(r"Could not find '([^/']+)/([^']+)'", text)
    if not found:
        return ConfigError("", text.splitlines()[0], "check the config name and --config-dir")
    group, name = found.groups()
    options = ", ".join(exc.options or []) or "none"
    return ConfigError(
        group,
        f"there is no {group} config named '{name}'",
        f"choose one of: {options}; or add {group}/{name}.yaml under conf/ or a folder given with --config-dir",
    )


def _composition_error(exc: Exception) -> ConfigError:
    cause = exc.__cause__
    text = str(cause) if cause is not None else str(exc)
    key = getattr(cause, "full_key", None) or _field(text, "full_key") or ""
    problem = next((line.strip() for line in text.splitlines() if line.strip() and not line.startswith("In '")), text)
    if "No match in the defaults list" in str(exc):
        name = re.search(r"override '([^']+)'", str(exc))
        group = name.group(1) if name else "model"
        return ConfigError(
            group, str(exc).splitlines()[0], f"add a group that is not selected by default with '+{group}=NAME'"
        )
    if "Could not delete from config" in text:
        found = re.search(r"(?:value of|config\.) '([^']+)'", text)
        return ConfigError(
            found.group(1) if found else key,
            problem.replace("Could not delete from config. ", "cannot delete: "),
            "~KEY deletes a key the config has; ~KEY=VALUE deletes it only when it holds VALUE",
        )
    if "not in '" in problem:
        schema = _field(text, "object_type")
        allowed = _allowed_keys(schema)
        fix = f"remove or correct it; {schema} accepts {allowed}" if allowed else "remove or correct the key"
    elif "not in struct" in problem:
        fix = "check the spelling; a key the config does not have yet needs a leading '+' (+key=value)"
    elif "could not be converted" in problem or "Invalid type" in problem or "incompatible" in problem:
        fix = "give a value of the type the schema expects (see converter/schema.py)"
    else:
        fix = "correct the value named here"
    return ConfigError(key, problem, fix)


def _field(text: str, name: str) -> Optional[str]:
    found = re.search(rf"{name}=?:?\s*([\w.\[\]]+)", text)
    return found.group(1) if found else None


def _allowed_keys(schema: Optional[str]) -> str:
    from converter import schema as schema_module

    cls = getattr(schema_module, schema or "", None)
    fields = getattr(cls, "__dataclass_fields__", None)
    return ", ".join(fields) if fields else ""


def check_job(cfg: Any, overrides: Sequence[str] = ()) -> None:
    """Checks that need only the config: required keys, what it may import, value ranges,
    backend, options, device, Dims, checkpoint file. Nothing is imported."""
    from omegaconf import OmegaConf

    from converter.dims import collect_dims
    from converter.exporters import build_options, get_exporter
    from converter.security import check_allowlist_source, check_targets

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
    check_allowlist_source(job, overrides)
    hydra_node = OmegaConf.to_container(cfg.hydra, resolve=False) if "hydra" in cfg else None
    check_targets(job, hydra_node)
    check_ranges(job)
    if not DEVICE_PATTERN.match(cfg.device):
        raise ConfigError(
            "device",
            f"'{cfg.device}' is not a device converter runs on",
            "use device=cpu, device=cuda or device=cuda:N",
        )
    build_options(get_exporter(cfg.export.backend), cfg.export.options or {})
    if cfg.model is None:
        return
    model = OmegaConf.to_container(cfg.model, resolve=True)
    wrapper = model.get("wrapper")
    if wrapper is not None and not (isinstance(wrapper, dict) and isinstance(wrapper.get("_target_"), str)):
        raise ConfigError(
            "model.wrapper",
            f"expected null or a mapping with a _target_, got {wrapper!r}",
            "write model.wrapper={_target_: registry.common.SelectOutput, key: out} or model.wrapper=null",
        )
    if "_target_" not in model["loader"]:
        raise ConfigError(
            "model.loader._target_",
            "the loader names no _target_",
            "set model.loader._target_ to a function or class that builds the nn.Module",
        )
    for name, spec in model["inputs"].items():
        factory = spec.get("factory")
        if factory is not None and not (isinstance(factory, dict) and isinstance(factory.get("_target_"), str)):
            raise ConfigError(
                f"model.inputs.{name}.factory",
                f"expected null or a mapping with a _target_, got {factory!r}",
                "write factory: {_target_: registry.x.make_points, ...} or factory: null",
            )
        if spec.get("shape") is None and not spec.get("factory"):
            raise ConfigError(
                f"model.inputs.{name}",
                "the input has neither a shape nor a factory",
                "give shape: [...] or factory: {_target_: ...}",
            )
    collect_dims(model["dynamic_shapes"], model["inputs"])
    if cfg.benchmark.enabled:
        from converter.bench.run import batch_points

        batch_points(model, OmegaConf.to_container(cfg.benchmark))
    if model.get("checkpoint"):
        checkpoint = Path(model["checkpoint"]).expanduser()
        if not checkpoint.is_file():
            raise ConfigError(
                "model.checkpoint",
                f"no file at '{model['checkpoint']}'",
                "give the path of a local state-dict file, or model.checkpoint=null for random init",
            )
        from converter.security import checkpoint_kind

        checkpoint_kind(checkpoint)


# (dotted key, test, what a valid value is): ranges the schema's types cannot say.
_RANGES = (
    ("validate.atol", lambda v: v is None or v >= 0, "null (the model's tolerance) or a tolerance of 0 or more"),
    ("validate.rtol", lambda v: v is None or v >= 0, "null (the model's tolerance) or a tolerance of 0 or more"),
    ("validate.num_random_inputs", lambda v: v >= 0, "0 or more"),
    ("benchmark.warmup", lambda v: v >= 0, "0 or more"),
    ("benchmark.min_iterations", lambda v: v >= 1, "1 or more"),
    ("benchmark.min_time_s", lambda v: v >= 0, "0 or more seconds"),
    ("benchmark.cv_threshold", lambda v: v > 0, "a fraction above 0 (0.10 is 10%)"),
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
    ("seed", lambda v: v >= 0, "0 or more"),
)


def _select(job: Mapping[str, Any], dotted: str) -> Any:
    value: Any = job
    for part in dotted.split("."):
        value = value[part]
    return value


def check_ranges(job: Mapping[str, Any]) -> None:
    """Values of the right type but outside what they can mean (a negative tolerance, low above high)."""
    for key, valid, meaning in _RANGES:
        value = _select(job, key)
        if not valid(value):
            raise ConfigError(key, f"{value!r} is out of range", f"give {meaning}")
    model = job.get("model") or {}
    for name, spec in (model.get("inputs") or {}).items():
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


def prepare_jobs(jobs: Sequence[Mapping[str, Any]]) -> None:
    """The checks that import, for every job the cache will not serve (a cache hit's key proves its
    targets resolved with these very sources and versions). A spare child process imports torch
    meanwhile if some job will run in one; otherwise a spare the CLI started is let go."""
    from converter.cache import would_reuse

    runs = [not would_reuse(job) for job in jobs]
    from converter.isolation import warm

    if any(will_run and job["job"]["isolate"] for job, will_run in zip(jobs, runs, strict=True)):
        warm.prestart()  # no-op when the CLI already started one
    else:
        warm.discard_spare()
    for job, will_run in zip(jobs, runs, strict=True):
        check_imports(job, targets=will_run)


def check_imports(job: Mapping[str, Any], targets: bool = True) -> None:
    """Checks that import: every `_target_`, patch and dtype the job names must resolve (unless
    `targets` is false), the tracking server must answer, and CUDA must be there if asked for."""
    if targets:
        _check_targets_resolve(job)
    _check_services(job)


def _check_targets_resolve(job: Mapping[str, Any]) -> None:
    from converter.inputs import torch_dtype
    from converter.signatures import check_arguments
    from converter.targets import resolve

    model = job["model"]
    loader = resolve(model["loader"]["_target_"], "model.loader._target_")
    check_arguments(loader, model["loader"], "model.loader")
    if model.get("wrapper"):
        wrapper = resolve(model["wrapper"].get("_target_", ""), "model.wrapper._target_")
        check_arguments(wrapper, model["wrapper"], "model.wrapper", positional=1)
    for name, spec in model["inputs"].items():
        if spec.get("factory"):
            key = f"model.inputs.{name}.factory"
            factory = resolve(spec["factory"].get("_target_", ""), f"{key}._target_")
            check_arguments(factory, spec["factory"], key, supplied=("dims", "generator", "device"))
        else:
            torch_dtype(spec["dtype"], f"model.inputs.{name}.dtype")
    for index, patch in enumerate(model.get("patches") or []):
        resolve(patch["replacement"], f"model.patches[{index}].replacement")
        resolve(patch["target"], f"model.patches[{index}].target")
    if model.get("checkpoint"):
        from converter.security import check_checkpoint

        check_checkpoint(Path(model["checkpoint"]).expanduser())


def _check_services(job: Mapping[str, Any]) -> None:
    if job["tracking"]["enabled"] and job["tracking"].get("uri"):
        from converter.tracking.store import check_reachable

        problem = check_reachable(job["tracking"]["uri"])
        if problem:
            raise ConfigError(
                "tracking.uri",
                f"no MLflow server answers at {job['tracking']['uri']} ({problem})",
                "start the server, correct tracking.uri, or run with tracking=off",
            )
    if job["device"].startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(
                "device",
                f"'{job['device']}' was asked for but torch sees no CUDA device",
                "run with device=cpu, or on a machine with a GPU and a CUDA build of torch",
            )


__all__ = [
    "CONF_DIR",
    "SCHEMA_NAME",
    "SweepPlan",
    "check_imports",
    "check_job",
    "compose_jobs",
    "parse_argv",
    "prepare_jobs",
]
