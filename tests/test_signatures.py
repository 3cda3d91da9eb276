"""converter.config.signatures: a config's arguments bound to its target's signature before
anything runs, so a misspelt keyword is a ConfigError naming the key, not a TypeError in the job."""

from __future__ import annotations

import pytest

from converter.config.signatures import check_arguments
from converter.errors import ConfigError


def build(depth: int, width: int = 8, *, pretrained: bool = False) -> None:
    """A loader's shape: one required argument, defaults, a keyword-only flag."""


def wrap(module: object, scale: float = 1.0) -> None:
    """A wrapper's shape: converter passes the module first."""


def anything(**kwargs: object) -> None:
    """Takes every keyword: nothing to check here (its TypeError is turned into a message at run time)."""


def test_arguments_the_target_takes_pass() -> None:
    check_arguments(build, {"_target_": "m.build", "depth": 18, "pretrained": True}, "model.loader")
    check_arguments(wrap, {"_target_": "m.wrap", "scale": 2.0}, "model.wrapper", positional=1)
    check_arguments(anything, {"_target_": "m.anything", "weightz": 1}, "model.loader")


def test_a_misspelt_keyword_names_its_key_and_the_closest_argument() -> None:
    with pytest.raises(ConfigError) as caught:
        check_arguments(build, {"_target_": "m.build", "depth": 18, "widht": 4}, "model.loader")
    assert caught.value.key == "model.loader.widht"
    assert caught.value.paragraph() == (
        "Config error at 'model.loader.widht': 'm.build' takes no argument 'widht'. "
        "Fix: did you mean 'width'? remove it, or use one of: depth, width, pretrained"
    )


def test_a_required_argument_nobody_gives_is_named() -> None:
    with pytest.raises(ConfigError) as caught:
        check_arguments(build, {"_target_": "m.build", "width": 4}, "model.loader")
    assert caught.value.key == "model.loader"
    assert "'m.build' cannot be called with these arguments (missing a required argument: 'depth')" in str(caught.value)


def test_a_partial_target_may_leave_required_arguments_for_later() -> None:
    check_arguments(build, {"_target_": "m.build", "_partial_": True, "width": 4}, "model.loader")


def test_arguments_converter_supplies_count_as_given() -> None:
    def factory(dims: dict, generator: object, device: str, count: int = 1) -> None: ...

    check_arguments(
        factory, {"_target_": "m.factory"}, "model.inputs.x.factory", supplied=("dims", "generator", "device")
    )
    with pytest.raises(ConfigError, match="missing a required argument: 'device'"):
        check_arguments(factory, {"_target_": "m.factory"}, "model.inputs.x.factory", supplied=("dims", "generator"))
