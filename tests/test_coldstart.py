"""converter.benchmark.coldstart: an artifact loaded in a fresh process, timed as a deployment loads it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from converter.benchmark.coldstart import measure_cold_start
from converter.records.artifacts import sha256_of


def test_a_fresh_process_loads_the_artifact_and_reports_its_seconds(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(path))
    figures = measure_cold_start("torchscript_script", path, "cpu", sha256_of(path))
    assert set(figures) == {"import_s", "load_s", "process_s"}
    assert 0 < figures["load_s"] < figures["process_s"] and figures["import_s"] < figures["process_s"]


def test_an_artifact_changed_since_it_was_recorded_is_not_loaded(tmp_path: Path, monkeypatch) -> None:
    """The fresh process's own code, run here: the hash is checked before anything is loaded."""
    from converter.benchmark import coldstart
    from converter.records.artifacts import ArtifactIntegrityError

    path = tmp_path / "model.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(path))
    monkeypatch.setattr("sys.argv", ["coldstart", "torchscript_script", str(path), "cpu", "0" * 64])
    with pytest.raises(ArtifactIntegrityError):
        coldstart.main()
