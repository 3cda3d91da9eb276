"""Wrappers many models need."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class SelectOutput(nn.Module):
    """Return one entry of a dict output (or, with an integer key, of a tuple): tracing refuses
    dicts ("Only tensors or tuples of tensors can be output from traced functions"), as the Core
    ML seed found with DeepLab, and nested lists it cannot type (YOLO's raw outputs)."""

    def __init__(self, model: nn.Module, key: Any = "out") -> None:
        super().__init__()
        self.model = model
        self.key = key

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)[self.key]


class CallableAsModule(nn.Module):
    """A function or bound method as an nn.Module, for exporters that take modules only.

    The SAM2 seed exported `SAM2ImagePredictor._predict`, a bound method ("Expected `mod` to
    be an instance of `torch.nn.Module`"). A method's module becomes a submodule, so its
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
