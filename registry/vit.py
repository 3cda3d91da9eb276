"""torchvision's VisionTransformer with a classification head that answers.

VisionTransformer.__init__ sets its head's weight and bias to zero (`nn.init.zeros_`), the
start of fine-tuning. Offline, with no checkpoint, that model answers 0 to every input, and
validating an artifact against eager compares zeros with zeros: converter reports such a
validation as not done. Here the head gets a random init (Xavier-uniform, as torchvision gives
the encoder's linear layers), so the outputs carry the whole network; a checkpoint
(`model.checkpoint`) replaces every weight, this one included.
"""

from __future__ import annotations

from typing import Any

from torch import nn


def vision_transformer(**sizes: Any) -> nn.Module:
    """VisionTransformer(**sizes) (image_size, patch_size, num_layers, ...) with a random head."""
    from torchvision.models.vision_transformer import VisionTransformer

    model = VisionTransformer(**sizes)
    nn.init.xavier_uniform_(model.heads.head.weight)
    return model
