"""FinishMySentence from Apple's WWDC 2020 session 10153 ("Get models on device using Core ML
Converters"): a GPT-2 next-token predictor inside a greedy loop that stops at EOS. Deployed as a
hybrid: the predictor traced, the loop around it scripted
(`export=torchscript_script model.traced_submodules=[next_token_predictor]`)."""

from __future__ import annotations

import torch
from torch import nn

from registry.common import check_variant

VARIANTS = ("test", "small")
TEST_CONFIG = {"n_layer": 2, "n_head": 2, "n_embd": 32, "n_positions": 64, "vocab_size": 512}


def build_gpt2(variant: str = "small") -> nn.Module:
    """`small` has the architecture of the `gpt2` checkpoint (GPT2Config's defaults)."""
    from transformers import GPT2Config, GPT2LMHeadModel

    check_variant("GPT-2", variant, VARIANTS)
    config = GPT2Config(**TEST_CONFIG) if variant == "test" else GPT2Config()
    return GPT2LMHeadModel(config).eval()


class NextTokenLogits(nn.Module):
    """Token ids (1, S) -> logits (1, S, vocab) as a plain tensor: tracing refuses ModelOutput dicts.

    The causal mask is passed explicitly, as the 4-D boolean mask transformers uses as it is. Left
    to build it, transformers 5.23's masking_utils traces `aten::new_ones` (its mask function) and
    `aten::diff` (`find_packed_sequence_indices`) into the graph, and coremltools 9.0 converts
    neither ("PyTorch convert function for op 'diff' not implemented"). The logits are the same."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        length = input_ids.shape[1]
        causal = torch.ones(length, length, dtype=torch.bool, device=input_ids.device).tril()
        return self.model(input_ids=input_ids, attention_mask=causal.view(1, 1, length, length), use_cache=False).logits


class FinishMySentence(nn.Module):
    """Greedy completion of a 1-D token sequence until EOS, or `max_new_tokens` at most
    (the session's unbounded `while token != eos` never ends on a randomly initialised model)."""

    def __init__(self, model: nn.Module, eos: int = 198, max_new_tokens: int = 8) -> None:
        super().__init__()
        self.next_token_predictor = NextTokenLogits(model)
        self.eos = eos
        self.max_new_tokens = max_new_tokens

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sentence = x
        for _ in range(self.max_new_tokens):
            predictions = self.next_token_predictor(sentence.unsqueeze(0))
            token = torch.argmax(predictions[0, -1, :], dim=0, keepdim=True)
            sentence = torch.cat((sentence, token), 0)
            if int(token) == self.eos:
                break
        return sentence
