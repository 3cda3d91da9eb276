"""What many models need: wrappers, and one check of a builder's variant name.

Every builder names the sizes it accepts in a module-level `VARIANTS`; `test` is always the
small variant of the same code that `conf/tiny/` selects."""

from __future__ import annotations

from typing import Any, Collection

import torch
from torch import nn


class SelectOutput(nn.Module):
    """Return one entry of a dict output (or, with an integer key, of a tuple): tracing refuses
    dicts ("Only tensors or tuples of tensors can be output from traced functions"), as
    torchvision's deeplabv3 returns, and nested lists it cannot type (YOLO's raw outputs)."""

    def __init__(self, model: nn.Module, key: Any = "out") -> None:
        super().__init__()
        self.model = model
        self.key = key

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)[self.key]


class CallableAsModule(nn.Module):
    """A function or bound method as an nn.Module, for exporters that take modules only.

    torch.export refuses a bound method such as SAM 2's `SAM2ImagePredictor._predict` ("Expected
    `mod` to be an instance of `torch.nn.Module`, got <class 'method'>"). A method's module becomes a submodule, so its
    weights are parameters of the artifact rather than constants.
    """

    def __init__(self, model: Any) -> None:
        super().__init__()
        owner = getattr(model, "__self__", None)
        if isinstance(owner, nn.Module):
            self.owner = owner
            self.method = model.__func__.__name__
        else:
            self.__dict__["function"] = model

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if "function" in self.__dict__:
            return self.__dict__["function"](*args, **kwargs)
        return getattr(self.owner, self.method)(*args, **kwargs)


def check_variant(model: str, variant: str, variants: Collection[str]) -> None:
    """A clear error for a variant the builder does not have (listing those it has)."""
    if variant not in variants:
        raise ValueError(f"unknown {model} variant '{variant}': use one of {', '.join(variants)}")
