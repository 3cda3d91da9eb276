"""Compare a sweep with the previous one in the same experiment: what broke, what got slower,
whose numbers drifted. `python -m converter.tracking.nightly --experiment nightly [--uri URI]`
compares the two latest sweeps and exits 1 when something regressed."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from converter.config.schema import TrackingConfig
from converter.records.results import Status

Key = Tuple[str, str, str]  # model, variant, backend


@dataclass
class NightlyReport:
    previous_run_id: Optional[str]
    status_changes: List[str] = field(default_factory=list)
    recoveries: List[str] = field(default_factory=list)
    latency_regressions: List[str] = field(default_factory=list)
    error_drift: List[str] = field(default_factory=list)
    new_jobs: List[str] = field(default_factory=list)
    # Failure categories (failure_category tags) that appeared or disappeared since the last nightly.
    categories_appeared: List[str] = field(default_factory=list)
    categories_disappeared: List[str] = field(default_factory=list)

    @property
    def regressed(self) -> bool:
        return bool(self.status_changes or self.latency_regressions or self.error_drift)

    def markdown(self) -> str:
        if self.previous_run_id is None:
            return "# Nightly comparison\n\nNo previous sweep in this experiment: nothing to compare with."
        lines = [
            f"# Nightly comparison with run {self.previous_run_id}",
            "",
            f"Regressed: **{'yes' if self.regressed else 'no'}**",
            "",
        ]
        for title, items in (
            ("Broke (ok before, not now)", self.status_changes),
            ("Slower beyond the threshold", self.latency_regressions),
            ("Validation error drift", self.error_drift),
            ("Fixed (failing before, ok now)", self.recoveries),
            ("New jobs", self.new_jobs),
            ("Failure categories that appeared", self.categories_appeared),
            ("Failure categories that disappeared", self.categories_disappeared),
        ):
            lines += [f"## {title}", ""] + ([f"- {item}" for item in items] or ["- none"]) + [""]
        return "\n".join(lines)


def _children(client: Any, experiment_id: str, parent_id: str) -> Dict[Key, Any]:
    runs = client.search_runs(
        [experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent_id}'", max_results=5000
    )
    return {
        (r.data.tags.get("model", ""), r.data.tags.get("variant", ""), r.data.tags.get("backend", "")): r for r in runs
    }


def previous_sweep(client: Any, experiment_id: str, run_id: str) -> Optional[Any]:
    current = client.get_run(run_id)
    sweep = current.data.tags.get("sweep", "")
    runs = client.search_runs(
        [experiment_id],
        filter_string=f"tags.kind = 'sweep' and tags.sweep = '{sweep}'",
        order_by=["attributes.start_time DESC"],
        max_results=100,
    )
    earlier = [r for r in runs if r.info.run_id != run_id and r.info.start_time < current.info.start_time]
    return earlier[0] if earlier else None


def compare_runs(previous: Dict[Key, Any], current: Dict[Key, Any], thresholds: TrackingConfig) -> NightlyReport:
    """tracking.latency_regression, error_drift and error_floor decide what counts as slower or drifted."""
    report = NightlyReport(previous_run_id="")
    slower, drift, floor = thresholds.latency_regression, thresholds.error_drift, thresholds.error_floor
    for key, run in sorted(current.items()):
        name = "/".join(k for k in key if k)
        before = previous.get(key)
        if before is None:
            report.new_jobs.append(f"{name}: {run.data.tags.get('status')}")
            continue
        was, now = before.data.tags.get("status"), run.data.tags.get("status")
        if was == Status.OK and now != Status.OK:
            report.status_changes.append(
                f"{name}: ok -> {now} ({run.data.tags.get('failure_stage', '')}: {run.data.tags.get('failure_message', '')[:160]})"
            )
        elif was != Status.OK and now == Status.OK:
            report.recoveries.append(f"{name}: {was} -> ok")
        old_p50, new_p50 = before.data.metrics.get("artifact_p50_ms"), run.data.metrics.get("artifact_p50_ms")
        if old_p50 and new_p50 and new_p50 > old_p50 * (1 + slower):
            report.latency_regressions.append(
                f"{name}: artifact p50 {old_p50:.2f} ms -> {new_p50:.2f} ms (+{(new_p50 / old_p50 - 1) * 100:.0f}%)"
            )
        old_err, new_err = (
            before.data.metrics.get("validation/max_abs_error"),
            run.data.metrics.get("validation/max_abs_error"),
        )
        if old_err is not None and new_err is not None and new_err > max(old_err * drift, floor):
            report.error_drift.append(f"{name}: max abs error {old_err:.2e} -> {new_err:.2e}")
    before_counts, now_counts = _category_counts(previous), _category_counts(current)
    report.categories_appeared = [f"{c}: {now_counts[c]} job(s)" for c in sorted(set(now_counts) - set(before_counts))]
    report.categories_disappeared = [
        f"{c}: {before_counts[c]} job(s) before" for c in sorted(set(before_counts) - set(now_counts))
    ]
    return report


def _category_counts(runs: Dict[Key, Any]) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    for run in runs.values():
        if run.data.tags.get("status") != Status.OK:
            category = run.data.tags.get("failure_category") or run.data.tags.get("status", "unknown")
            counts[category] = counts.get(category, 0) + 1
    return counts


def compare_with_previous(client: Any, experiment_id: str, run_id: str, thresholds: TrackingConfig) -> NightlyReport:
    previous = previous_sweep(client, experiment_id, run_id)
    if previous is None:
        return NightlyReport(previous_run_id=None)
    report = compare_runs(
        _children(client, experiment_id, previous.info.run_id), _children(client, experiment_id, run_id), thresholds
    )
    report.previous_run_id = previous.info.run_id
    return report


def main(argv: Optional[List[str]] = None) -> int:
    from converter.tracking.store import client_and_experiment, default_uri

    defaults = TrackingConfig()  # the thresholds' one home: tracking.* in the schema
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--experiment", default="nightly")
    parser.add_argument("--uri", default=None, help=f"tracking URI (default {default_uri()})")
    parser.add_argument(
        "--latency-regression",
        type=float,
        default=defaults.latency_regression,
        help="fractional p50 increase that counts as slower",
    )
    parser.add_argument(
        "--error-drift",
        type=float,
        default=defaults.error_drift,
        help="factor by which the max abs error may grow before it counts as drift",
    )
    parser.add_argument(
        "--error-floor", type=float, default=defaults.error_floor, help="errors below this never count as drift"
    )
    args = parser.parse_args(argv)
    client, experiment_id = client_and_experiment(TrackingConfig(uri=args.uri), args.experiment)
    runs = client.search_runs(
        [experiment_id], filter_string="tags.kind = 'sweep'", order_by=["attributes.start_time DESC"], max_results=1
    )
    if not runs:
        print(f"No sweep in experiment '{args.experiment}'.", file=sys.stderr)
        return 2
    thresholds = TrackingConfig(
        latency_regression=args.latency_regression, error_drift=args.error_drift, error_floor=args.error_floor
    )
    report = compare_with_previous(client, experiment_id, runs[0].info.run_id, thresholds)
    print(report.markdown())
    return 1 if report.regressed else 0


if __name__ == "__main__":
    sys.exit(main())
