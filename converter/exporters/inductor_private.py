"""Every use of torch Inductor's private API, fenced in one place.

Checked against torch 2.14.1 (tests/test_inductor_private.py fails loudly when an upgrade moves
or changes it). There is no public equivalent:

- Convolution weights packed when a program with a dynamic Dim is compiled. Inductor's freezing
  pass (`convolution` in `_register_weight_pack_pass`, torch/_inductor/fx_passes/mkldnn_fusion.py)
  reorders a convolution's weights into oneDNN's blocked layout once, at compile time, only when
  every size of the input is known: "For dynamic shape case, we need to pack weight in runtime".
  A dynamic-batch AOTInductor package therefore reorders every weight on every call: resnet18 at
  batch 1 ran 12.3 ms against 8.9 ms compiled static, on 2 CPU cores. oneDNN picks the layout from
  the input's sizes, so packing at the example's sizes (the shape env's size hints) gives the
  static compile's layout for that size; a call at another size still convolves correctly, since
  oneDNN reorders a weight whose layout is not the one it wants. Linear layers already pack at the
  size hint in the same file.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from typing import Any, Iterator, List, Optional
from unittest import mock

TORCH_CHECKED_VERSION = "2.14.1"


@dataclass
class PackedWeights:
    """How many convolution weights were packed at size hints during one compile, or why none
    could be (`unavailable`: this torch lacks a private piece the pack relies on)."""

    at_size_hints: int = 0
    unavailable: Optional[str] = None


@contextlib.contextmanager
def conv_weights_packed_at_size_hints() -> Iterator[PackedWeights]:
    """Within: Inductor's freezing packs convolution weights at the example's sizes even when a
    Dim is dynamic. A no-op on a torch built without oneDNN (mkldnn), and on a torch whose private
    pieces differ (another version: the compile goes on unpacked, as Inductor does it, and
    `unavailable` says what was missing)."""
    import torch

    packed = PackedWeights()
    if not torch._C._has_mkldnn:
        yield packed
        return
    try:
        from torch._inductor.fx_passes import mkldnn_fusion as fusion
        from torch.fx.experimental.symbolic_shapes import optimization_hint

        symbolic = fusion.has_free_symbols
        pack = fusion.CpuMkldnnDeviceOp.pack_conv_weight
    except (ImportError, AttributeError) as missing:
        packed.unavailable = f"{missing} (torch {torch.__version__}; checked against {TORCH_CHECKED_VERSION})"
        yield packed
        return

    def has_free_symbols(value: Any) -> bool:
        # Only the convolution handler's question, "are the input's sizes all known?", gets a yes;
        # the packability check and the linear and transposed-convolution paths ask the original.
        if sys._getframe(1).f_code.co_name == "convolution":
            return False
        return symbolic(value)

    def pack_conv_weight(
        self: Any, graph: Any, is_transposed: bool, weight: Any, constant_args: Any, input_size: Any
    ) -> Any:
        if any(symbolic(size) for size in input_size):  # never compare a SymInt: that adds a guard
            packed.at_size_hints += 1
        hinted: List[Any] = [optimization_hint(size) if symbolic(size) else size for size in input_size]
        return pack(self, graph, is_transposed, weight, constant_args, hinted)

    with (
        mock.patch.object(fusion, "has_free_symbols", has_free_symbols),
        mock.patch.object(fusion.CpuMkldnnDeviceOp, "pack_conv_weight", pack_conv_weight),
    ):
        yield packed
