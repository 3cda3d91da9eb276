"""Small importable objects that tests name in configs (patch replacements, factories, wrappers)."""

from __future__ import annotations

from typing import Any, Dict

import torch
from torch import nn

PATCHED_MARK = "patched"


class Greeter:
    def greet(self) -> str:
        return "original"


def patched_greet(self: Any) -> str:
    return PATCHED_MARK


def points_factory(dims: Dict[str, int], generator: torch.Generator, device: str, scale: float = 1.0) -> torch.Tensor:
    """A structured input: `points` (N, 2) coordinates, N from the Dim 'points' (default 3)."""
    return torch.rand(dims.get("points", 3), 2, generator=generator).mul(scale).to(device)


class DictOutput(nn.Module):
    """Returns a dict, as torchvision's segmentation models do."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        y = self.linear(x)
        return {"out": y, "aux": y.relu()}


class NotScriptable(nn.Module):
    """torch.jit.script rejects this forward (a Python-only construct); a patch fixes it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([v * 2 for v in x.unbind(0)], 0) if hasattr(x, "shape") else x


def scriptable_forward(self: Any, x: torch.Tensor) -> torch.Tensor:
    return x * 2


def tripled_forward(self: Any, x: torch.Tensor) -> torch.Tensor:
    """A 'fix' that changes the numbers: validation must catch it."""
    return x * 3


class GatedConvolution(nn.Module):
    """A convolution whose channels are chunked in two, one gating the other (YOLO's C3k2 blocks,
    a GLU): the chunk returns a list of tensors whose first dim is the batch."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        value, gate = self.conv(x).chunk(2, dim=1)
        return value * torch.sigmoid(gate)


class MixedDtypeCat(nn.Module):
    """Concatenates a float32 tensor with its float64 copy: ExecuTorch's Edge verifier refuses the cat."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, x.to(torch.float64)])


class LabelsBesideScores(nn.Module):
    """SAM's prompt encoder in small: integer labels concatenated with float values computed from the
    input (a mixed-dtype cat, which torch promotes to float)."""

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return torch.cat([labels, torch.sigmoid(x) * 2], dim=1)


class ScaledLinear(nn.Module):
    """A linear layer whose outputs are `scale` times larger: at bf16 its error grows with them, past
    any fixed atol, as DeepLabV3's does. At float16 a scale of 1e6 overflows."""

    def __init__(self, features: int = 256, scale: float = 100.0) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.linear = nn.Linear(features, 16)
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x) * self.scale


class MaskedScores(nn.Module):
    """Scores with -inf where a mask says so, as attention masks hold: equal at every precision."""

    def __init__(self, features: int = 256) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.linear = nn.Linear(features, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scores = self.linear(x)
        return scores.masked_fill(torch.arange(16) % 2 == 0, float("-inf"))


class WritesIntoFloat32(nn.Module):
    """Writes a linear layer's output into a float32 buffer by index: under autocast the value is bf16,
    and index_put refuses mixed dtypes."""

    def __init__(self, features: int = 256) -> None:
        super().__init__()
        self.linear = nn.Linear(features, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(x.shape[0], 16)
        out[torch.arange(x.shape[0])] = self.linear(x)
        return out
