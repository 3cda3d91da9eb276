"""converter's uses of Hydra's private API (converter/hydra_private.py) still work: this fails
loudly, naming the piece, when a Hydra upgrade moves or changes one."""

from __future__ import annotations

import hydra
import pytest

from converter import hydra_private


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
    assert hydra_private.locate("converter.hydra_private.locate") is hydra_private.locate
    with pytest.raises(ImportError):
        hydra_private.locate("converter.no_such_module.thing")
    from omegaconf import OmegaConf

    runner = hydra_private.callbacks(OmegaConf.create({"hydra": {"callbacks": {}}}))
    assert hasattr(runner, "on_job_start") and hasattr(runner, "on_job_end")


def test_hydra_is_the_version_the_fence_was_checked_against() -> None:
    assert hydra.__version__ == hydra_private.HYDRA_CHECKED_VERSION, (
        f"Hydra is {hydra.__version__}; converter/hydra_private.py was checked against "
        f"{hydra_private.HYDRA_CHECKED_VERSION}: re-check each private use, then update the constant"
    )
