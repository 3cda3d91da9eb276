"""converter's uses of Hydra's private API (converter/config/hydra_private.py) still work: this fails
loudly, naming the piece, when a Hydra upgrade moves or changes one."""

from __future__ import annotations

import hydra
import pytest

from converter.config import hydra_private


def test_the_private_pieces_exist_and_behave_as_converter_uses_them() -> None:
    args = hydra_private.get_args_parser().parse_args(["--multirun", "+model=x", "a=1,2"])
    assert (args.multirun, args.overrides) == (True, ["+model=x", "a=1,2"])

    from hydra.core.override_parser.overrides_parser import OverridesParser

    overrides = OverridesParser.create().parse_overrides(["a=1,2", "b=x,y"])
    batches = hydra_private.basic_sweeper().split_arguments(overrides, max_batch_size=None)
    assert [sorted(job) for job in batches[0]] == [
        ["a=1", "b=x"],
        ["a=1", "b=y"],
        ["a=2", "b=x"],
        ["a=2", "b=y"],
    ]
    assert hydra_private.locate("converter.config.hydra_private.locate") is hydra_private.locate
    with pytest.raises(ImportError):
        hydra_private.locate("converter.no_such_module.thing")
    from omegaconf import OmegaConf

    runner = hydra_private.callbacks(OmegaConf.create({"hydra": {"callbacks": {}}}))
    assert hasattr(runner, "on_job_start") and hasattr(runner, "on_job_end")


def test_hydra_is_the_version_the_fence_was_checked_against() -> None:
    assert hydra.__version__ == hydra_private.HYDRA_CHECKED_VERSION, (
        f"Hydra is {hydra.__version__}; converter/config/hydra_private.py was checked against "
        f"{hydra_private.HYDRA_CHECKED_VERSION}: re-check each private use, then update the constant"
    )


def test_a_remembered_composition_is_composed_once_and_handed_out_as_copies(monkeypatch) -> None:
    from hydra import compose, initialize_config_dir
    from hydra._internal.config_loader_impl import ConfigLoaderImpl

    from converter.cli.preflight import CONF_DIR
    from converter.config.schema import register_schema

    calls = []
    original = ConfigLoaderImpl.load_configuration

    def counted(self, *args, **kwargs):
        calls.append(args[:2])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ConfigLoaderImpl, "load_configuration", counted)
    hydra_private.remember_compositions()
    hydra_private.remember_compositions()  # once: a second call does not wrap again
    register_schema()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3", job_name="t"):
        first = compose("config", ["+model=classification", "export=onnx"])
        second = compose("config", ["+model=classification", "export=onnx"])
        other = compose("config", ["+model=classification"])
    assert len(calls) == 2, calls
    assert first == second and first is not second
    first.model.name = "changed"
    assert second.model.name == "classification", "a copy: what one caller changes, no other sees"
    assert (second.export.backend, other.export.backend) == ("onnx", "torch_export")


def test_the_single_runs_composition_goes_through_the_fence() -> None:
    from hydra import initialize_config_dir

    from converter.config.composition import CONF_DIR
    from converter.config.schema import register_schema

    register_schema()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3", job_name="t"):
        compose = hydra_private.compose_for_run(hydra_private.current_app())
        cfg = compose("config", ["+model=classification"], True)
    assert cfg.model.name == "classification" and cfg.hydra.mode is None  # RUN is set by the caller, as Hydra does


COUNT_COMPOSITIONS = """
import json, sys
from hydra._internal.config_loader_impl import ConfigLoaderImpl

original = ConfigLoaderImpl.load_configuration
calls = []

def counted(self, config_name, overrides, run_mode, *args, **kwargs):
    calls.append([o for o in overrides if not o.startswith("hydra.")])
    return original(self, config_name, overrides, run_mode, *args, **kwargs)

ConfigLoaderImpl.load_configuration = counted
from converter.cli.main import main

code = main(sys.argv[1:])
print(json.dumps({"code": code, "calls": calls}))
"""


def test_a_sweep_composes_each_job_once_the_preflight_handing_it_to_the_sweeper(tmp_path) -> None:
    """The preflight composes each job with the call Hydra's sweeper makes (compose_as_sweeper); the
    sweeper's batch check and its launch both take that composition."""
    import json
    import subprocess
    import sys

    from tests.conftest import cli_env

    script = tmp_path / "count.py"
    script.write_text(COUNT_COMPOSITIONS)
    argv = ["--multirun", "+tiny=classification", "export=onnx,torchscript_trace", "job=inprocess"]
    argv += ["tracking=off", "validate=off", "benchmark=off"]
    done = subprocess.run(
        [sys.executable, str(script), *argv], cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    jobs = [call for call in report["calls"] if "export=onnx" in call or "export=torchscript_trace" in call]
    assert report["code"] == 0
    assert sorted(map(tuple, jobs)) == [
        ("+tiny=classification", "export=onnx", "job=inprocess", "tracking=off", "validate=off", "benchmark=off"),
        ("+tiny=classification", "export=torchscript_trace", "job=inprocess", "tracking=off", "validate=off")
        + ("benchmark=off",),
    ], report["calls"]
