"""Shared fixtures: run the CLI as a user does, in a scratch folder, and read what it wrote."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List

import pytest

REPO = Path(__file__).resolve().parents[1]


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str
    cwd: Path
    earlier: frozenset = frozenset()

    def results(self) -> List[Dict[str, Any]]:
        """Every result.json this run wrote under outputs/, oldest job first."""
        files = sorted(set(_result_files(self.cwd)) - self.earlier, key=lambda p: str(p))
        return [json.loads(f.read_text()) for f in files]

    def result(self) -> Dict[str, Any]:
        found = self.results()
        assert len(found) == 1, f"expected one result.json, found {len(found)}\n{self.stdout}\n{self.stderr}"
        return found[0]


def _result_files(cwd: Path) -> List[Path]:
    """The jobs' result.json files; a verified fix's follow-up jobs (fix1-...) are not the run's jobs."""
    from converter.diagnosis.fix_verification import is_follow_up

    return [p for p in (cwd / "outputs").rglob("result.json") if not any(is_follow_up(d) for d in p.parents)]


# Compositions kept between runs (converter/config/composition_store.py) would make the tests
# that count compositions depend on what ran before them; test_composition_store turns it on.
os.environ.setdefault("CONVERTER_COMPOSITION_CACHE", "off")


def cli_env() -> Dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    env.setdefault("HYDRA_FULL_ERROR", "0")
    return env


# Groups that cost seconds per run; tests that are about them name them, the rest switch them off.
OPTIONAL_STAGES = ("tracking", "benchmark")
SELECTS_A_MODEL = ("model=", "tiny=", "bench=")


@pytest.fixture
def run_cli(tmp_path: Path):
    """Run `python -m converter ARGS` in a fresh folder (so outputs/ lands in tmp_path). Unless the
    arguments mention them, tracking, benchmark and fix verification are off; MLflow never writes outside tmp_path."""

    def run(*args: str, timeout: float = 600) -> CliRun:
        earlier = frozenset(_result_files(tmp_path))
        extra = []
        if "--cfg" not in args and any(a.lstrip("+").startswith(SELECTS_A_MODEL) for a in args):
            extra = [
                f"{group}=off" for group in OPTIONAL_STAGES if not any(a.lstrip("+~").startswith(group) for a in args)
            ]
            if not any(a.lstrip("+~").startswith("diagnosis") for a in args):
                extra.append("diagnosis.verify_fix=false")  # follow-up jobs: the tests about them turn it on
        env = cli_env()
        env["CONVERTER_TRACKING_URI"] = f"sqlite:///{tmp_path / 'mlflow.db'}"
        proc = subprocess.run(
            [sys.executable, "-m", "converter", *args, *extra],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return CliRun(proc.returncode, proc.stdout, proc.stderr, tmp_path, earlier)

    return run


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def user_model(tmp_path: Path):
    """A `--config-dir` of the user's own: `user_model(name, yaml)` writes model/NAME.yaml into it
    and returns the folder to pass."""
    folder = tmp_path / "user_conf"

    def write(name: str, text: str) -> Path:
        (folder / "model").mkdir(parents=True, exist_ok=True)
        (folder / "model" / f"{name}.yaml").write_text(text)
        return folder

    return write


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mlflow_server(tmp_path: Path):
    """A real MLflow tracking server on 127.0.0.1, stopped after the test."""
    port = free_port()
    mlflow = Path(sys.executable).parent / "mlflow"
    proc = subprocess.Popen(
        [
            str(mlflow),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{tmp_path / 'server.db'}",
            "--artifacts-destination",
            str(tmp_path / "server-artifacts"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/health", timeout=2).status == 200:
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("mlflow server did not start within 90 s")
    yield url
    os.killpg(proc.pid, 15)
    proc.wait(timeout=30)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium: CI starts bare, so the test set-up installs it (apt-get, as root)."""
    found = shutil.which("chromium")
    if found is None and shutil.which("apt-get"):
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], capture_output=True, timeout=900)
        found = shutil.which("chromium")
    if found is None:
        pytest.fail("Debian's chromium is not installed and `apt-get install -y chromium` did not install it")
    return found
