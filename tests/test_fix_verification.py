"""A fix is a claim (converter/diagnosis/fix_verification.py): tried as follow-up jobs, followed to a command
that works, and shown as verified or not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import pytest

from benchmarks.fleet import models as fleet
from benchmarks.fleet.run import write_yamls
from converter.diagnosis.fix_verification import merged, verify_fix
from converter.errors import ConfigError, Failure
from converter.records.fix_record import FAILED, NOT_TRIED, PASSED, fix_line
from converter.records.results import JobResult


def failed(category: str, message: str, fixes: List[str]) -> JobResult:
    failure = Failure("export", "E", message, "", category=category, fix_overrides=fixes)
    return JobResult("m", "torch_export", "auto", "cpu", status="failed", failure=failure)


def passed() -> JobResult:
    return JobResult("m", "torch_export", "auto", "cpu", status="ok")


def test_a_fix_replaces_the_override_of_its_key_and_a_deletion_drops_what_is_under_it() -> None:
    base = ["+model=det", "export=torch_export", "model.dynamic_shapes.x={0:{name:b}}"]
    assert merged(base, ["export=torchscript_script", "~model.dynamic_shapes.x"]) == [
        "+model=det",
        "export=torchscript_script",
        "~model.dynamic_shapes.x",
    ]


class Scripted:
    """Follow-up outcomes in order, and the overrides each was composed with."""

    def __init__(self, *outcomes: JobResult) -> None:
        self.outcomes = list(outcomes)
        self.composed: List[List[str]] = []

    def compose(self, overrides: List[str]) -> Dict[str, Any]:
        self.composed.append(list(overrides))
        return {"overrides": overrides}

    def run(self, job: Dict[str, Any], run_dir: Path) -> JobResult:
        return self.outcomes.pop(0)


def test_a_chain_applies_each_follow_ups_fix_on_top_until_one_converts(tmp_path: Path) -> None:
    script = Scripted(failed("artifact_error", "List[Tensor]", ["model.inputs.images.count=1"]), passed())
    record = verify_fix(
        failed("data_dependent", "guard", ["export=torchscript_script"]),
        tmp_path / "job",
        ["+model=det"],
        script.compose,
        script.run,
        3,
    )
    assert record.verified == PASSED
    assert script.composed == [
        ["+model=det", "export=torchscript_script"],
        ["+model=det", "export=torchscript_script", "model.inputs.images.count=1"],
    ]
    assert record.command == "python -m converter +model=det export=torchscript_script model.inputs.images.count=1"
    assert [a.run_dir for a in record.attempts] == [str(tmp_path / "fix1-job"), str(tmp_path / "fix2-job")]


def test_a_fix_that_makes_no_progress_stops_the_chain(tmp_path: Path) -> None:
    again = failed("data_dependent", "guard", ["export=torchscript_script"])
    script = Scripted(again, passed())
    record = verify_fix(again, tmp_path / "job", [], script.compose, script.run, 3)
    assert (record.verified, record.category) == (FAILED, "data_dependent")
    assert record.reason == "no progress: attempt 1 failed as before (data_dependent)"
    assert len(script.composed) == 1 and record.command is None


def test_a_fix_that_fails_is_reported_failed_and_never_shown_as_the_solution(tmp_path: Path) -> None:
    script = Scripted(failed("script_unsupported", "cannot compile", []))
    failure = failed("data_dependent", "guard", ["export=torchscript_script"])
    record = verify_fix(failure, tmp_path / "job", [], script.compose, script.run, 3)
    assert (record.verified, record.category) == (FAILED, "script_unsupported")
    line = fix_line({**failure.to_dict()["failure"], "fix": record.to_dict()})
    assert line.startswith("suggested fix, tried and failed (attempt 1 failed [script_unsupported] with no fix")
    assert "verified" not in line


def test_the_attempts_stop_at_max_fix_attempts(tmp_path: Path) -> None:
    script = Scripted(failed("a", "1", ["x=2"]), failed("b", "2", ["x=3"]))
    record = verify_fix(failed("c", "0", ["x=1"]), tmp_path / "job", [], script.compose, script.run, 2)
    assert (record.verified, record.reason) == (FAILED, "still failing [b] after diagnosis.max_fix_attempts=2")


def test_a_fix_that_does_not_compose_is_failed_with_the_config_error(tmp_path: Path) -> None:
    def compose(overrides: List[str]) -> Dict[str, Any]:
        raise ConfigError("model.inputs.x.count", "no such input", "rename it")

    record = verify_fix(failed("a", "1", ["model.inputs.x.count=1"]), tmp_path / "job", [], compose, None, 3)
    assert record.verified == FAILED and record.reason.startswith("the fix does not compose: Config error at")


def test_no_fix_is_not_tried_and_says_so(tmp_path: Path) -> None:
    record = verify_fix(failed("a", "1", []), tmp_path / "job", [], None, None, 3)
    assert (record.verified, record.reason) == (NOT_TRIED, "the diagnosis has no override to try")


def _gpt2_conf(tmp_path: Path) -> str:
    write_yamls([m for m in fleet.transformers_fleet() if m.name == "hf_gpt2"], tmp_path / "conf")
    return str(tmp_path / "conf")


def trace_gpt2(run_cli, conf: str, *overrides: str):
    """GPT-2 traced strictly: its KV cache, then its dict output, are what a trace refuses."""
    return run_cli("--config-dir", conf, "+model=hf_gpt2", "export=torchscript_trace", "export.strict=true", *overrides)


@pytest.mark.slow  # GPT-2 traced three times; chains are covered by the tiny models' tests here
def test_a_decoders_trace_chain_ends_verified_in_two_steps_and_the_exit_code_stays_the_failed_jobs(
    run_cli, tmp_path: Path
) -> None:
    """The cache, then the dict: +model.loader.config.use_cache=false, then export.strict=false."""
    conf = _gpt2_conf(tmp_path)
    run = trace_gpt2(run_cli, conf, "validate.num_random_inputs=0", "tracking=default", "diagnosis.verify_fix=true")
    assert run.returncode == 1, run.stderr[-2000:]
    result = run.result()
    fix = result["failure"]["fix"]
    assert result["failure"]["category"] == "unsupported_output"
    assert fix["verified"] == PASSED
    assert [a["overrides"] for a in fix["attempts"]] == [
        ["+model.loader.config.use_cache=false"],
        ["+model.loader.config.use_cache=false", "export.strict=false"],
    ]
    assert [a["status"] for a in fix["attempts"]] == ["failed", "ok"]
    assert fix["command"] == (
        f"python -m converter --config-dir {conf} +model=hf_gpt2 export=torchscript_trace validate.num_random_inputs=0 "
        "tracking=default diagnosis.verify_fix=true benchmark=off +model.loader.config.use_cache=false export.strict=false"
    )
    assert f"fix (verified, converts): {fix['command']}" in run.stdout
    follow_up = Path(fix["run_dir"])
    assert follow_up.name.startswith("fix2-")
    failed_dir = follow_up.parent / follow_up.name.removeprefix("fix2-")
    assert json.loads((failed_dir / "result.json").read_text())["failure"]["fix"] == fix
    assert json.loads((follow_up / "result.json").read_text())["status"] == "ok"
    _check_mlflow_tags(run.cwd, fix)


def _check_mlflow_tags(cwd: Path, fix: Dict[str, Any]) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{cwd / 'mlflow.db'}")
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    failed_run = next(r for r in runs if r.data.tags.get("status") == "failed" and not r.data.tags.get("fix_of"))
    assert failed_run.data.tags["fix_verified"] == PASSED
    assert failed_run.data.tags["fix_command"] == fix["command"]
    assert "Fix (verified, converts)" in failed_run.data.tags["mlflow.note.content"]
    follow_ups = [r for r in runs if r.data.tags.get("fix_of") == failed_run.info.run_id]
    assert sorted(r.data.tags["status"] for r in follow_ups) == ["failed", "ok"]


def test_verify_fix_false_leaves_the_fix_a_suggestion(run_cli, tmp_path: Path) -> None:
    conf = _gpt2_conf(tmp_path)
    run = trace_gpt2(run_cli, conf, "diagnosis.verify_fix=false")
    assert run.returncode == 1
    fix = run.result()["failure"]["fix"]
    assert (fix["verified"], fix["reason"]) == (NOT_TRIED, "diagnosis.verify_fix=false")
    assert "suggested fix, not verified: diagnosis.verify_fix=false: +model.loader.config.use_cache=false" in run.stdout
    assert not list((run.cwd / "outputs").rglob("fix1-*"))


def test_every_report_shows_a_verified_command_apart_from_a_suggestion() -> None:
    from converter.cli.explain import explain_one
    from converter.reporting.summary import matrix_markdown

    verified = {
        "model": "det",
        "backend": "torch_export",
        "status": "failed",
        "strict": True,
        "failure": {
            "stage": "export",
            "type": "x.GuardOnDataDependentSymNode",
            "message": "guard",
            "category": "data_dependent",
            "fix_overrides": ["export=torchscript_script"],
            "fix": {"verified": PASSED, "command": "python -m converter +model=det export=torchscript_script"},
        },
    }
    suggested = {
        **verified,
        "model": "seg",
        "failure": {**verified["failure"], "fix": {"verified": NOT_TRIED, "reason": "diagnosis.verify_fix=false"}},
    }
    summary = matrix_markdown([verified, suggested])
    assert (
        "- det/torch_export: fix (verified, converts): `python -m converter +model=det export=torchscript_script`"
        in summary
    )
    assert (
        "- seg/torch_export: suggested fix, not verified: diagnosis.verify_fix=false: `export=torchscript_script`"
        in summary
    )
    assert "  fix (verified, converts): python -m converter +model=det export=torchscript_script" in explain_one(
        verified
    )
    assert "  suggested fix, not verified: diagnosis.verify_fix=false: export=torchscript_script" in explain_one(
        suggested
    )
