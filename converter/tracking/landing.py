"""Where a reviewer lands: the newest sweep's parent run and the runs table filtered to its jobs.

MLflow 3's UI opens an experiment on its GenAI overview, where converter logs nothing. These
URLs skip it: the runs table with `tags.mlflow.parentRunId = '<parent>'` as its search filter
lists the sweep's jobs with their status, backend and speedup columns. Printed at the end of
each sweep and by `make ui` (`python -m converter.tracking.landing --serve`, which then serves the
embedded store at LOCAL_UI_URL, the one place that address is written).
"""

from __future__ import annotations

import os
import sys
from typing import Any, Dict, List, Optional
from urllib.parse import quote, urlsplit

from converter.config.schema import LOCAL_UI_URL

RUNS_COLUMNS = ("tags.status", "tags.backend", "tags.failure_category", "metrics.speedup")


def sweep_urls(ui: str, experiment_id: str, parent_run_id: str) -> Dict[str, str]:
    base = ui.rstrip("/")
    search = quote(f"tags.mlflow.parentRunId = '{parent_run_id}'", safe="")
    return {
        "parent run": f"{base}/#/experiments/{experiment_id}/runs/{parent_run_id}",
        "jobs table": f"{base}/#/experiments/{experiment_id}/runs?searchFilter={search}",
    }


def print_sweep_urls(ui: str, experiment_id: str, parent_run_id: str, file: Any = sys.stdout) -> None:
    urls = sweep_urls(ui, experiment_id, parent_run_id)
    print(f"Review in MLflow ({ui}; `make ui` serves the embedded store):", file=file)
    for name, url in urls.items():
        print(f"  {name}: {url}", file=file)


def newest_sweep(tracking_uri: str) -> Optional[Dict[str, str]]:
    """{experiment_id, run_id, name} of the most recent sweep's parent run in the store, or None."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    experiments = client.search_experiments()
    if not experiments:
        return None
    runs = client.search_runs(
        [e.experiment_id for e in experiments],
        filter_string="tags.kind = 'sweep'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    if not runs:
        return None
    run = runs[0]
    return {"experiment_id": run.info.experiment_id, "run_id": run.info.run_id, "name": run.info.run_name}


def ui_command(ui: str, tracking_uri: str) -> List[str]:
    """The MLflow UI serving `tracking_uri` at the host and port of `ui`: one worker, for one reviewer."""
    where = urlsplit(ui)
    if not where.hostname or not where.port:
        raise ValueError(f"'{ui}' names no host and port to serve the UI on (give http://HOST:PORT)")
    address = ["--host", where.hostname, "--port", str(where.port)]
    return [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", tracking_uri, *address, "--workers", "1"]


def main(argv: Optional[List[str]] = None) -> int:
    import argparse

    from converter.tracking.store import default_uri

    parser = argparse.ArgumentParser(prog="python -m converter.tracking.landing", description=__doc__)
    parser.add_argument("--uri", default=None, help="tracking URI (default: the embedded store)")
    parser.add_argument("--ui", default=LOCAL_UI_URL, help="where the MLflow UI is served")
    parser.add_argument("--serve", action="store_true", help="then serve the store's MLflow UI at --ui")
    args = parser.parse_args(argv)
    uri = args.uri or default_uri()
    newest = newest_sweep(uri)
    if newest is None:
        print(f"No sweep in the store yet: run one (make run), then open {args.ui}")
    else:
        print(f"Newest sweep: {newest['name']}")
        print_sweep_urls(args.ui, newest["experiment_id"], newest["run_id"])
    if args.serve:
        command = ui_command(args.ui, uri)
        sys.stdout.flush()
        os.execv(command[0], command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
