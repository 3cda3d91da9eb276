"""`make fleet`: write one YAML per fleet model, convert each through torch.export as written,
apply the diagnosed fix to each failure that has one, and publish the pass rates.

    python -m benchmarks.fleet.run [--libraries transformers,timm,torchvision] [--only NAME,...]
                                   [--workdir outputs/fleet] [--out benchmarks/fleet.md] [--readme README.md]

Pass rates are reported the way PyTorch's benchmark harness reports export pass rates for timm
and Hugging Face models: converted / attempted per library, with each failure's category.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

REPO = Path(__file__).resolve().parents[2]
START, END = "<!-- fleet:start -->", "<!-- fleet:end -->"
# What every fleet job runs with: torch.export, validation on the example, each Dim's range and
# the value edges, no benchmark (pass rates, not speed), no tracking.
JOB_ARGS = [
    "export=torch_export",
    "tracking=off",
    "benchmark=off",
    "validate.num_random_inputs=1",
    "job.cache=false",
    "job.timeout_s=900",
    # draft_export's report of a failure takes minutes on a full-size detector; the category does not need it.
    "export.options.draft_report=false",
]


@dataclass
class FleetOutcome:
    library: str
    name: str
    status: str
    category: Optional[str]
    reason: str
    seconds: float
    fixed_by: List[str]
    # ok after the diagnosed fix (converter's verified fix, or the fleet's own re-run of it).
    fixed: bool = False
    # failure.fix.verified as converter recorded it (passed, failed, not_tried; None: not recorded).
    verified: Optional[str] = None


def write_yamls(models: Sequence[Any], conf_dir: Path) -> None:
    from omegaconf import OmegaConf

    folder = conf_dir / "model"
    folder.mkdir(parents=True, exist_ok=True)
    for model in models:
        body = OmegaConf.to_yaml(OmegaConf.create(model.model))
        (folder / f"{model.name}.yaml").write_text(
            f"# {model.library} fleet: written by benchmarks/fleet/run.py\n{body}"
        )


def sweep(names: Sequence[str], conf_dir: Path, sweep_dir: Path, extra: Sequence[str] = ()) -> None:
    command = [
        sys.executable,
        "-m",
        "converter",
        "--multirun",
        "--config-dir",
        str(conf_dir),
        f"+model={','.join(names)}",
        *JOB_ARGS,
        *extra,
        f"hydra.sweep.dir={sweep_dir}",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"the fleet sweep exited {proc.returncode}:\n{proc.stderr[-3000:]}")


def read_results(sweep_dir: Path) -> Dict[str, Dict[str, Any]]:
    """Each launched job's result.json by model; a verified fix's follow-up jobs (fix1-...) are not the model's outcome."""
    from converter.records.outcome import job_dirs
    from converter.records.run_folder import read_result

    found = {}
    for job_dir in job_dirs(sweep_dir):
        result = read_result(job_dir)
        if result:
            found[result["model"]] = result
    return found


def outcome_of(library: str, name: str, result: Optional[Dict[str, Any]]) -> FleetOutcome:
    if result is None:
        return FleetOutcome(library, name, "missing", "missing", "no result.json", 0.0, [])
    failure = result.get("failure") or {}
    seconds = float(sum((result.get("stages") or {}).values()))
    reason = (
        f"{failure.get('stage', '')}: {failure.get('type', '').rsplit('.', 1)[-1]}: {first(failure.get('message'))}"
    )
    fix = failure.get("fix") or {}
    return FleetOutcome(
        library,
        name,
        result["status"],
        None if result["status"] == "ok" else failure.get("category", "unknown"),
        "" if result["status"] == "ok" else reason[:160],
        seconds,
        list(fix.get("overrides") or failure.get("fix_overrides") or []),
        fix.get("verified") == "passed",
        fix.get("verified"),
    )


