"""DeepLabV3 semantic segmentation (torchvision), random init with no backbone download."""

from __future__ import annotations

import torch

from registry.common import check_variant

VARIANTS = ("resnet50", "resnet101")


def build_deeplabv3(variant: str = "resnet101", num_classes: int = 21) -> torch.nn.Module:
    from torchvision.models import segmentation

    check_variant("DeepLabV3", variant, VARIANTS)
    builder = getattr(segmentation, f"deeplabv3_{variant}")
    return builder(weights=None, weights_backbone=None, num_classes=num_classes, aux_loss=False)
