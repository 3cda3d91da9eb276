"""Inputs bound to forward's parameters by name (converter/tensors/calls.py bind_by_name), as
`inspect.signature(forward).bind` places them."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, List, Optional

import pytest
import torch
from torch import nn

from converter.config.schema import InputConfig
from converter.errors import ConfigError
from converter.tensors.calls import bind_by_name, bound_to_module, passing, split
from tests.checks import TEST_CONF, run_in_process


def specs(*names: str, keyword: tuple = ()) -> dict:
    return {n: InputConfig(shape=[2], keyword=n in keyword) for n in names}


def how(forward: Any, *names: str, keyword: tuple = ()) -> dict:
    return passing(bind_by_name(inspect.signature(forward), specs(*names, keyword=keyword)))


def gpt2_forward(input_ids=None, past_key_values=None, attention_mask=None, token_type_ids=None, **kwargs): ...


def test_names_that_are_no_parameter_go_by_position_in_yaml_order() -> None:
    def forward(input): ...

    assert how(forward, "x") == {"x": "positional[0]"}


def test_named_inputs_go_by_position_until_a_gap_then_by_keyword() -> None:
    """GPT-2's second parameter is past_key_values: attention_mask must not land there."""
    assert how(gpt2_forward, "input_ids", "attention_mask") == {
        "input_ids": "positional[0]",
        "attention_mask": "keyword",
    }


def test_named_inputs_follow_forwards_order_not_the_yamls() -> None:
    def forward(a, b, c=None): ...

    bound = bind_by_name(inspect.signature(forward), specs("b", "a"))
    assert list(bound) == ["a", "b"] and passing(bound) == {"a": "positional[0]", "b": "positional[1]"}


def test_keyword_true_still_forces_a_keyword_and_opens_a_gap() -> None:
    def forward(a, b): ...

    assert how(forward, "a", "b", keyword=("a",)) == {"b": "keyword", "a": "keyword"}


def test_a_stranger_beside_named_inputs_is_a_config_error_listing_forwards_parameters() -> None:
    def forward(input_ids, attention_mask=None): ...

    with pytest.raises(ConfigError) as caught:
        how(forward, "input_ids", "mask")
    assert caught.value.key == "model.inputs.mask"
    assert "names no parameter of forward(input_ids, attention_mask=...)" in caught.value.problem
    assert caught.value.fix == "rename it to the parameter it feeds, one of: input_ids, attention_mask"


def test_a_stranger_goes_into_kwargs_when_forward_takes_them() -> None:
    assert how(gpt2_forward, "input_ids", "labels_mask") == {"input_ids": "positional[0]", "labels_mask": "keyword"}


def test_a_stranger_goes_into_args_after_every_positional_parameter() -> None:
    def forward(a, b, *rest, c, **extra): ...

    assert how(forward, "a", "b", "r0", "c") == {
        "a": "positional[0]",
        "b": "positional[1]",
        "r0": "positional[2]",
        "c": "keyword",
    }


class Wrapper(nn.Module):
    """A wrapper with its own forward: the wrapper's parameters decide, not the wrapped model's."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor, scale: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.model(images) * (1 if scale is None else scale)


def test_the_wrapper_forward_is_the_one_bound() -> None:
    module = Wrapper(nn.Identity())
    bound = bound_to_module(module, specs("scale", "images"))
    assert passing(bound) == {"images": "positional[0]", "scale": "positional[1]"}
    with pytest.raises(ConfigError, match=r"Wrapper.forward\(images, scale=...\)"):
        bound_to_module(module, specs("images", "input"))


def test_split_passes_each_input_as_bound() -> None:
    bound = bind_by_name(inspect.signature(gpt2_forward), specs("attention_mask", "input_ids"))
    args, kwargs = split(bound, {"input_ids": 1, "attention_mask": 2})
    assert args == (1,) and kwargs == {"attention_mask": 2}


class TwoInputs(nn.Module):
    def forward(
        self,
        input_ids: torch.Tensor,
        past: Optional[List[torch.Tensor]] = None,
        attention_mask: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        assert past is None, "attention_mask reached past"
        return input_ids.float() * attention_mask


QUICK = ["tracking=off", "benchmark=off", "validate.num_random_inputs=0", "security.allowed_prefixes=[tests]"]


@pytest.mark.parametrize("backend", ["torch_export", "torchscript_trace", "onnx"])
def test_every_backend_gets_the_same_binding(tmp_path: Path, backend: str) -> None:
    result = run_in_process(
        tmp_path / backend, "--config-dir", TEST_CONF, "+model=two_inputs", f"export={backend}", *QUICK
    )
    assert result.ok, result.failure
    assert result.input_passing == {"input_ids": "positional[0]", "attention_mask": "keyword"}


def test_a_stranger_is_a_config_error_before_anything_runs(run_cli) -> None:
    run = run_cli("--config-dir", TEST_CONF, "+model=two_inputs_misnamed", "security.allowed_prefixes=[tests]")
    assert run.returncode == 2
    assert (
        "Config error at 'model.inputs.mask': input 'mask' names no parameter of TwoInputs.forward(input_ids, past=..., attention_mask=...)"
        in run.stderr
    )
    assert not (run.cwd / "outputs").exists() or not list((run.cwd / "outputs").rglob("result.json"))
