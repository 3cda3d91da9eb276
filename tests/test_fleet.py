"""A sample of each fleet (benchmarks/fleet/models.py), written as a user writes the YAMLs and
converted as `make fleet` converts them: one encoder, one decoder (its KV cache validated), one
encoder-decoder, one vision transformer, two timm families, and a torchvision detector."""

from __future__ import annotations

from pathlib import Path
from typing import Dict

import pytest

from benchmarks.fleet import models as fleet
from benchmarks.fleet.run import write_yamls
from converter.records.results import JobResult
from tests.checks import run_in_process

QUICK = ["tracking=off", "benchmark=off", "validate.num_random_inputs=0"]


@pytest.fixture(scope="module")
def fleet_conf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    conf = tmp_path_factory.mktemp("fleet") / "conf"
    wanted = {"hf_bert", "hf_gpt2", "hf_t5", "hf_vit", "timm_resnet10t", "timm_convnext_atto"}
    members = [m for m in fleet.transformers_fleet() + fleet.timm_fleet() if m.name in wanted]
    assert {m.name for m in members} == wanted
    write_yamls(members, conf)
    return conf


def convert(tmp_path: Path, conf: Path, name: str, *overrides: str) -> JobResult:
    return run_in_process(tmp_path / name, "--config-dir", str(conf), f"+model={name}", *QUICK, *overrides)


@pytest.mark.parametrize(
    "name",
    [
        "hf_bert",
        pytest.param("hf_t5", marks=pytest.mark.slow),
        "hf_vit",
        "timm_resnet10t",
        pytest.param("timm_convnext_atto", marks=pytest.mark.slow),
    ],
)
def test_a_fleet_sample_converts_through_torch_export_as_written(tmp_path: Path, fleet_conf: Path, name: str) -> None:
    result = convert(tmp_path, fleet_conf, name)
    assert result.ok, result.failure
    assert result.validation["passed"] is True


def _cache_outputs(result: JobResult) -> Dict[str, Dict[str, float]]:
    return {k: v for k, v in result.validation["outputs"].items() if ".DynamicCache[" in k}


@pytest.mark.parametrize("backend", ["torch_export", "onnx"])
def test_a_decoder_converts_with_its_kv_cache_compared_to_eagers(
    tmp_path: Path, fleet_conf: Path, backend: str
) -> None:
    """GPT-2 returns a DynamicCache beside its logits: registered as a pytree node for the job, it
    reaches validation as its tensors (2 layers x keys and values) and each is compared with eager."""
    result = convert(tmp_path, fleet_conf, "hf_gpt2", f"export={backend}")
    assert result.ok, result.failure
    assert result.input_passing == {"input_ids": "positional[0]", "attention_mask": "keyword"}
    caches = _cache_outputs(result)
    assert sorted(caches) == [f"output['cache'].DynamicCache[{i}]" for i in range(4)]
    assert all(v["max_abs_error"] < 1e-4 for v in caches.values())


def test_the_cache_registration_never_leaks_into_the_next_job(tmp_path: Path, fleet_conf: Path) -> None:
    import torch.utils._pytree as pytree
    from transformers.cache_utils import DynamicCache

    convert(tmp_path, fleet_conf, "hf_gpt2")
    assert DynamicCache not in pytree.SUPPORTED_NODES


def test_a_trace_refuses_the_cache_and_the_fix_turns_the_cache_off(tmp_path: Path, fleet_conf: Path) -> None:
    failed = convert(tmp_path, fleet_conf, "hf_gpt2", "export=torchscript_trace", "export.strict=false")
    assert failed.failure.category == "unsupported_output"
    assert failed.failure.fix_overrides == ["+model.loader.config.use_cache=false"]
    fixed = convert(
        tmp_path / "fixed",
        fleet_conf,
        "hf_gpt2",
        "export=torchscript_trace",
        "export.strict=false",
        *failed.failure.fix_overrides,
    )
    assert fixed.ok, fixed.failure


def test_a_pad_token_past_a_small_vocabulary_is_loader_rejected_and_its_fix_converts(tmp_path: Path) -> None:
    """Phi-3's default pad_token_id 32000 with vocab_size 1000: nn.Embedding refuses it at load."""
    conf = tmp_path / "conf"
    write_yamls([m for m in fleet.transformers_fleet() if m.name == "hf_phi3"], conf)
    failed = convert(tmp_path / "a", conf, "hf_phi3")
    assert (failed.failure.stage, failed.failure.category) == ("load", "loader_rejected")
    assert failed.failure.fix_overrides == ["++model.loader.config.pad_token_id=0"]
    assert "Padding_idx must be within num_embeddings" in failed.failure.hint
    fixed = convert(tmp_path / "b", conf, "hf_phi3", *failed.failure.fix_overrides)
    assert fixed.ok, fixed.failure


def test_torchvisions_offline_backbone_download_gets_weights_backbone_null() -> None:
    from registry.library_support.torchvision import load_fix

    loader = {"_target_": "torchvision.models.segmentation.deeplabv3_resnet50", "weights": None}
    message = "Error in call to target '...deeplabv3_resnet50':\nURLError(gaierror(-3, 'Temporary failure in name resolution'))"
    assert load_fix(loader, message) == "++model.loader.weights_backbone=null"
    assert load_fix({**loader, "weights_backbone": None}, message) is None
