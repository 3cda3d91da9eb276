"""The fix for "RuntimeError: cannot mutate tensors with frozen storage" (torch.export of BLIP's
models/blip.py line 112, in the torch.export challenges tutorial): clone before writing BOS."""

import torch


def caption_forward(self, pixel_values: torch.Tensor, input_ids: torch.Tensor) -> torch.Tensor:
    input_ids = input_ids.clone()
    input_ids[:, 0] = self.bos_token_id
    return self.model(pixel_values=pixel_values, input_ids=input_ids).logits
