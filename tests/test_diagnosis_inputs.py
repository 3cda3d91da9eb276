"""Failures caused by the declared inputs (converter/diagnosis/input_checks.py): each diagnosed with the
input and the fix, and each fix applied and passing."""

from __future__ import annotations

from pathlib import Path

import pytest

from converter.config.schema import ConverterConfig, ExportConfig, ModelConfig
from converter.diagnosis.categories import FailureContext, diagnose
from converter.records.results import JobResult
from tests.checks import TEST_CONF, run_in_process

QUICK = ["tracking=off", "benchmark=off", "validate.num_random_inputs=0", "security.allowed_prefixes=[tests]"]


def run(tmp_path: Path, name: str, *overrides: str) -> JobResult:
    return run_in_process(tmp_path, "--config-dir", TEST_CONF, f"+model={name}", *QUICK, *overrides)


def test_a_token_id_past_the_vocabulary_names_the_input_and_the_tables_size(tmp_path: Path) -> None:
    failed = run(tmp_path / "a", "token_embedding")
    assert (failed.failure.stage, failed.failure.category) == ("reference", "input_rejected")
    assert failed.failure.fix_overrides == ["model.inputs.ids.high=10"]
    assert "'ids' indexes past an embedding table of 10 rows (Embedding(10, 4))" in failed.failure.hint
    fixed = run(tmp_path / "b", "token_embedding", *failed.failure.fix_overrides)
    assert fixed.ok, fixed.failure


def test_a_missing_required_input_is_named_from_the_signature(tmp_path: Path) -> None:
    failed = run(
        tmp_path / "a", "classification", "model.loader._target_=tests.broken.TakesTwo", "model.inputs.x.shape=[2,3]"
    )
    assert failed.failure.category == "input_rejected"
    assert "forward's required input 'y' is not given" in failed.failure.hint
    assert "forward takes x, y" in failed.failure.hint


def test_a_tensor_where_forward_wants_an_object_names_the_parameter_and_its_annotation(tmp_path: Path) -> None:
    failed = run(tmp_path / "a", "takes_a_cache")
    assert failed.failure.category == "input_rejected"
    assert "input 'attention' reached parameter 'past' (Cache | None)" in failed.failure.hint
    assert failed.failure.fix_overrides == []


def test_a_scripted_artifact_that_refuses_a_tensor_for_a_list_is_artifact_error_and_count_fixes_it(
    tmp_path: Path,
) -> None:
    """torchvision's detectors: eager iterates a batched tensor, the scripted forward wants List[Tensor]."""
    failed = run(tmp_path / "a", "images_as_tensor", "export=torchscript_script")
    assert (failed.failure.stage, failed.failure.category) == ("validate", "artifact_error")
    assert failed.failure.fix_overrides == [
        "model.inputs.images.count=3",
        "model.inputs.images.shape=[3,16,16]",
        "~model.dynamic_shapes.images",
    ]
    assert "takes 'images' as List[Tensor] and was given a Tensor" in failed.failure.hint
    fixed = run(tmp_path / "b", "images_as_tensor", "export=torchscript_script", *failed.failure.fix_overrides)
    assert fixed.ok, fixed.failure


@pytest.mark.slow  # a full-size detector, exported then scripted: make test-all
def test_a_detector_given_a_tensor_is_told_to_script_it_with_a_list_and_that_converts(tmp_path: Path) -> None:
    failed = run(tmp_path / "a", "detector_as_tensor", "validate.edge_values=false")
    assert failed.failure.category == "data_dependent"
    assert failed.failure.fix_overrides == [
        "export=torchscript_script",
        "model.inputs.images.count=1",
        "model.inputs.images.shape=[3,320,320]",
    ]
    fixed = run(tmp_path / "b", "detector_as_tensor", "validate.edge_values=false", *failed.failure.fix_overrides)
    assert fixed.ok, fixed.failure


def _context(backend: str, message: str) -> FailureContext:
    model = ModelConfig(name="m", loader={"_target_": "registry.toys.Classification"}, inputs={})
    job = ConverterConfig(model=model, export=ExportConfig(backend=backend))
    return FailureContext("export", "torch._inductor.exc.InductorError", message, job)


def test_a_targets_compiler_failing_on_a_valid_program_is_compiler_error() -> None:
    aoti = diagnose(
        _context(
            "aoti",
            "RuntimeError: Node _tensor_constant0 target _tensor_constant0 references nonexistent attribute _tensor_constant0 of code",
        )
    )
    assert (aoti.category, aoti.fix_overrides) == ("compiler_error", ["export=torch_export"])
    coreml = diagnose(_context("coreml", "index shape (1, is5) must match input shape (1, is4, 256) for index_select"))
    assert coreml.category == "compiler_error"
