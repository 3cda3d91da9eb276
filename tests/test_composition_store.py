"""converter/config/composition_store.py: a sweep run again composes none of its jobs, and a
config file edited, a signature broken or another sweep folder never hands out a stale one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import cli_env
from tests.test_hydra_private import COUNT_COMPOSITIONS

MODEL = """# @package _global_
model:
  name: stored
  loader: {_target_: registry.toys.Classification}
  inputs:
    x: {shape: [2, 320]}
"""


def sweep(tmp_path: Path, conf: Path) -> dict:
    """The sweep, in a process of its own: its exit code, the compositions Hydra made, its job's config."""
    script = tmp_path / "count.py"
    script.write_text(COUNT_COMPOSITIONS)
    env = {**cli_env(), "XDG_CACHE_HOME": str(tmp_path / "cache"), "CONVERTER_COMPOSITION_CACHE": "on"}
    argv = ["--multirun", "--config-dir", str(conf), "+model=stored", "export=torch_export", "job=inprocess"]
    argv += ["tracking=off", "validate=off", "benchmark=off", "security.allowed_prefixes=[registry]"]
    done = subprocess.run([sys.executable, str(script), *argv], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    job = max(tmp_path.glob("outputs/multiruns/*/*/0-stored-torch_export"), key=lambda p: p.stat().st_mtime)
    hydra = yaml.safe_load((job / ".hydra" / "hydra.yaml").read_text())["hydra"]
    config = yaml.safe_load((job / ".hydra" / "config.yaml").read_text())
    return {**report, "job": job, "hydra": hydra, "config": config}


def test_a_sweep_again_composes_nothing_until_a_config_file_or_a_stored_file_changes(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    (conf / "model").mkdir(parents=True)
    (conf / "model" / "stored.yaml").write_text(MODEL)
    first = sweep(tmp_path, conf)
    assert first["code"] == 0 and any("+model=stored" in call for call in first["calls"])

    again = sweep(tmp_path, conf)
    assert again["calls"] == [], "every composition came from the store"
    assert again["config"] == first["config"]
    folder = str(again["job"].parent.relative_to(tmp_path))
    assert (again["hydra"]["sweep"]["dir"], again["job"].parent != first["job"].parent) == (folder, True)
    assert [o for o in again["hydra"]["overrides"]["hydra"] if o.startswith("hydra.sweep.dir=")] == [
        f"hydra.sweep.dir='{folder}'"
    ], "Hydra's record names this run's folder, not the stored one's"

    (conf / "model" / "stored.yaml").write_text(MODEL.replace("[2, 320]", "[3, 320]"))
    edited = sweep(tmp_path, conf)
    assert sorted(map(tuple, edited["calls"])) == sorted(map(tuple, first["calls"])), "no stored one is stale"
    assert edited["config"]["model"]["inputs"]["x"]["shape"] == [3, 320]

    for stored in (tmp_path / "cache" / "converter" / "compositions").glob("*.pickle"):
        data = bytearray(stored.read_bytes())
        data[-5] ^= 0xFF  # the pickle changed, its signature not
        stored.write_bytes(bytes(data))
    tampered = sweep(tmp_path, conf)
    assert sorted(map(tuple, tampered["calls"])) == sorted(map(tuple, edited["calls"])), "composed again, not unpickled"


def test_a_cache_folder_that_cannot_be_written_only_costs_the_reuse(tmp_path: Path, monkeypatch) -> None:
    from converter.config import composition_store as store

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    path = store.file_for(("call",))
    store.save(path, {"composed": True})  # no folder can be made under a file: nothing is stored, nothing raised
    assert store.load(path) is None and not path.exists()
    written_before = tmp_path / "stored.pickle"  # by a run whose key could be read
    written_before.write_bytes(bytes(64))
    assert store.load(written_before) is None, "no key to check it against: never unpickled, never an error"
