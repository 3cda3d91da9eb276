"""Small models that fail to export the ways real ones do, for the diagnosis tests: each is a
real nn.Module with the one construct that breaks it."""

from __future__ import annotations

from typing import Any, Callable, List

import torch
from torch import nn

from registry.toys import Classification


@torch.library.custom_op("converter_tests::scaled", mutates_args=())
def scaled(x: torch.Tensor) -> torch.Tensor:
    """A custom operator registered without a fake kernel: torch.export cannot trace through it."""
    return x * 2


class CustomOp(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return scaled(x) + 1


class WritesThroughData(nn.Module):
    """Writes into its input through `.data`, which non-strict export cannot trace."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x.data[:, 0] = 1.0
        return x * 2


class BoundedBatch(nn.Module):
    """Only takes up to 8 rows: a Dim declared up to 16 violates the model's own check."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        torch._check(x.shape[0] <= 8)
        return x * 2


class Doubler(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2


class TwoBlocks(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.Sequential(nn.Linear(8, 8), Block(), nn.Linear(8, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x)


class Block(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x) + 0.5


def drifting_block(self: Any, x: torch.Tensor) -> torch.Tensor:
    """A 'fix' to Block that changes its numbers: the divergence starts in blocks.1."""
    return torch.relu(x) * 1.01 + 0.5


def bound_forward() -> Callable[..., torch.Tensor]:
    """The mistake of the torch.export tutorial's first SAM 2 attempt: hand the exporter a bound method instead of a module."""
    return Classification().forward


class ChecksAValue(nn.Module):
    """Tells the exporter a data-dependent fact with torch._check: one run-time assert in the graph."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        count = (x > 0.5).sum().item()
        torch._check(count >= 0)
        return x * 2


def drifting_classification(self: Any, x: torch.Tensor) -> torch.Tensor:
    """Classification.forward with its output nudged: a planted mismatch every target must catch."""
    return torch.sigmoid(self.linear2(self.linear1(x))) + 1e-2


class FnWithKwargs(nn.Module):
    """PyTorch ExportDB's `fn_with_kwargs`: a tuple, extra positionals, a keyword-only argument and **kwargs."""

    def forward(self, pos0, tuple0, *myargs, mykw0, **mykwargs):  # noqa: ANN001, ANN002, ANN003, ANN201
        out = pos0
        for arg in tuple0:
            out = out * arg
        for arg in myargs:
            out = out * arg
        out = out * mykw0
        out = out * mykwargs["input0"] * mykwargs["input1"]
        return out


class FlipAndShift(nn.Module):
    """A bool constant (positional) and a keyword-only tensor."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor, flip: bool, *, bias: torch.Tensor) -> torch.Tensor:
        y = self.linear(x) + bias
        if flip:
            return -y
        return y


class SumImages(nn.Module):
    """A list of tensors, as detection models take their images."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 3, padding=1)

    def forward(self, images: List[torch.Tensor]) -> torch.Tensor:
        return torch.stack([self.conv(image) for image in images]).sum(0)


@torch.library.custom_op("converter_tests::shifted", mutates_args=())
def shifted(x: torch.Tensor) -> torch.Tensor:
    """A custom operator torch.export can trace (it has a fake kernel) but ONNX has no function for."""
    return x + 1


@shifted.register_fake
def _shifted_fake(x: torch.Tensor) -> torch.Tensor:
    return torch.empty_like(x)


class CustomOpWithFake(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return shifted(x) * 2


class AddInALoop(nn.Module):
    """A scripted loop bounded by an int attribute, as FinishMySentence's `max_new_tokens`:
    coremltools 9.0's TorchScript frontend cannot bind `self.steps` ("Binding steps is neither
    a name of exisitng var in context") unless the module is frozen first."""

    def __init__(self, steps: int = 3) -> None:
        super().__init__()
        self.steps = steps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for _ in range(self.steps):
            x = x * 0.5 + 1.0
        return x


class TwoConvolutions(nn.Module):
    """Two convolutions and a pooled head: what Inductor's weight packing acts on, compiled fast."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.Conv2d(16, 8, 3, padding=1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x).mean(dim=(2, 3))


class ShiftedBy(nn.Module):
    """A keyword-only tensor input: exporters must pass the example's keyword inputs on."""

    def forward(self, x: torch.Tensor, *, bias: torch.Tensor) -> torch.Tensor:
        return x * 2 + bias


class TokenEmbedding(nn.Module):
    """A vocabulary of 10 token ids: an input drawn up to 11 indexes past the table."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 4)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.embed(ids).sum(-1)


class TakesTwo(nn.Module):
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x + y


class Cache:
    """An object forward expects where a YAML's positional tensor lands (transformers' past_key_values)."""

    def get_seq_length(self) -> int:
        return 0


class TakesACache(nn.Module):
    def forward(
        self, input_ids: torch.Tensor, past: Cache | None = None, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        length = 0 if past is None else past.get_seq_length()
        return input_ids.float() * (1 if mask is None else mask) + length
