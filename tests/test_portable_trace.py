"""A trace repeats by a size without an index built on the CPU, so it runs on CUDA too.

No GPU here: the trace is reloaded on the meta device instead, and every operator call that
mixes devices is recorded. The CPU index the tracer builds for `repeat_interleave` shows up
there as an index_select of a meta tensor by a CPU one, the call that fails on CUDA.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, List, Optional, Tuple

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from converter.exporters.portable_trace import device_portable_tracing
from tests.checks import run_in_process


class RepeatBySize(torch.nn.Module):
    """SAM's mask decoder in one line: the embedding repeated once per prompt."""

    def __init__(self, dim: Optional[int] = 0) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, embedding: torch.Tensor, prompts: torch.Tensor) -> torch.Tensor:
        return torch.repeat_interleave(embedding, prompts.shape[0], dim=self.dim)


class MixedDevices(TorchDispatchMode):
    """Records each operator called with tensors (beyond 0-dim scalars) on two devices."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: List[Tuple[str, List[str]]] = []

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: Optional[dict] = None) -> Any:
        tensors = [t for t in tree_flatten((args, kwargs or {}))[0] if isinstance(t, torch.Tensor) and t.dim() > 0]
        devices = sorted({t.device.type for t in tensors})
        if len(devices) > 1:
            self.calls.append((str(func), devices))
        return func(*args, **(kwargs or {}))


def trace(module: torch.nn.Module, *example: torch.Tensor, portable: bool = True) -> torch.jit.ScriptModule:
    if not portable:
        return torch.jit.trace(module, example)
    with device_portable_tracing():
        return torch.jit.trace(module, example)


def reloaded(traced: torch.jit.ScriptModule, device: str) -> torch.jit.ScriptModule:
    buffer = io.BytesIO()
    torch.jit.save(traced, buffer)
    buffer.seek(0)
    return torch.jit.load(buffer, map_location=device)


def mixed_device_calls(traced: torch.jit.ScriptModule) -> List[Tuple[str, List[str]]]:
    on_meta = reloaded(traced, "meta")
    with MixedDevices() as mode:
        on_meta(torch.empty(3, 4, device="meta"), torch.empty(5, device="meta"))
    return mode.calls


def test_the_plain_trace_index_selects_a_device_tensor_with_a_cpu_index() -> None:
    """What fails on CUDA ('index is on cpu ... wrapper_CUDA__index_select'), caught on meta."""
    plain = trace(RepeatBySize(), torch.randn(2, 4), torch.randn(3), portable=False)
    assert "aten::repeat_interleave" in {node.kind() for node in plain.graph.nodes()}
    assert mixed_device_calls(plain) == [("aten.index_select.default", ["cpu", "meta"])]


def test_converter_traces_a_repeat_by_a_size_without_a_cpu_index() -> None:
    portable = trace(RepeatBySize(), torch.randn(2, 4), torch.randn(3))
    kinds = {node.kind() for node in portable.graph.nodes()}
    assert "aten::repeat_interleave" not in kinds and "aten::expand" in kinds
    assert mixed_device_calls(portable) == []


@pytest.mark.parametrize("dim", [0, 1, -1, None])
def test_the_portable_repeat_equals_eager_at_sizes_other_than_the_traced_one(dim: Optional[int]) -> None:
    portable = reloaded(trace(RepeatBySize(dim), torch.randn(2, 4), torch.randn(3)), "cpu")
    embedding, prompts = torch.randn(5, 4), torch.randn(7)
    expected = torch.repeat_interleave(embedding, 7, dim=dim)
    assert torch.equal(portable(embedding, prompts), expected)


class EveryOverload(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        return (
            x.repeat_interleave(2, 1),  # the method, an int
            torch.repeat_interleave(x, repeats=torch.tensor(3)),  # a 0-dim tensor, by keyword, flattened
            x.repeat_interleave(torch.tensor([1, 2, 3]), dim=1),  # one count per element: kept
            torch.repeat_interleave(torch.tensor([1, 2])),  # the one-argument overload: kept
        )


def test_only_scalar_repeats_are_rewritten_and_every_overload_keeps_its_values() -> None:
    x = torch.randn(2, 3)
    portable = trace(EveryOverload(), x)
    assert [node.kind() for node in portable.graph.nodes()].count("aten::repeat_interleave") == 2
    for got, expected in zip(portable(x), EveryOverload()(x), strict=True):
        assert torch.equal(got, expected)


def test_the_rewrite_is_undone_afterwards_even_when_the_trace_raises() -> None:
    original = torch.repeat_interleave, torch.Tensor.repeat_interleave
    with pytest.raises(RuntimeError, match="boom"), device_portable_tracing():
        assert torch.repeat_interleave is not original[0]
        assert torch.equal(torch.repeat_interleave(torch.arange(2), 2), torch.tensor([0, 0, 1, 1]))  # eager: as before
        raise RuntimeError("boom")
    assert (torch.repeat_interleave, torch.Tensor.repeat_interleave) == original
    assert "repeat_interleave" not in vars(torch.Tensor), "torch.Tensor left as it was: the method is inherited"


def test_sam_prompt_traces_with_no_cpu_built_index(tmp_path: Path) -> None:
    """SAM's mask decoder repeats the image embedding by the prompt count (the CUDA failure)."""
    result = run_in_process(tmp_path, "+tiny=sam_prompt", "export=torchscript_trace", "benchmark=off", "tracking=off")
    assert result.ok, result.failure
    assert "aten::repeat_interleave" not in result.graph["operators"]
    assert "aten::expand" in result.graph["operators"]
