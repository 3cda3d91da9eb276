import torch

from converter.inputs import make_inputs, validation_cases

VALIDATE = {"num_random_inputs": 2, "edge_values": True}


def model(**inputs) -> dict:
    return {"inputs": inputs, "dynamic_shapes": {}}


def spec(shape, dtype="float32", low=0.0, high=1.0, factory=None) -> dict:
    return {"shape": shape, "dtype": dtype, "low": low, "high": high, "factory": factory}


def test_same_seed_same_inputs_and_range_respected() -> None:
    m = model(x=spec([4, 5], low=-2.0, high=3.0))
    a, b = make_inputs(m, {}, 7, "cpu"), make_inputs(m, {}, 7, "cpu")
    assert torch.equal(a["x"], b["x"])
    assert a["x"].min() >= -2.0 and a["x"].max() <= 3.0 and a["x"].dtype == torch.float32
    assert not torch.equal(a["x"], make_inputs(m, {}, 8, "cpu")["x"])


def test_integer_range_is_inclusive_and_bool_is_bool() -> None:
    m = model(ids=spec([2000], dtype="int64", low=0, high=2), flags=spec([3], dtype="bool"))
    values = make_inputs(m, {}, 0, "cpu")
    assert set(values["ids"].unique().tolist()) == {0, 1, 2}
    assert values["flags"].dtype == torch.bool


def test_cases_cover_example_dims_random_and_edges() -> None:
    m = {
        "inputs": {"x": spec([2, 3], low=-1.0, high=1.0)},
        "dynamic_shapes": {"x": {0: {"name": "batch", "min": 1, "max": 9}}},
    }
    cases = validation_cases(m, VALIDATE, 0, "cpu")
    names = [c.name for c in cases]
    assert names == [
        "example",
        "dims[batch=1]",
        "dims[batch=5]",
        "dims[batch=9]",
        "random[0]",
        "random[1]",
        "edge[low]",
        "edge[high]",
    ]
    assert [c.inputs["x"].shape[0] for c in cases[:4]] == [2, 1, 5, 9]
    assert torch.all(cases[-2].inputs["x"] == -1.0) and torch.all(cases[-1].inputs["x"] == 1.0)


def test_factory_input_gets_dim_sizes() -> None:
    m = {
        "inputs": {"points": spec(None, factory={"_target_": "tests.helpers.points_factory", "scale": 10.0})},
        "dynamic_shapes": {"points": {0: {"name": "points", "min": 1, "max": 4}}},
    }
    cases = validation_cases(m, {"num_random_inputs": 0, "edge_values": False}, 0, "cpu")
    assert [c.inputs["points"].shape[0] for c in cases] == [3, 1, 2, 4]
    assert cases[0].inputs["points"].max() > 1.0  # kwargs reach the factory
