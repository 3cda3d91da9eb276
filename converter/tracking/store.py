"""Where runs go: the tracking URI, the experiment, and the client."""

from __future__ import annotations

import functools
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Tuple

from converter.config.schema import TrackingConfig

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def default_uri() -> str:
    """The embedded store: SQLite at <project root>/outputs/mlflow.db, whatever the run folder."""
    return f"sqlite:///{PROJECT_ROOT / 'outputs' / 'mlflow.db'}"


def tracking_uri(tracking: TrackingConfig) -> str:
    return tracking.uri or default_uri()


def artifact_root(uri: str) -> Optional[str]:
    """For a local SQLite store, artifacts live beside the database; a server decides its own."""
    if uri.startswith("sqlite:///"):
        return (Path(uri[len("sqlite:///") :]).parent / "mlartifacts").as_uri()
    return None


# MLflow retries an unreachable server with backoff for minutes by default; a converter job
# should report it in seconds. Users who want patience can set these variables themselves.
HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}


def check_reachable(uri: str, timeout: float = 5.0) -> Optional[str]:
    """None when an http(s) tracking server answers its /health endpoint, else why not."""
    if not uri.startswith(("http://", "https://")):
        return None
    import urllib.request

    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout) as response:
            return None if response.status == 200 else f"/health answered {response.status}"
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"


# Experiment ids this process has looked up, by (tracking URI, name): a sweep logs every job to
# one experiment, and its writer process asked the store once per job.
_experiment_ids: Dict[Tuple[str, str], str] = {}


def client_and_experiment(tracking: TrackingConfig, name: str) -> Tuple[Any, str]:
    """An MlflowClient and the id of experiment `name`, created (with local artifacts) if new."""
    client, uri = _client(tracking)
    if (uri, name) not in _experiment_ids:
        _experiment_ids[uri, name] = _experiment_id(client, uri, name)
    return client, _experiment_ids[uri, name]


def _client(tracking: TrackingConfig) -> Tuple[Any, str]:
    import os

    for key, value in HTTP_DEFAULTS.items():
        os.environ.setdefault(key, value)
    from mlflow.tracking import MlflowClient

    uri = tracking_uri(tracking)
    if uri.startswith("sqlite:///"):
        Path(uri[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    # The registry is the tracking store itself, whatever MLFLOW_REGISTRY_URI a shell carries.
    return MlflowClient(tracking_uri=uri, registry_uri=uri), uri


def _experiment_id(client: Any, uri: str, name: str) -> str:
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    location = artifact_root(uri)
    try:
        return client.create_experiment(name, artifact_location=f"{location}/{name}" if location else None)
    except Exception:  # noqa: BLE001 (another sweep created it between the lookup and here: use theirs)
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise
        return experiment.experiment_id


@functools.lru_cache(maxsize=1)
def git_commit() -> Optional[str]:
    """The checkout's commit, once per process (every job's run is tagged with it)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


@contextmanager
def tracking_lock(tracking: TrackingConfig) -> Iterator[None]:
    """Serialise writers of an embedded SQLite store across processes (sweeps, joblib workers).

    SQLite allows one writer at a time, and MLflow's first use of a new file runs its schema
    migrations, which concurrent processes would race. A server serialises writes itself.
    """
    uri = tracking_uri(tracking)
    if not uri.startswith("sqlite:///"):
        yield
        return
    import fcntl

    database = Path(uri[len("sqlite:///") :])
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(database.with_name(database.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
