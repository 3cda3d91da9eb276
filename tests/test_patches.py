import pytest

from converter.config.schema import PatchConfig
from converter.errors import ConfigError
from converter.job.patch import apply_patches, named_like
from tests.helpers import PATCHED_MARK, Greeter

PATCH = PatchConfig(target="tests.helpers.Greeter.greet", replacement="tests.helpers.patched_greet")


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
    bad = PatchConfig(target="tests.helpers.Greeter.no_such_method", replacement="tests.helpers.patched_greet")
    with pytest.raises(ConfigError) as info, apply_patches([PATCH, bad]):
        pass
    assert info.value.key == "model.patches[1].target"
    assert Greeter().greet() == "original"


def test_unresolvable_replacement_names_its_key() -> None:
    bad = PatchConfig(target="tests.helpers.Greeter.greet", replacement="tests.helpers.nope")
    with pytest.raises(ConfigError) as info, apply_patches([bad]):
        pass
    assert info.value.key == "model.patches[0].replacement"
    assert "does not resolve" in info.value.paragraph()


def _pe_encoding(self, coords: int = 1) -> int:
    """A replacement defined under another name."""
    return coords


def test_a_replacement_takes_the_name_of_the_attribute_it_replaces() -> None:
    renamed = named_like(_pe_encoding, "_pe_encoding_fixed")
    assert (renamed.__name__, renamed.__qualname__) == ("_pe_encoding_fixed", "_pe_encoding_fixed")
    assert (renamed.__doc__, renamed.__defaults__, renamed(None)) == (_pe_encoding.__doc__, (1,), 1)
    assert _pe_encoding.__name__ == "_pe_encoding", "the original is left as it was"
    assert named_like(_pe_encoding, "_pe_encoding") is _pe_encoding, "already named right: the same object"
    assert named_like(Greeter.greet, "greet") is Greeter.greet
    assert named_like(len, "size") is len, "a builtin is not a Python function: passed through"
