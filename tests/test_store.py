"""converter.tracking.store: where runs go, and a server that does not answer said in seconds."""

from __future__ import annotations

from pathlib import Path

from converter.tracking.store import PROJECT_ROOT, artifact_root, check_reachable, default_uri
from tests.conftest import free_port


def test_the_embedded_store_is_sqlite_in_outputs_with_artifacts_beside_it() -> None:
    assert default_uri() == f"sqlite:///{PROJECT_ROOT / 'outputs' / 'mlflow.db'}"
    assert artifact_root("sqlite:////data/mlflow.db") == Path("/data/mlartifacts").as_uri()
    assert artifact_root("http://127.0.0.1:5000") is None, "a server decides its own"


def test_an_unreachable_server_is_named_and_a_local_store_always_reachable() -> None:
    assert check_reachable("sqlite:////data/mlflow.db") is None
    reason = check_reachable(f"http://127.0.0.1:{free_port()}", timeout=2)
    assert reason is not None and reason.startswith("URLError: ") and "Connection refused" in reason