def first(text: Optional[str]) -> str:
    """The message's first line; Hydra's "Error in call to target" wrapper gives way to its cause."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].startswith("Error in call to target"):
        return lines[-1]
    return lines[0] if lines else ""


def apply_fixes(outcomes: List[FleetOutcome], conf_dir: Path, workdir: Path) -> None:
    """Re-run each failure that has fix_overrides and no verdict of converter's own (diagnosis.verify_fix
    off) with them applied, one job each."""
    for outcome in outcomes:
        if outcome.status == "ok" or not outcome.fixed_by or outcome.verified is not None:
            continue
        sweep_dir = workdir / "fixed" / outcome.name
        try:
            sweep([outcome.name], conf_dir, sweep_dir, outcome.fixed_by)
        except SystemExit as exc:
            outcome.reason += f" (fix did not compose: {first(str(exc))[:80]})"
            continue
        fixed = read_results(sweep_dir).get(outcome.name)
        outcome.fixed = bool(fixed and fixed["status"] == "ok")


def render(outcomes: Sequence[FleetOutcome], wall_s: float) -> str:
    lines = [
        "| library | models | converted as written | converted with the diagnosed fix | pass rate |",
        "|---|---|---|---|---|",
    ]
    for library in dict.fromkeys(o.library for o in outcomes):
        mine = [o for o in outcomes if o.library == library]
        direct = sum(o.status == "ok" for o in mine)
        fixed = sum(o.fixed for o in mine)
        rate = 100.0 * (direct + fixed) / len(mine)
        lines.append(f"| {library} | {len(mine)} | {direct} | {fixed} | {rate:.0f}% |")
    failures = Counter(o.category for o in outcomes if o.status != "ok")
    by_category = ", ".join(f"{n} {c}" for c, n in failures.most_common()) or "none"
    lines += ["", f"Failures as written, by category: {by_category}. Wall time {wall_s / 60:.1f} min."]
    return "\n".join(lines)


def render_details(outcomes: Sequence[FleetOutcome]) -> str:
    lines = ["| library | model | as written | seconds | diagnosed fix | fixed |", "|---|---|---|---|---|---|"]
    for o in outcomes:
        status = "ok" if o.status == "ok" else f"{o.status} [{o.category}]: {o.reason}"
        fix = " ".join(f"`{f}`" for f in o.fixed_by) or ("" if o.status == "ok" else "none")
        fixed = "" if o.status == "ok" else ("ok" if o.fixed else "no")
        lines.append(f"| {o.library} | {o.name} | {status.replace('|', '/')} | {o.seconds:.1f} | {fix} | {fixed} |")
    return "\n".join(lines)


def machine() -> str:
    import torch

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, torch {torch.__version__}"


def fleet_of(library: str) -> List[Any]:
    from benchmarks.fleet import models

    return {
        "transformers": models.transformers_fleet,
        "timm": models.timm_fleet,
        "torchvision": models.torchvision_fleet,
    }[library]()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--libraries", default="transformers,timm,torchvision")
    parser.add_argument("--only", default="", help="comma-separated model names (a sample)")
    parser.add_argument("--workdir", type=Path, default=REPO / "outputs" / "fleet")
    parser.add_argument("--out", type=Path, help="write the report here (benchmarks/fleet.md)")
    parser.add_argument("--readme", type=Path, help="replace README's fleet section with the summary")
    parser.add_argument("--note", default="", help="a line for the report on how the run was made")
    parser.add_argument(
        "--via-new",
        action="store_true",
        help="write each YAML's inputs as `converter new` infers them from the built model",
    )
    parser.add_argument(
        "--combine",
        nargs="+",
        type=Path,
        metavar="WORKDIR",
        help="report the outcomes.json of earlier runs instead (a later one's outcome of a model wins)",
    )
    args = parser.parse_args(argv)
    if args.combine:
        outcomes, wall = combined(args.combine)
        publish(outcomes, wall, args)
        return 0
    models = [m for library in args.libraries.split(",") for m in fleet_of(library)]
    if args.only:
        wanted = set(args.only.split(","))
        models = [m for m in models if m.name in wanted]
    if args.via_new:
        models = [inferred_by_new(m) for m in models]
    conf_dir = args.workdir / "conf"
    write_yamls(models, conf_dir)
    started = time.perf_counter()
    sweep([m.name for m in models], conf_dir, args.workdir / "sweep")
    results = read_results(args.workdir / "sweep")
    outcomes = [outcome_of(m.library, m.name, results.get(m.name)) for m in models]
    apply_fixes(outcomes, conf_dir, args.workdir)
    wall = time.perf_counter() - started
    (args.workdir / "outcomes.json").write_text(
        json.dumps({"wall_s": wall, "outcomes": [o.__dict__ for o in outcomes]}, indent=1)
    )
    publish(outcomes, wall, args)
    return 0


def inferred_by_new(member: Any) -> Any:
    """The member with the inputs and Dims `converter new` infers from the built model (same loader)."""
    from dataclasses import replace

    from converter.cli.new.command import build_with_known_fix
    from converter.cli.new.inference import infer_inputs

    module, loader, _ = build_with_known_fix(dict(member.model["loader"]))
    inferred = infer_inputs(module)
    model = {**member.model, "loader": loader, "inputs": inferred.inputs, "dynamic_shapes": inferred.dynamic_shapes}
    return replace(member, model=model)


def combined(workdirs: Sequence[Path]) -> tuple:
    """Outcomes read back from each run's job folders (a later run's outcome of a model wins) and the
    runs' wall seconds (outcomes.json; a run stopped early counts its jobs' own seconds)."""
    by_name: Dict[str, FleetOutcome] = {}
    wall = 0.0
    for workdir in workdirs:
        results = read_results(workdir / "sweep")
        recorded = workdir / "outcomes.json"
        if recorded.is_file():
            wall += json.loads(recorded.read_text())["wall_s"]
        else:
            wall += sum(float((r.get("process") or {}).get("seconds") or 0.0) for r in results.values())
        for name, result in results.items():
            outcome = outcome_of(_library_of(name), name, result)
            rerun = read_results(workdir / "fixed" / name).get(name)
            if outcome.verified is None and rerun is not None:
                outcome.fixed = rerun["status"] == "ok"
            by_name[name] = outcome
    return list(by_name.values()), wall


def _library_of(name: str) -> str:
    return {"hf": "transformers", "tv": "torchvision", "timm": "timm"}[name.split("_", 1)[0]]


def not_run(outcomes: Sequence[FleetOutcome]) -> List[str]:
    """Fleet members of the reported libraries that have no outcome (a run stopped before them)."""
    names = {o.name for o in outcomes}
    libraries = dict.fromkeys(o.library for o in outcomes)
    return [m.name for library in libraries for m in fleet_of(library) if m.name not in names]


def publish(outcomes: Sequence[FleetOutcome], wall: float, args: argparse.Namespace) -> None:
    summary = render(outcomes, wall)
    missing = not_run(outcomes)
    if missing:
        summary += f" Not run (the run was stopped before them): {', '.join(missing)}."
    print(summary)
    report = (
        "# Fleet pass rates (make fleet)\n\nEach model's YAML as a user writes it (benchmarks/fleet/models.py), "
        f"converted through torch.export and validated against eager; a failure's diagnosed fix, where it has one, "
        f"is applied and run. Machine: {machine()}.{' ' + args.note if args.note else ''}\n\n{summary}\n\n"
        f"{render_details(outcomes)}\n"
    )
    if args.out:
        args.out.write_text(report)
    if args.readme:
        from converter.records.readme_section import embed

        embed(args.readme, START, END, summary)


if __name__ == "__main__":
    sys.exit(main())
