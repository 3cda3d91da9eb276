"""converter.records.results: the job's typed record, its headline, failure reason and status order."""

from __future__ import annotations

from converter.errors import Failure
from converter.records.fix_record import PASSED
from converter.records.results import (
    STATUS_ORDER,
    JobResult,
    Status,
    failure_reason,
    headline,
    not_validated_note,
    target_label,
    worst_error,
)


def failed(**fix) -> JobResult:
    failure = Failure(
        "export",
        "torch._dynamo.exc.Unsupported",
        "\x1b[31mdata-dependent branch\x1b[0m\nmore detail",
        "tb",
        category="data_dependent",
        fix_overrides=["export.strict=false"],
        fix=fix or None,
    )
    return JobResult("m", "torch_export", "auto", "cpu", status=Status.FAILED.value, failure=failure)


def test_the_status_order_is_ok_then_a_stages_failure_then_the_supervisors_verdicts() -> None:
    assert STATUS_ORDER == ("ok", "failed", "crashed", "timeout", "oom")


def test_an_ok_headline_says_cached_and_why_it_was_not_validated() -> None:
    ok = JobResult("m", "coreml", True, "cpu", status="ok", cached=True, validation={"skipped": "not macOS"})
    assert headline(ok.to_dict()) == "m/coreml: ok (cached) (not validated: not macOS)"
    assert not_validated_note(JobResult("m", "onnx", True, "cpu", status="ok").to_dict()) == ""


def test_a_failed_headline_has_its_category_reason_and_fix_on_the_next_line() -> None:
    assert failed().headline() == (
        "m/torch_export: failed [data_dependent] (export: Unsupported: data-dependent branch)\n"
        "  suggested fix, not verified: export.strict=false"
    )
    verified = failed(verified=PASSED, command="python -m converter +model=m export.strict=false")
    assert verified.headline().endswith(
        "\n  fix (verified, converts): python -m converter +model=m export.strict=false"
    )


def test_the_failure_reason_is_formatted_by_failure_summary_alone() -> None:
    record = failed().to_dict()
    assert failure_reason(record) == failed().failure.summary(width=None)
    assert failure_reason({"failure": None}) == "?: ?: "


def test_the_worst_error_is_the_largest_over_the_outputs() -> None:
    validation = {"outputs": {"a": {"max_abs_error": 1e-6}, "b": {"max_abs_error": 3e-5}}}
    assert worst_error({"validation": validation}) == 3e-5
    assert worst_error({"validation": None}) is None


def test_a_target_label_names_a_reduced_precision_from_the_config_or_the_export_record() -> None:
    def result(options=None, export_info=None) -> dict:
        config = {"export": {"backend": "openvino", "options": options}} if options is not None else {}
        return {"backend": "openvino", "config": config, "export_info": export_info}

    assert target_label(result({"precision": "f32"})) == "openvino"
    assert target_label(result({"precision": "bf16"})) == "openvino bf16"
    assert target_label(result({"precision": "f16"}, {"precision": "f16"})) == "openvino f16"
    assert target_label(result(export_info={"precision": "bf16"})) == "openvino bf16"  # a record without its config
    assert target_label({"backend": "aoti", "config": {"export": {"options": {"freezing": True}}}}) == "aoti"
