"""converter.benchmark.run: the sizes a benchmark measures, and torch's thread count restored after."""

from __future__ import annotations

import pytest
import torch

from converter.benchmark.run import batch_points, torch_threads
from converter.config.schema import BenchmarkConfig, DimConfig, InputConfig, ModelConfig
from converter.errors import ConfigError
from converter.tensors.inputs import InputPlan

PLAN = InputPlan.of(
    ModelConfig(
        name="m",
        loader={"_target_": "torch.nn.Identity"},
        inputs={"x": InputConfig(shape=[2, 3])},
        dynamic_shapes={"x": {0: DimConfig(name="batch", min=1, max=8)}},
    )
)


def test_each_batch_size_is_a_point_and_none_is_the_example() -> None:
    assert batch_points(PLAN, BenchmarkConfig(batch_sizes=[1, 8])) == [{"batch": 1}, {"batch": 8}]
    assert batch_points(PLAN, BenchmarkConfig()) == [{"batch": 2}]


def test_a_size_outside_the_dim_or_a_dim_the_model_lacks_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as outside:
        batch_points(PLAN, BenchmarkConfig(batch_sizes=[4, 16]))
    assert (outside.value.key, outside.value.problem) == (
        "benchmark.batch_sizes",
        "[16] lie outside Dim 'batch' [1, 8]",
    )
    with pytest.raises(ConfigError) as missing:
        batch_points(PLAN, BenchmarkConfig(batch_sizes=[1], batch_dim="tokens"))
    assert missing.value.problem == "the model has no Dim named 'tokens' (it has ['batch'])"


def test_the_thread_count_is_set_for_the_block_and_restored() -> None:
    saved = torch.get_num_threads()
    with torch_threads(1) as inside:
        assert inside == torch.get_num_threads() == 1
    assert torch.get_num_threads() == saved
    with torch_threads(None) as untouched:
        assert untouched == saved
