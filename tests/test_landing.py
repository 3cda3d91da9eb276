"""converter.tracking.landing: `make ui` prints the newest sweep's links and serves the store at
LOCAL_UI_URL's host and port, the one place that address is written. Serving starts a real MLflow
UI (about 30 s here), so that test runs with the other service tests in `make test-cluster`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from converter.config.schema import LOCAL_UI_URL
from converter.tracking.landing import ui_command
from tests.conftest import cli_env, free_port


def test_the_ui_is_served_where_the_links_point() -> None:
    assert ui_command(LOCAL_UI_URL, "sqlite:///db")[2:] == [
        "mlflow",
        "ui",
        "--backend-store-uri",
        "sqlite:///db",
        "--host",
        "127.0.0.1",
        "--port",
        "5000",
        "--workers",
        "1",
    ]
    with pytest.raises(ValueError, match="'http://ui' names no host and port"):
        ui_command("http://ui", "sqlite:///db")


@pytest.mark.cluster  # starts an MLflow server, as the cluster tests do: run by make test-cluster (and CI)
@pytest.mark.xdist_group("cluster")
def test_serve_prints_the_links_then_serves_the_store(tmp_path: Path) -> None:
    ui = f"http://127.0.0.1:{free_port()}"
    command = [sys.executable, "-m", "converter.tracking.landing", "--serve", "--ui", ui]
    proc = subprocess.Popen(
        [*command, "--uri", f"sqlite:///{tmp_path / 'mlflow.db'}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=cli_env(),
        start_new_session=True,
    )
    try:
        assert proc.stdout.readline() == f"No sweep in the store yet: run one (make run), then open {ui}\n"
        deadline = time.time() + 90
        while True:
            try:
                assert urllib.request.urlopen(f"{ui}/health", timeout=2).status == 200
                break
            except OSError:
                assert time.time() < deadline, "the MLflow UI did not answer within 90 s"
                assert proc.poll() is None, "the MLflow UI exited"
                time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
