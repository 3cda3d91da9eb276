import pytest

from converter.config.schema import DimConfig, InputConfig
from converter.errors import ConfigError
from converter.tensors.dims import DimRange, collect_dims, example_sizes, to_torch_dynamic_shapes, validation_sizes

INPUTS = {"image": InputConfig(shape=[2, 3, 32, 32]), "mask": InputConfig(shape=[2, 1, 32, 32])}


def batch(min_: int = 1, max_: int = 8, name: str = "batch") -> DimConfig:
    return DimConfig(name=name, min=min_, max=max_)


def test_same_name_in_two_inputs_is_one_dim() -> None:
    spec = {"image": {0: batch()}, "mask": {0: batch()}}
    dims = collect_dims(spec, INPUTS)
    assert dims == {"batch": DimRange("batch", 1, 8)}
    shapes = to_torch_dynamic_shapes(["image", "mask"], spec, dims)
    assert shapes[0][0] is shapes[1][0], "one torch.export.Dim object must be shared"
    assert shapes[0][0].__name__ == "batch"


def test_inputs_without_dims_map_to_none_and_no_spec_to_none() -> None:
    spec = {"image": {0: batch()}}
    shapes = to_torch_dynamic_shapes(["image", "mask"], spec, collect_dims(spec, INPUTS))
    assert shapes[1] is None
    assert to_torch_dynamic_shapes(["image"], {}, {}) is None


@pytest.mark.parametrize(
    ("spec", "key", "words"),
    [
        ({"image": {0: batch()}, "mask": {0: batch(max_=16)}}, "model.dynamic_shapes.mask.0", "declared twice"),
        ({"image": {7: batch()}}, "model.dynamic_shapes.image.7", "does not exist"),
        ({"image": {0: batch(min_=4)}}, "model.dynamic_shapes.image.0", "outside"),
        ({"image": {0: batch(min_=9, max_=3)}}, "model.dynamic_shapes.image.0", "min=9 > max=3"),
        ({"depth": {0: batch()}}, "model.dynamic_shapes.depth", "not one of the model's inputs"),
    ],
)
def test_bad_dims_name_the_key(spec: dict, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        collect_dims(spec, INPUTS)
    assert info.value.key == key
    assert words in info.value.paragraph()


def test_validation_sizes_cover_min_middle_max_of_every_dim() -> None:
    dims = {"batch": DimRange("batch", 1, 9), "points": DimRange("points", 2, 2)}
    assert validation_sizes(dims) == [{"batch": 1, "points": 2}, {"batch": 5, "points": 2}, {"batch": 9, "points": 2}]
    assert validation_sizes({}) == []


def test_example_sizes_read_from_shapes() -> None:
    assert example_sizes({"image": {0: batch(), 2: batch(1, 64, "h")}}, INPUTS) == {"batch": 2, "h": 32}
