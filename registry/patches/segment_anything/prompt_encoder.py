"""segment_anything/modeling/prompt_encoder.py"""

import math
from typing import Tuple

import torch


def pe_encoding(self, coords: torch.Tensor) -> torch.Tensor:
    """`np.pi` is a NumPy value script cannot read; math.pi is the same float."""
    coords = 2 * coords - 1
    coords = coords @ self.positional_encoding_gaussian_matrix
    coords = 2 * math.pi * coords
    return torch.cat([torch.sin(coords), torch.cos(coords)], dim=-1)


def position_embedding_forward(self, size: Tuple[int, int]) -> torch.Tensor:
    """The original annotates the device as `Any`, which `torch.ones(device=...)` rejects in script."""
    h, w = size
    device = self.positional_encoding_gaussian_matrix.device
    grid = torch.ones((h, w), device=device, dtype=torch.float32)
    y_embed = grid.cumsum(dim=0) - 0.5
    x_embed = grid.cumsum(dim=1) - 0.5
    y_embed = y_embed / h
    x_embed = x_embed / w
    pe = self._pe_encoding(torch.stack([x_embed, y_embed], dim=-1))
    return pe.permute(2, 0, 1)
