"""Compose and check every job of an invocation before Hydra starts any of them.

Hydra's own errors exit 1 with a traceback hint, and by then it may have made the run
folder. Composing here first turns a typo, a wrong type, an unknown model or an import
path that does not resolve into one paragraph and exit code 2, with nothing written.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Sequence

from converter.config.composition import CONF_DIR, CONFIG_NAME, compose_checked, parse_overrides
from converter.config.schema import register_schema
from converter.errors import ConfigError
from converter.job.config_checks import check_job


def parse_argv(argv: List[str]) -> argparse.Namespace:
    from converter.config.hydra_private import get_args_parser

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
        if not args.multirun:
            cfg = compose_checked(compose, config_name, overrides, hydra=True)
            return SweepPlan([check_job(cfg, overrides)], Path("."))
        from converter.config.hydra_private import remember_compositions

        remember_compositions()  # the sweep's base too: a sweep run again composes nothing
        per_job, base = _expand_sweep(overrides, args)
        sweep_dir = Path(str(base.hydra.sweep.dir))
        compose_job = _compose_as_sweeper(overrides, sweep_dir)
        jobs = []
        for one in per_job:
            cfg = compose_checked(compose_job, config_name, [o for o in one if not _is_hydra(o)], hydra=True)
            jobs.append(check_job(cfg, overrides))
    return SweepPlan(jobs, sweep_dir)


def sweep_dir_override(sweep_dir: Path) -> str:
    """The hydra.sweep.dir override that pins the sweep to the folder preflight chose, every character kept."""
    quoted = "'" + str(sweep_dir).replace("\\", "\\\\").replace("'", "\\'") + "'"
    return f"hydra.sweep.dir={quoted}"


def _is_hydra(override: str) -> bool:
    return override.lstrip("+~").startswith(("hydra.", "hydra/"))


def _compose_as_sweeper(overrides: List[str], sweep_dir: Path) -> Any:
    """Compose each job with the very call Hydra's sweeper will make for it (its Hydra overrides as
    the launch's command line gives them: the user's, the sweep folder, the multirun mode), so the
    sweeper takes the composition from hydra_private.remember_compositions instead of composing again."""
    from converter.config.hydra_private import compose_as_sweeper, current_app

    hydra_overrides = [o for o in overrides if _is_hydra(o)]
    return compose_as_sweeper(current_app(), [*hydra_overrides, sweep_dir_override(sweep_dir), "hydra.mode=MULTIRUN"])


def _expand_sweep(overrides: List[str], args: argparse.Namespace) -> Any:
    """Each job's override list, as Hydra's basic sweeper would make them, and the sweep's base config."""
    from hydra import compose
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from converter.config.hydra_private import basic_sweeper

    # With the config loader, sweeps over a group's whole folder work: +tiny=glob(*)
    parser = OverridesParser.create(config_loader=GlobalHydra.instance().config_loader())
    parsed = parse_overrides(parser, overrides)
    fixed = [o.input_line for o in parsed if not o.is_sweep_override()]
    try:  # as Hydra's multirun does: the fixed overrides alone, before any swept value is chosen
        base = compose_checked(compose, args.config_name or CONFIG_NAME, fixed, hydra=True)
    except ConfigError:
        raise _swept_group_override(compose, args, parsed, fixed) from None
    params = base.hydra.sweeper.get("params") or {}
    from_config = [
        f"{key}={value}" for key, value in params.items() if key not in {o.get_key_element() for o in parsed}
    ]
    batches = basic_sweeper().split_arguments(parse_overrides(parser, from_config + overrides), max_batch_size=None)
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


def prepare_jobs(jobs: Sequence[Mapping[str, Any]]) -> None:
    """The checks that import, for every job the cache will not serve (a cache hit's key proves its
    targets resolved with these very sources and versions). A spare child process imports torch
    meanwhile if some job will run in one. When every job to run is isolated and they all run one
    model, the spare runs these checks too (it imports what its own job imports, nothing more), so
    this process does not import torch only to check; otherwise they run here."""
    from converter.sweep.cache import would_reuse

    runs = [not would_reuse(job) for job in jobs]
    from converter.sweep.isolation import warm

    to_run = [job for job, will_run in zip(jobs, runs, strict=True) if will_run]
    if any(job["job"]["isolate"] for job in to_run):
        warm.prestart()  # no-op when the CLI already started one
    else:
        warm.discard_spare()
    one_model = len({json.dumps(job["model"], sort_keys=True, default=str) for job in to_run}) == 1
    checked = one_model and all(job["job"]["isolate"] for job in to_run) and _checked_in_spare(to_run)
    for job, will_run in zip(jobs, runs, strict=True):
        check_imports(job, targets=will_run and not checked)


def _checked_in_spare(jobs: Sequence[Mapping[str, Any]]) -> bool:
    """True when the spare child ran the import checks and all passed; ConfigError when one failed;
    False when it could not answer (then this process checks)."""
    from converter.sweep.isolation import warm

    try:
        error = warm.check_in_spare(jobs)
    except LookupError:
        return False
    if error:
        raise ConfigError(**error)
    return True


def check_imports(job: Mapping[str, Any], targets: bool = True, services: bool = True) -> None:
    """Checks that import: every `_target_`, patch and dtype the job names must resolve and CUDA
    must be there if asked for (unless `targets` is false), and the tracking server must answer
    (unless `services` is false)."""
    if targets:
        _check_targets_resolve(job)
        _check_device(job)
    if services:
        _check_services(job)


def _check_targets_resolve(job: Mapping[str, Any]) -> None:
    from converter.config.dotted_paths import resolve
    from converter.config.signatures import check_arguments
    from converter.tensors.inputs import torch_dtype

    model = job["model"]
    loader = resolve(model["loader"]["_target_"], "model.loader._target_")
    check_arguments(loader, model["loader"], "model.loader")
    called = loader
    if model.get("wrapper"):
        wrapper = called = resolve(model["wrapper"].get("_target_", ""), "model.wrapper._target_")
        check_arguments(wrapper, model["wrapper"], "model.wrapper", positional=1)
    _check_binding(called, model["inputs"])
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
        from converter.config.security import check_checkpoint

        check_checkpoint(Path(model["checkpoint"]).expanduser())


def _check_binding(called: Any, inputs: Mapping[str, Any]) -> None:
    """Inputs bound to forward's parameters by name, checked now when the module's class is the
    target itself (a loader or wrapper class); a factory's module is checked when it is built."""
    import inspect

    from converter.config.schema import InputConfig
    from converter.tensors.calls import bind_by_name

    forward = getattr(called, "forward", None) if inspect.isclass(called) else None
    if forward is None:
        return
    try:
        signature = inspect.signature(forward)
    except (TypeError, ValueError):
        return
    unbound = signature.replace(parameters=list(signature.parameters.values())[1:])  # drop self
    specs = {name: InputConfig(**{k: v for k, v in spec.items()}) for name, spec in inputs.items()}
    bind_by_name(unbound, specs, f"{called.__name__}.forward")


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


def _check_device(job: Mapping[str, Any]) -> None:
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
    "SweepPlan",
    "check_imports",
    "check_job",
    "compose_jobs",
    "parse_argv",
    "prepare_jobs",
]
