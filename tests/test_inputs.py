import torch

from converter.config.schema import DimConfig, InputConfig, ModelConfig, ValidateConfig
from converter.tensors.inputs import InputPlan

VALIDATE = ValidateConfig(num_random_inputs=2, edge_values=True)


def plan(inputs: dict, dynamic_shapes: dict | None = None) -> InputPlan:
    return InputPlan.of(ModelConfig(name="m", loader={}, inputs=inputs, dynamic_shapes=dynamic_shapes or {}))


def make_inputs(inputs: dict, sizes: dict, seed: int, device: str) -> dict:
    return plan(inputs).make(sizes, seed, device)


def spec(shape, dtype="float32", low=0.0, high=1.0, factory=None) -> InputConfig:
    return InputConfig(shape=shape, dtype=dtype, low=low, high=high, factory=factory)


def test_same_seed_same_inputs_and_range_respected() -> None:
    m = {"x": spec([4, 5], low=-2.0, high=3.0)}
    a, b = make_inputs(m, {}, 7, "cpu"), make_inputs(m, {}, 7, "cpu")
    assert torch.equal(a["x"], b["x"])
    assert a["x"].min() >= -2.0 and a["x"].max() <= 3.0 and a["x"].dtype == torch.float32
    assert not torch.equal(a["x"], make_inputs(m, {}, 8, "cpu")["x"])


def test_integer_range_is_half_open_as_torch_randint_and_bool_is_bool() -> None:
    m = {"ids": spec([2000], dtype="int64", low=0, high=3), "flags": spec([3], dtype="bool")}
    values = make_inputs(m, {}, 0, "cpu")
    assert set(values["ids"].unique().tolist()) == {0, 1, 2}
    assert values["flags"].dtype == torch.bool


def test_integer_edges_are_low_and_high_minus_one_and_float_edges_are_low_and_high() -> None:
    m = plan({"ids": spec([4], dtype="int64", low=3, high=1000), "x": spec([2], low=-1.0, high=2.0)}, {})
    cases = {c.name: c.inputs for c in m.validation_cases(VALIDATE, 0, "cpu")}
    assert cases["edge[low]"]["ids"].tolist() == [3, 3, 3, 3]
    assert cases["edge[high]"]["ids"].tolist() == [999, 999, 999, 999]
    assert cases["edge[high]"]["x"].tolist() == [2.0, 2.0]
    assert cases["edge[low]"]["x"].tolist() == [-1.0, -1.0]


def test_a_vocabulary_sized_high_never_draws_the_vocabulary_size() -> None:
    values = make_inputs({"ids": spec([20000], dtype="int64", low=0, high=1000)}, {}, 0, "cpu")["ids"]
    assert values.max().item() == 999 and values.min().item() == 0


def test_cases_cover_example_dims_random_and_edges() -> None:
    m = plan({"x": spec([2, 3], low=-1.0, high=1.0)}, {"x": {0: DimConfig(name="batch", min=1, max=9)}})
    cases = m.validation_cases(VALIDATE, 0, "cpu")
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
    m = plan(
        {"points": spec(None, factory={"_target_": "tests.helpers.points_factory", "scale": 10.0})},
        {"points": {0: DimConfig(name="points", min=1, max=4)}},
    )
    cases = m.validation_cases(ValidateConfig(num_random_inputs=0, edge_values=False), 0, "cpu")
    assert [c.inputs["points"].shape[0] for c in cases] == [3, 1, 2, 4]
    assert cases[0].inputs["points"].max() > 1.0  # kwargs reach the factory


def test_a_plan_narrowed_to_a_target_range_validates_only_inside_it() -> None:
    """ExecuTorch's dims_supported: a bound cut from above (XNNPACK's 15), a Dim made static (min = max)."""
    m = plan({"x": spec([2, 3])}, {"x": {0: DimConfig(name="batch", min=1, max=16)}})
    quick = ValidateConfig(num_random_inputs=0, edge_values=False)

    def dims(narrowed: InputPlan) -> list:
        return [c.inputs["x"].shape[0] for c in narrowed.validation_cases(quick, 0, "cpu") if c.name.startswith("dims")]

    assert dims(m.narrowed({"batch": {"min": 1, "max": 15}})) == [1, 8, 15]
    assert dims(m.narrowed({"batch": {"min": 2, "max": 2}})) == [2]
