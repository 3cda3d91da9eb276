"""registry/toys.py's InputConfirm (from a blog post on tracing vs scripting), end to end: tracing drops InputConfirm's else branch; scripting keeps it."""

import torch

from registry.toys import InputConfirm


def test_traced_input_confirm_fails_validation_on_a_negative_sum(run_cli) -> None:
    run = run_cli("+model=input_confirm", "export=torchscript_trace")
    assert run.returncode == 1
    result = run.result()
    assert result["status"] == "failed" and result["failure"]["stage"] == "validate"
    assert result["failure"]["type"] == "converter.errors.ValidationMismatch"
    cases = {c["name"]: c for c in result["validation"]["cases"]}
    # all inputs filled with -1 have a negative sum: the branch the trace dropped
    assert cases["edge[low]"]["passed"] is False and cases["edge[high]"]["passed"] is True
    # random[0] (seed 2000) also sums below zero; edge[low] is the worst: every element off by 2
    assert [name for name, case in cases.items() if not case["passed"]] == ["random[0]", "edge[low]"]
    assert (
        result["validation"]["worst"] == "edge[low]: output max abs error 2, max rel error 2 (atol 0.0001, rtol 0.0001)"
    )
    assert any(w["category"] == "TracerWarning" for w in result["warnings"]), "the tracer's warning is kept"
    # and the saved trace really is wrong: it returns x for a negative input
    traced = torch.jit.load(result["artifact"]["path"])
    x = -torch.ones(2, 2)
    assert torch.equal(traced(x), x) and torch.equal(InputConfirm()(x), -x)


def test_scripted_input_confirm_passes(run_cli) -> None:
    run = run_cli("+model=input_confirm", "export=torchscript_script")
    assert run.returncode == 0, run.stderr[-2000:]
    result = run.result()
    assert result["status"] == "ok" and result["validation"]["passed"]
    scripted = torch.jit.load(result["artifact"]["path"])
    assert "if" in scripted.code
    x = -torch.ones(2, 2)
    assert torch.equal(scripted(x), -x)
