import pytest

from converter.errors import ConfigError
from converter.patches import apply_patches
from tests.helpers import PATCHED_MARK, Greeter

PATCH = {"target": "tests.helpers.Greeter.greet", "replacement": "tests.helpers.patched_greet"}


def test_patch_applies_inside_and_is_undone_after() -> None:
    with apply_patches([PATCH]):
        assert Greeter().greet() == PATCHED_MARK
    assert Greeter().greet() == "original"


def test_patch_is_undone_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError), apply_patches([PATCH]):
        assert Greeter().greet() == PATCHED_MARK
        raise RuntimeError("export blew up")
    assert Greeter().greet() == "original"


def test_earlier_patches_are_undone_when_a_later_one_is_bad() -> None:
    bad = {"target": "tests.helpers.Greeter.no_such_method", "replacement": "tests.helpers.patched_greet"}
    with pytest.raises(ConfigError) as info, apply_patches([PATCH, bad]):
        pass
    assert info.value.key == "model.patches[1].target"
    assert Greeter().greet() == "original"


def test_unresolvable_replacement_names_its_key() -> None:
    bad = {"target": "tests.helpers.Greeter.greet", "replacement": "tests.helpers.nope"}
    with pytest.raises(ConfigError) as info, apply_patches([bad]):
        pass
    assert info.value.key == "model.patches[0].replacement"
    assert "does not resolve" in info.value.paragraph()
