"""Wrappers many models need."""

from __future__ import annotations

import torch
from torch import nn


class SelectOutput(nn.Module):
    """Return one entry of a dict output: tracing refuses dicts ("Only tensors or tuples of
    tensors can be output from traced functions"), as the Core ML seed found with DeepLab."""

    def __init__(self, model: nn.Module, key: str = "out") -> None:
        super().__init__()
        self.model = model
        self.key = key

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)[self.key]
