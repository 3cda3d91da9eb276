"""converter's use of Inductor's private API (converter/exporters/inductor_private.py) still
works: this fails loudly, naming the piece, when a torch upgrade moves or changes it, and the
packing takes effect in a real compile."""

from __future__ import annotations

import inspect
import shutil
from pathlib import Path

import pytest
import torch

from converter.exporters import inductor_private
from tests.checks import run_in_process


def test_torch_is_the_version_the_fence_was_checked_against() -> None:
    assert torch.__version__.split("+")[0] == inductor_private.TORCH_CHECKED_VERSION, (
        f"torch is {torch.__version__}; converter/exporters/inductor_private.py was checked against "
        f"{inductor_private.TORCH_CHECKED_VERSION}: re-check the weight-pack pass, then update the constant"
    )


def test_the_convolution_handler_still_asks_has_free_symbols_before_packing() -> None:
    from torch._inductor.fx_passes import mkldnn_fusion as fusion

    source = inspect.getsource(fusion._register_weight_pack_pass)
    assert "def convolution(" in source
    assert "if not has_free_symbols(input_size):" in source
    assert "mkldnn_device_op.pack_conv_weight(" in source
    assert list(inspect.signature(fusion.CpuMkldnnDeviceOp.pack_conv_weight).parameters) == [
        "self",
        "graph",
        "is_transposed",
        "weight",
        "constant_args",
        "input_size",
    ]


def test_the_pass_is_restored_afterwards_even_when_the_compile_raises() -> None:
    from torch._inductor.fx_passes import mkldnn_fusion as fusion

    original = fusion.has_free_symbols, fusion.CpuMkldnnDeviceOp.pack_conv_weight
    try:
        with inductor_private.conv_weights_packed_at_size_hints() as packed:
            assert fusion.has_free_symbols is not original[0]
            assert packed.at_size_hints == 0
            raise RuntimeError("compile failed")
    except RuntimeError:
        pass
    assert (fusion.has_free_symbols, fusion.CpuMkldnnDeviceOp.pack_conv_weight) == original


def test_a_torch_without_the_private_pieces_compiles_unpacked_and_says_why(monkeypatch) -> None:
    """On CUDA with torch 2.11, `optimization_hint` did not exist and every AOTInductor compile
    raised ImportError: a version the fence was not checked against must only lose the pack."""
    from torch._inductor.fx_passes import mkldnn_fusion as fusion
    from torch.fx.experimental import symbolic_shapes

    monkeypatch.delattr(symbolic_shapes, "optimization_hint")
    original = fusion.has_free_symbols
    with inductor_private.conv_weights_packed_at_size_hints() as packed:
        assert fusion.has_free_symbols is original, "nothing patched"
    assert packed.at_size_hints == 0
    assert packed.unavailable.startswith("cannot import name 'optimization_hint'")
    assert packed.unavailable.endswith(f"checked against {inductor_private.TORCH_CHECKED_VERSION})")


CONVOLUTIONS = [
    "+model=classification",
    "model.loader._target_=tests.broken.TwoConvolutions",
    "model.inputs.x.shape=[2,3,16,16]",
    "export=aoti",
    "benchmark=off",
    "tracking=off",
    "security.allowed_prefixes=[tests]",
]


@pytest.mark.parametrize(("pack", "packed"), [("true", 2), pytest.param("false", 0, marks=pytest.mark.slow)])
def test_a_dynamic_batch_compile_packs_each_convolution_weight_once(pack: str, packed: int, tmp_path: Path) -> None:
    """Packed or not, the package validates at batch 1, 8 and 16 (the Dim's range)."""
    result = run_in_process(tmp_path, *CONVOLUTIONS, f"export.options.pack_conv_weights={pack}")
    assert result.ok, result.failure
    assert result.export_info["conv_weights_packed_at_size_hints"] == packed
    assert [c["shapes"]["x"][0] for c in result.validation["cases"] if c["name"].startswith("dims")] == [1, 8, 16]


@pytest.mark.parametrize(("device", "patched"), [("cpu", True), ("meta", False)])
def test_only_a_compile_for_cpu_inputs_packs(device: str, patched: bool, monkeypatch) -> None:
    """oneDNN's pack is a CPU pass: a CUDA compile (meta stands in here) leaves Inductor as it is."""
    from torch._inductor.fx_passes import mkldnn_fusion as fusion

    from converter.exporters.aoti import AotiExporter, AotiOptions
    from converter.exporters.base import ExportRequest
    from tests.broken import Doubler

    original = fusion.has_free_symbols
    seen = []

    def compile_and_package(program, package_path, inductor_configs):  # noqa: ANN001, ANN202
        seen.append(fusion.has_free_symbols is not original)
        return package_path

    monkeypatch.setattr(torch._inductor, "aoti_compile_and_package", compile_and_package)
    request = ExportRequest(Doubler(), (torch.ones(2, 3, device=device),), None, False, AotiOptions())
    artifact = AotiExporter().export(request)
    shutil.rmtree(artifact.package.parent)  # the scratch folder save() would have removed
    assert seen == [patched]
