"""BLIP image captioning (transformers), built from a config: no hub download."""

from __future__ import annotations

import torch
from torch import nn

from registry.common import check_variant

# `test`: the same classes, two narrow layers each, 64-px images.
VARIANTS = ("test", "base")
TEST_CONFIG = {
    "vision_config": {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "image_size": 64,
        "patch_size": 16,
    },
    "text_config": {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "encoder_hidden_size": 32,
    },
}


def build_blip(variant: str = "base") -> nn.Module:
    """`base` has the architecture of Salesforce/blip-image-captioning-base (BlipConfig's defaults)."""
    from transformers import BlipConfig, BlipForConditionalGeneration

    check_variant("BLIP", variant, VARIANTS)
    config = BlipConfig(**TEST_CONFIG) if variant == "test" else BlipConfig()
    return BlipForConditionalGeneration(config).eval()


class CaptionLogits(nn.Module):
    """Image + caption ids -> next-token logits, written as salesforce/BLIP's models/blip.py
    (BLIP_Decoder.forward, line 112) writes it: the first caption token is overwritten with BOS
    in place (`text.input_ids[:,0] = self.tokenizer.bos_token_id`)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.bos_token_id = int(model.config.text_config.bos_token_id)

    def forward(self, pixel_values: torch.Tensor, input_ids: torch.Tensor) -> torch.Tensor:
        input_ids[:, 0] = self.bos_token_id
        return self.model(pixel_values=pixel_values, input_ids=input_ids).logits
