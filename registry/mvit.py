"""MViT video classifier (torchvision), random init; `test` is a 3-block MViT of the same code."""

from __future__ import annotations

import torch

from registry.common import check_variant

VARIANTS = ("test", "v1_b")
# (heads, in, out, kernel_q, kernel_kv, stride_q, stride_kv) per block, shaped like mvit_v1_b's table.
TEST_BLOCKS = [
    (1, 32, 64, [], [3, 3, 3], [], [1, 8, 8]),
    (2, 64, 64, [3, 3, 3], [3, 3, 3], [1, 2, 2], [1, 4, 4]),
    (2, 64, 128, [], [3, 3, 3], [], [1, 4, 4]),
]


def build_mvit(variant: str = "v1_b", frames: int = 16, size: int = 224) -> torch.nn.Module:
    """`frames` and `size` set the test variant's positional tables; v1_b is fixed at 16 x 224."""
    from torchvision.models.video import mvit as mvit_module

    check_variant("MViT", variant, VARIANTS)
    if variant == "v1_b":
        return mvit_module.mvit_v1_b(weights=None)
    blocks = [
        mvit_module.MSBlockConfig(
            num_heads=h, input_channels=i, output_channels=o, kernel_q=kq, kernel_kv=kkv, stride_q=sq, stride_kv=skv
        )
        for h, i, o, kq, kkv, sq, skv in TEST_BLOCKS
    ]
    return mvit_module._mvit(
        spatial_size=(size, size),
        temporal_size=frames,
        block_setting=blocks,
        residual_pool=False,
        residual_with_cls_embed=False,
        stochastic_depth_prob=0.0,
        weights=None,
        progress=False,
    )
