"""converter.records.fix_record: how every report shows a failure's fix, verified or not."""

from __future__ import annotations

from converter.records.fix_record import FAILED, NOT_TRIED, PASSED, fix_line, fix_parts

SUGGESTED = {"fix_overrides": ["export=torchscript_script", "model.inputs.x.count=1"]}


def test_a_verified_fix_shows_the_command_that_converts() -> None:
    failure = {**SUGGESTED, "fix": {"verified": PASSED, "command": "python -m converter +model=m export=onnx"}}
    assert fix_parts(failure) == ("fix (verified, converts)", "python -m converter +model=m export=onnx")


def test_a_fix_that_failed_is_shown_as_a_suggestion_with_why() -> None:
    failure = {**SUGGESTED, "fix": {"verified": FAILED, "reason": "attempt 1 failed [script_unsupported]"}}
    assert fix_line(failure) == (
        "suggested fix, tried and failed (attempt 1 failed [script_unsupported]): "
        "export=torchscript_script model.inputs.x.count=1"
    )


def test_a_fix_not_tried_says_why_and_none_says_nothing() -> None:
    failure = {**SUGGESTED, "fix": {"verified": NOT_TRIED, "reason": "diagnosis.verify_fix=false"}}
    assert fix_parts(failure)[0] == "suggested fix, not verified: diagnosis.verify_fix=false"
    assert fix_parts(SUGGESTED)[0] == "suggested fix, not verified"
    assert (fix_parts({}), fix_line({"fix_overrides": []})) == (("", ""), "")
