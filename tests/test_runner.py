"""run_job in-process: checkpoints, patches during a job, reproducing from config.yaml alone."""

import json
from pathlib import Path

import torch

from converter.cli.preflight import compose_jobs, parse_argv
from converter.job.pipeline import run_job
from converter.run_config import main as job_main
from registry.toys import Classification
from tests.helpers import NotScriptable

PATCH = "[{target: tests.helpers.NotScriptable.forward, replacement: tests.helpers.%s}]"
NOT_SCRIPTABLE = [
    "security.allowed_prefixes=[tests]",
    "model.loader._target_=tests.helpers.NotScriptable",
    "model.name=not_scriptable",
    "~model.dynamic_shapes.x",
]


def job(*overrides: str) -> dict:
    (composed,) = compose_jobs(parse_argv(["+model=classification", "benchmark=off", "tracking=off", *overrides])).jobs
    return composed


def test_checkpoint_weights_end_up_in_the_artifact(tmp_path: Path) -> None:
    torch.manual_seed(123)
    trained = Classification()
    checkpoint = tmp_path / "weights.pt"
    torch.save({"state_dict": trained.state_dict()}, checkpoint)
    result = run_job(job(f"model.checkpoint={checkpoint}", "export=torchscript_trace"), tmp_path / "run")
    assert result.ok, result.failure
    x = torch.rand(2, 320)
    assert torch.allclose(torch.jit.load(result.artifact.path)(x), trained(x))


def test_patch_makes_scripting_work_and_is_undone_after(tmp_path: Path) -> None:
    unpatched = run_job(job(*NOT_SCRIPTABLE, "export=torchscript_script"), tmp_path / "a")
    assert unpatched.failure.stage == "export" and "hasattr" in unpatched.failure.message
    patched = run_job(
        job(*NOT_SCRIPTABLE, "export=torchscript_script", f"model.patches={PATCH % 'scriptable_forward'}"),
        tmp_path / "b",
    )
    assert patched.ok, patched.failure
    assert NotScriptable.forward.__name__ == "forward", "the patch must not outlive the job"


def test_a_patch_that_changes_the_numbers_is_caught(tmp_path: Path) -> None:
    bad = job(*NOT_SCRIPTABLE, "export=torchscript_script", f"model.patches={PATCH % 'tripled_forward'}")
    result = run_job(bad, tmp_path / "a")
    assert result.failure.stage == "validate", "eager reference runs the original code"
    bad["validate"]["reference_patched"] = True
    assert run_job(bad, tmp_path / "b").ok, "unless the user asks to trust the patch"


def test_result_json_is_written_last_and_complete(tmp_path: Path) -> None:
    result = run_job(job("export=torchscript_script"), tmp_path)
    saved = json.loads((tmp_path / "result.json").read_text())
    assert saved["status"] == "ok" and saved["artifact"]["sha256"] == result.artifact.sha256
    assert saved["config"]["model"]["name"] == "classification"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "config.yaml",
        "graph.txt",
        "model.pt",
        "operators.txt",
        "result.json",
    ]


def test_job_reruns_from_its_config_file_alone(tmp_path: Path) -> None:
    first = run_job(job("export=torch_export"), tmp_path / "first")
    assert job_main([str(tmp_path / "first" / "config.yaml"), str(tmp_path / "again")]) == 0
    again = json.loads((tmp_path / "again" / "result.json").read_text())
    assert again["status"] == "ok"
    # same seed, same config: the same inputs and the same random init give the same errors
    assert again["validation"]["outputs"] == first.validation["outputs"]
    assert job_main([str(tmp_path / "missing.yaml")]) == 2
