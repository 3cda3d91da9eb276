"""Traces that run on the device they are loaded on, whatever device built their indices.

torch.jit.trace keeps a size read from a tensor (`x.shape[0]`) symbolic by recording it as a
0-dim CPU tensor (`prim::NumToTensor`). `torch.repeat_interleave(x, x.shape[0], dim=0)` is then
recorded as the overload taking `repeats: Tensor`, which builds its gather index on the repeats'
device, the CPU, and index_selects the input with it. Eager is given an int and builds no index,
so only the trace fails on CUDA: "index is on cpu, different from other tensors on cuda:0 (when
checking argument in method wrapper_CUDA__index_select)". SAM's and SAM2's mask decoders repeat
the image embedding by the prompt count, and torchvision's MViT its temporal position embedding
by the spatial size.

While tracing, a scalar repeat is recorded as unsqueeze, expand and flatten instead: the same
values, no index, nothing tied to a device, and the size stays symbolic.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator, Optional, Tuple
from unittest import mock

_PARAMETERS = ("input", "repeats", "dim")


def _scalar_repeat(args: tuple, kwargs: dict) -> Optional[Tuple[Any, Any, Optional[int]]]:
    """(input, repeats, dim) when this call repeats every element the same number of times."""
    import torch

    bound = {**dict(zip(_PARAMETERS, args, strict=False)), **{k: v for k, v in kwargs.items() if k in _PARAMETERS}}
    repeats = bound.get("repeats")
    scalar = isinstance(repeats, int) or (isinstance(repeats, torch.Tensor) and repeats.dim() == 0)
    if not scalar or not isinstance(bound.get("input"), torch.Tensor):
        return None  # the one-argument overload or a per-element repeat: its index is the point
    return bound["input"], repeats, bound.get("dim")


def _repeat_by_expanding(input: Any, repeats: Any, dim: Optional[int]) -> Any:
    if dim is None:
        input, dim = input.flatten(), 0
    dim = dim % input.dim()
    sizes = [-1] * (input.dim() + 1)
    sizes[dim + 1] = repeats
    return input.unsqueeze(dim + 1).expand(sizes).flatten(dim, dim + 1)


def _expanding(original: Callable[..., Any]) -> Callable[..., Any]:
    def repeat_interleave(*args: Any, **kwargs: Any) -> Any:
        import torch

        call = _scalar_repeat(args, kwargs) if torch.jit.is_tracing() else None
        return original(*args, **kwargs) if call is None else _repeat_by_expanding(*call)

    return repeat_interleave


@contextlib.contextmanager
def device_portable_tracing() -> Iterator[None]:
    """Within: `torch.repeat_interleave` and `Tensor.repeat_interleave` trace without an index.
    Patched with unittest.mock as converter.job.patch does, so both are undone on the way out."""
    import torch

    with (
        mock.patch.object(torch, "repeat_interleave", _expanding(torch.repeat_interleave)),
        mock.patch.object(torch.Tensor, "repeat_interleave", _expanding(torch.Tensor.repeat_interleave)),
    ):
        yield
