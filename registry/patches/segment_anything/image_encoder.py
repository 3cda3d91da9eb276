"""segment_anything/modeling/image_encoder.py"""

import torch
from segment_anything.modeling.image_encoder import window_partition, window_unpartition


def block_forward(self, x: torch.Tensor) -> torch.Tensor:
    """`pad_hw` was only defined inside `if window_size > 0`: script needs it in both branches."""
    shortcut = x
    x = self.norm1(x)
    if self.window_size > 0:
        H, W = x.shape[1], x.shape[2]
        x, pad_hw = window_partition(x, self.window_size)
        x = self.attn(x)
        x = window_unpartition(x, self.window_size, pad_hw, (H, W))
    else:
        x = self.attn(x)
    x = shortcut + x
    x = x + self.mlp(self.norm2(x))
    return x
