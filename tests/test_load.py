"""converter.job.load: the loader, a checkpoint that never runs code, eval mode, the wrapper."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from converter.config.schema import ModelConfig
from converter.errors import ConfigError
from converter.job.load import load_model, read_checkpoint

LINEAR = {"_target_": "torch.nn.Linear", "in_features": 3, "out_features": 2}


def model(**fields) -> ModelConfig:
    return ModelConfig(name="m", loader=fields.pop("loader", LINEAR), inputs={}, **fields)


def test_a_module_is_built_in_eval_mode_with_its_checkpoint_and_wrapper(tmp_path: Path) -> None:
    weights = torch.nn.Linear(3, 2).state_dict()
    torch.save({"state_dict": weights}, tmp_path / "lightning.ckpt")  # Lightning's wrapper is unwrapped
    wrapper = {"_target_": "registry.common.SelectOutput", "key": 0}
    module = load_model(model(checkpoint=str(tmp_path / "lightning.ckpt"), wrapper=wrapper), "cpu")
    assert type(module).__name__ == "SelectOutput" and not module.training and not module.model.training
    assert torch.equal(module.model.weight, weights["weight"])


def test_a_checkpoint_that_is_not_a_state_dict_or_not_there_is_a_config_error(tmp_path: Path) -> None:
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(ConfigError, match="holds a list, not a state dict"):
        read_checkpoint(str(tmp_path / "list.pt"))
    with pytest.raises(ConfigError) as missing:
        read_checkpoint(str(tmp_path / "none.pt"))
    assert missing.value.key == "model.checkpoint"


def test_a_loader_that_returns_no_module_or_takes_no_such_argument_names_the_key() -> None:
    with pytest.raises(ConfigError) as not_module:
        load_model(model(loader={"_target_": "builtins.dict"}), "cpu")
    assert (not_module.value.key, not_module.value.problem) == (
        "model.loader",
        "the loader returned a dict, not a torch.nn.Module",
    )
    with pytest.raises(ConfigError) as unknown:
        load_model(model(loader={**LINEAR, "in_feature": 3}), "cpu")
    assert unknown.value.key == "model.loader.in_feature"
