"""Every use of Hydra's private API, fenced in one place.

Checked against hydra-core 1.3.8 (tests/test_hydra_private.py fails loudly when an upgrade
moves or changes any of these). Each has no public equivalent in 1.3:

- `get_args_parser`: the argparse parser of Hydra's own command line, so converter parses
  `--multirun`, `--cfg`, `--config-dir` exactly as Hydra will.
- `BasicSweeper.split_arguments`: how a multirun expands `a=1,2 b=x,y` into jobs, so preflight
  checks every job before the sweep starts.
- `Callbacks`: the callback runner Hydra's `run_job` expects, for the single-run path that
  composes and checks before Hydra writes anything.
- `_locate`: import a dotted path; `hydra.utils.get_object` wraps it but also logs an error line
  for every miss, which preflight's own message replaces.
- `GlobalHydra.instance().hydra` and `Hydra.compose_config` (`current_app`, `compose_for_run`):
  the single-run path composes as `Hydra.run` does, with its logging configured, exactly once.
- `ConfigLoaderImpl.load_configuration`: remembered per call (`remember_compositions`). The basic
  sweeper composes every job twice with the same arguments (once to check the batch, once to
  launch it), and the preflight composes each job through the same call (`compose_as_sweeper`),
  so a job is composed once per invocation, about 0.12 s each here; and once at all while its
  config files stay as they are (converter.config.composition_store keeps them between runs).
"""

from __future__ import annotations

from typing import Any, List

HYDRA_CHECKED_VERSION = "1.3.8"


def get_args_parser() -> Any:
    from hydra._internal.utils import get_args_parser as parser

    return parser()


def basic_sweeper() -> Any:
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    return BasicSweeper


def callbacks(config: Any) -> Any:
    from hydra._internal.callbacks import Callbacks

    return Callbacks(config)


def locate(path: str) -> Any:
    from hydra._internal.utils import _locate

    return _locate(path)


def remember_compositions() -> None:
    """Compose each (search path, config name, overrides, mode) once per process; identical calls
    get a deep copy (a few ms). Config files do not change while one invocation runs."""
    import copy

    from hydra._internal.config_loader_impl import ConfigLoaderImpl

    compose = ConfigLoaderImpl.load_configuration
    if getattr(compose, "converter_remembers", False):
        return
    composed: dict = {}

    def load_configuration(
        self: Any, config_name: Any, overrides: Any, run_mode: Any, from_shell: bool = True, **kwargs: Any
    ) -> Any:
        search_path = tuple((entry.provider, entry.path) for entry in self.config_search_path.get_path())
        key = (search_path, config_name, tuple(overrides), run_mode, from_shell, tuple(sorted(kwargs.items())))
        if key not in composed:
            composed[key] = _stored_or_composed(
                key, lambda: compose(self, config_name, overrides, run_mode, from_shell, **kwargs)
            )
        return copy.deepcopy(composed[key])

    load_configuration.converter_remembers = True  # type: ignore[attr-defined]
    ConfigLoaderImpl.load_configuration = load_configuration  # type: ignore[method-assign]


# config sources -> their digest, once per process (files do not change during an invocation)
_sources: dict = {}
# The one override that differs from run to run of a sweep (its folder names the time of day).
SWEEP_DIR_KEY = "hydra.sweep.dir="


def _stored_or_composed(call: Any, compose: Any) -> Any:
    """The composition of `call` from converter.config.composition_store, else composed and stored.
    A stored one is taken only if every config source it was composed from (its
    hydra.runtime.config_sources: folders a `hydra.searchpath` added too) reads as it did then.
    A sweep's folder (its time of day) is the one override that differs from run to run: the
    stored composition is keyed without it and given this run's folder."""
    from converter.config import composition_store as store

    if not store.enabled():
        return compose()
    search, name, overrides, *rest = call
    folder = next((o for o in overrides if o.startswith(SWEEP_DIR_KEY)), None)
    general = tuple(SWEEP_DIR_KEY if o == folder else o for o in overrides)
    path = store.file_for((search, name, general, *rest))
    stored = store.load(path)
    if isinstance(stored, tuple) and len(stored) == 3:
        stored_folder, composition, digest = stored
        if (stored_folder is None) == (folder is None) and digest == _composed_from(composition):
            return _with_sweep_folder(composition, stored_folder, folder)
    composition = compose()
    store.save(path, (folder, composition, _composed_from(composition)))
    return composition


def _composed_from(composition: Any) -> str:
    """The digest of the config sources `composition` was composed from, as they read now."""
    from omegaconf import OmegaConf

    from converter.config import composition_store as store

    sources = OmegaConf.select(composition, "hydra.runtime.config_sources") or []
    entries = tuple((str(s.provider), f"{s.schema}://{s.path}") for s in sources)
    if entries not in _sources:
        _sources[entries] = store.sources_digest(entries)
    return _sources[entries]


def _with_sweep_folder(composition: Any, stored: Any, wanted: Any) -> Any:
    """`composition` as if composed with the override `wanted` in place of `stored` (both
    `hydra.sweep.dir=...`, or both None): the folder itself, and the override Hydra records."""
    if stored == wanted:
        return composition
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf, open_dict, read_write

    from converter.config.composition import parse_overrides

    (override,) = parse_overrides(OverridesParser.create(), [wanted])
    with read_write(composition.hydra), open_dict(composition.hydra):
        composition.hydra.sweep.dir = override.value()
        recorded = list(OmegaConf.select(composition, "hydra.overrides.hydra") or [])
        composition.hydra.overrides.hydra = [wanted if entry == stored else entry for entry in recorded]
    return composition


def compose_as_sweeper(app: Any, hydra_overrides: List[str]) -> Any:
    """A compose(config_name, overrides, return_hydra_config) that calls the config loader exactly as
    the basic sweeper's `load_sweep_config` will for the job (the sweep's Hydra overrides first, run
    mode, from the shell), so with `remember_compositions` on the sweeper reuses the composition."""
    from hydra.types import RunMode

    def compose(config_name: str, overrides: list, return_hydra_config: bool) -> Any:
        return app.config_loader.load_configuration(
            config_name=config_name, overrides=[*hydra_overrides, *overrides], run_mode=RunMode.RUN
        )

    return compose


def current_app() -> Any:
    """The Hydra instance `initialize_config_dir` set up (its config loader and compose_config)."""
    from hydra.core.global_hydra import GlobalHydra

    return GlobalHydra.instance().hydra


def compose_for_run(app: Any) -> Any:
    """A compose(config_name, overrides, return_hydra_config) that composes as `Hydra.run` does:
    run mode, overrides from the shell, logging configured."""
    from hydra.types import RunMode

    def compose(config_name: str, overrides: list, return_hydra_config: bool) -> Any:
        return app.compose_config(
            config_name, overrides, run_mode=RunMode.RUN, from_shell=True, with_log_configuration=True
        )

    return compose
