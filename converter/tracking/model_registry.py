"""Validated artifacts in the MLflow Model Registry, so a deployment fetches `models:/NAME@latest-ok`.

One registered model per model (and variant) and backend, a version per run whose artifact
validated, tagged with its validation errors and speedup; the alias `latest-ok` moves to the
newest such version. The version's source is the run's uploaded artifact folder, so the
artifact's own loader reads it (torch.export.load, torch.jit.load) after
`mlflow.artifacts.download_artifacts("models:/NAME@latest-ok")`.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from converter.records.results import Status

LATEST_OK = "latest-ok"


def registered_name(result: Mapping[str, Any]) -> str:
    variant = f"-{result['variant']}" if result.get("variant") else ""
    return f"{result['model']}{variant}-{result['backend']}"


def version_tags(result: Mapping[str, Any]) -> Dict[str, str]:
    from converter.records.results import worst_error

    validation = result.get("validation") or {}
    bench = result.get("benchmark") or {}
    tags = {
        "backend": result["backend"],
        "job_key": result.get("job_key") or "",
        "max_abs_error": str(worst_error(result)),
        "max_rel_error": str(worst_error(result, "max_rel_error")),
        "atol": str(validation.get("atol", "")),
        "rtol": str(validation.get("rtol", "")),
    }
    if bench.get("speedup") is not None:
        tags["speedup"] = f"{bench['speedup']:.4f}"
    return tags


def validated(result: Mapping[str, Any]) -> bool:
    return result.get("status") == Status.OK and bool((result.get("validation") or {}).get("passed"))


def register(client: Any, run_id: str, result: Mapping[str, Any]) -> Optional[str]:
    """Register the run's artifact as a new version and point `latest-ok` at it; its version, or
    None when the job did not validate (an unvalidated artifact is never offered for deployment)."""
    from mlflow.exceptions import MlflowException

    if not validated(result):
        return None
    name = registered_name(result)
    try:
        client.create_registered_model(
            name, description=f"converter artifacts of {result['model']} ({result['backend']})"
        )
    except MlflowException as exc:
        if "RESOURCE_ALREADY_EXISTS" not in str(exc.error_code):
            raise
    source = f"{client.get_run(run_id).info.artifact_uri.rstrip('/')}/artifact"
    version = client.create_model_version(name, source, run_id=run_id, tags=version_tags(result))
    client.set_registered_model_alias(name, LATEST_OK, version.version)
    return str(version.version)
