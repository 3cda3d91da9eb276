"""registry/vit.py: torchvision's ViT with a head that answers, and what converter says of the
zero head torchvision gives it (a validation that compares zeros with zeros is not one)."""

from __future__ import annotations

from pathlib import Path

from tests.checks import run_in_process

QUICK = ["+tiny=vit_b_16", "benchmark=off", "tracking=off"]
TORCHVISION_HEAD = "model.loader._target_=torchvision.models.vision_transformer.VisionTransformer"


def test_the_registry_vit_validates_on_outputs_that_vary(tmp_path: Path) -> None:
    result = run_in_process(tmp_path, *QUICK)
    assert result.ok and result.validation["passed"] is True
    assert "skipped" not in result.validation
    assert len(result.validation["cases"]) == 8


def test_torchvisions_zero_head_makes_the_job_ok_but_not_validated(tmp_path: Path) -> None:
    result = run_in_process(tmp_path, *QUICK, TORCHVISION_HEAD)
    assert result.ok and result.validation["passed"] is None
    assert result.validation["outputs"] == {"output": {"max_abs_error": 0.0, "max_rel_error": 0.0}}
    assert result.validation["skipped"].startswith("eager answers every case with constant outputs (0), so matching")
    assert result.headline().startswith("vit_b_16/torch_export: ok (not validated: eager answers every case")
