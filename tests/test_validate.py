"""converter/job/validate.py: eager references on pristine copies, and the artifact judged case by case."""

from __future__ import annotations

import torch

from converter.job.validate import Reference, run_reference, vacuous_reason, validate_artifact
from converter.tensors.inputs import InputCase

CASES = [InputCase("example", {"x": torch.ones(2, 3)}), InputCase("edge[low]", {"x": -torch.ones(2, 3)})]


def doubled(inputs: dict) -> torch.Tensor:
    return inputs["x"] * 2


def test_eager_references_are_computed_on_copies_and_mutations_are_named() -> None:
    def writes_in_place(inputs: dict) -> torch.Tensor:
        inputs["x"].add_(1)
        return inputs["x"]

    reference = run_reference(writes_in_place, CASES)
    assert reference.mutated_inputs == ["x"]
    assert torch.equal(CASES[0].inputs["x"], torch.ones(2, 3)), "the case itself stays pristine"
    assert torch.equal(reference.outputs[1], torch.zeros(2, 3))


def test_an_artifact_that_matches_passes_every_case() -> None:
    reference = run_reference(doubled, CASES)
    report = validate_artifact(doubled, CASES, reference.outputs, atol=1e-6, rtol=0.0)
    assert report.passed and report.worst is None
    assert [(c.name, c.passed, c.shapes) for c in report.cases] == [
        ("example", True, {"x": [2, 3]}),
        ("edge[low]", True, {"x": [2, 3]}),
    ]
    assert report.outputs == {"output": {"max_abs_error": 0.0, "max_rel_error": 0.0}}


def test_the_worst_case_is_named_with_its_error() -> None:
    reference = run_reference(doubled, CASES)

    def off_for_negatives(inputs: dict) -> torch.Tensor:
        return inputs["x"].abs() * 2  # right for the example, off by 4 on edge[low]

    report = validate_artifact(off_for_negatives, CASES, reference.outputs, atol=1e-4, rtol=0.0)
    assert not report.passed
    assert [c.passed for c in report.cases] == [True, False]
    assert report.worst == "edge[low]: output max abs error 4, max rel error 2 (atol 0.0001, rtol 0.0)"
    assert report.outputs["output"] == {"max_abs_error": 4.0, "max_rel_error": 2.0}


def test_an_artifact_that_raises_is_a_verdict_that_outranks_any_error() -> None:
    reference = run_reference(doubled, CASES)

    def refuses_negatives(inputs: dict) -> torch.Tensor:
        if inputs["x"].sum() < 0:
            raise RuntimeError("Guard failed: x.sum() >= 0")
        return inputs["x"] * 2.5

    report = validate_artifact(refuses_negatives, CASES, reference.outputs, atol=1e-4, rtol=0.0)
    assert [c.error for c in report.cases] == [None, "RuntimeError: Guard failed: x.sum() >= 0"]
    assert report.worst == "edge[low]: artifact raised RuntimeError: Guard failed: x.sum() >= 0"


def test_an_artifact_writing_into_its_inputs_is_recorded() -> None:
    reference = run_reference(doubled, CASES)

    def doubles_in_place(inputs: dict) -> torch.Tensor:
        return inputs["x"].mul_(2)

    report = validate_artifact(doubles_in_place, CASES, reference.outputs, atol=1e-6, rtol=0.0)
    assert report.passed and report.artifact_mutates_inputs == ["x"]


def test_a_reference_that_answers_one_value_everywhere_is_constant() -> None:
    def reference(*outputs) -> Reference:
        return Reference(list(outputs), [])

    assert reference(torch.zeros(2, 10), torch.zeros(4, 10)).constant is True
    assert reference({"out": torch.full((2, 3), 0.5), "aux": torch.empty(0)}).constant is True
    assert reference(torch.zeros(2, 10), torch.tensor([[0.0, 1e-7]])).constant is False, "one varying case is enough"
    assert reference({"out": torch.zeros(2), "aux": torch.arange(3.0)}).constant is False
    assert reference(torch.tensor([float("nan"), float("nan")])).constant is False
    assert reference(None).constant is False, "no tensor at all: nothing to call constant"
    assert vacuous_reason(reference(torch.zeros(3), {"a": torch.ones(1)})).startswith(
        "eager answers every case with constant outputs (0, 1), so matching it proves nothing; load trained weights"
    )
