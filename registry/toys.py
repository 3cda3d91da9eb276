"""The two toy modules of "Export Pytorch model with TorchScript to inference" (a blog post of
2023-11-27 on tracing vs scripting), as it defines them: `Classification` and `InputConfirm`,
whose `else` branch a trace drops."""

import torch
import torch.nn.functional as F
from torch import nn


class Classification(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear1 = nn.Linear(320, 160)
        self.linear2 = nn.Linear(160, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.linear1(x)
        return F.sigmoid(self.linear2(x))


class InputConfirm(nn.Module):
    """Returns x when its sum is positive, -x otherwise: a trace keeps one branch only."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return x
        else:
            return -x
