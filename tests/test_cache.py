"""The job cache: unchanged jobs are reused, changed or damaged ones are not."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from converter.exporters.binding import load_verified
from converter.records.artifacts import ArtifactInfo, ArtifactIntegrityError, sha256_of
from converter.sweep.cache import job_key, project_sources


def test_an_unchanged_job_is_reused_with_its_artifact_checked(run_cli) -> None:
    first = run_cli("+model=classification", "tracking=default")
    assert first.returncode == 0, first.stderr[-2000:]
    before = first.result()
    second = run_cli("+model=classification", "tracking=default")
    assert second.returncode == 0, second.stderr[-2000:]
    after = second.result()
    assert (before["cached"], after["cached"]) == (False, True)
    assert after["job_key"] == before["job_key"]
    assert after["cached_from"] == str(Path(before["artifact"]["path"]).parent)
    reused = Path(after["artifact"]["path"])
    assert reused.parent != Path(before["artifact"]["path"]).parent
    assert sha256_of(reused) == before["artifact"]["sha256"] == after["artifact"]["sha256"]
    assert "classification/torch_export: ok (cached)" in second.stdout
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{second.cwd / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("classification").experiment_id])
    assert sorted(r.data.tags["cached"] for r in runs) == ["false", "true"]
    forced = run_cli("+model=classification", "job.cache=false", "job=inprocess")
    assert forced.result()["cached"] is False, "job.cache=false forces the work"


@pytest.mark.guarantee(
    "A cached artifact is truncated or altered",
    "its sha256 no longer matches: the cache entry is not trusted, the job runs again, `cache_rejected` says why",
)
def test_a_truncated_cached_artifact_is_not_trusted_and_the_job_runs_again(run_cli) -> None:
    first = run_cli("+model=classification", "job=inprocess")
    artifact = Path(first.result()["artifact"]["path"])
    artifact.write_bytes(artifact.read_bytes()[:1000])
    second = run_cli("+model=classification", "job=inprocess")
    assert second.returncode == 0, second.stderr[-2000:]
    result = second.result()
    assert result["cached"] is False and result["status"] == "ok"
    assert f"the cached artifact {artifact} has sha256" in result["cache_rejected"]
    assert sha256_of(Path(result["artifact"]["path"])) == result["artifact"]["sha256"]


def test_export_and_validation_failures_are_cached(run_cli) -> None:
    outcomes = []
    for _ in range(2):
        for backend in ("torch_export", "torchscript_trace"):
            run = run_cli("+model=input_confirm", f"export={backend}", "job=inprocess")
            result = run.result()
            outcomes.append((backend, run.returncode, result["failure"]["stage"], result["cached"]))
    assert outcomes == [
        ("torch_export", 1, "export", False),
        ("torchscript_trace", 1, "validate", False),
        ("torch_export", 1, "export", True),
        ("torchscript_trace", 1, "validate", True),
    ]


BASE_JOB = {
    "model": {"name": "m", "loader": {"_target_": "keyed_pkg.models.build"}, "patches": []},
    "export": {"backend": "torch_export"},
    "tracking": {"uri": "sqlite:///a.db"},
    "job": {"timeout_s": 10},
}


def test_the_key_follows_config_source_and_versions_but_not_tracking(tmp_path: Path, monkeypatch) -> None:
    package = tmp_path / "keyed_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text("from keyed_pkg.layers import block\n\ndef build():\n    return block()\n")
    (package / "layers.py").write_text("def block():\n    return 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    versions = {"python": "3.11", "torch": "2.14.1"}
    key = job_key(BASE_JOB, versions)
    assert set(project_sources(["keyed_pkg.models.build"])) == {str(package / "models.py"), str(package / "layers.py")}
    assert job_key({**BASE_JOB, "tracking": {"uri": "http://elsewhere"}, "job": {"timeout_s": 99}}, versions) == key
    assert job_key({**BASE_JOB, "export": {"backend": "torchscript_trace"}}, versions) != key
    assert job_key(BASE_JOB, {**versions, "torch": "2.15.0"}) != key
    (package / "layers.py").write_text("def block():\n    return 2\n")  # an imported module changes
    assert job_key(BASE_JOB, versions) != key
    sys.modules.pop("keyed_pkg", None)


@pytest.mark.guarantee(
    "An artifact changes between writing and reloading",
    "never loaded: the load raises, naming the file and both hashes, so its stage and the job fail",
)
def test_loading_an_altered_artifact_names_the_file_and_the_hashes(tmp_path: Path) -> None:
    path = tmp_path / "model.pt2"
    path.write_bytes(b"original bytes")
    info = ArtifactInfo(str(path), 14, sha256_of(path))
    path.write_bytes(b"altered bytes!")

    class NeverLoads:
        def load(self, path: Path, device: str) -> None:
            raise AssertionError("an altered artifact must not be loaded")

    with pytest.raises(
        ArtifactIntegrityError, match=f"the artifact {path} has sha256 [0-9a-f]{{64}}, not the {info.sha256}"
    ):
        load_verified(NeverLoads(), info, "cpu")


@pytest.mark.parametrize(
    "status, stage, reused",
    [
        ("ok", None, True),
        ("failed", "export", True),
        ("failed", "validate", True),
        ("failed", "load", False),
        ("failed", "benchmark", False),
        ("crashed", "export", False),
        ("timeout", "validate", False),
        ("oom", "export", False),
    ],
)
def test_what_the_cache_keeps_is_what_runs_the_same_again(status: str, stage, reused: bool) -> None:
    from converter.errors import Failure
    from converter.records.results import JobResult
    from converter.sweep.cache import cacheable

    failure = Failure(stage, "E", "m", "") if stage else None
    assert cacheable(JobResult("m", "onnx", True, "cpu", status=status, failure=failure)) is reused
