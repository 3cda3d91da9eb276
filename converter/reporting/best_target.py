"""The fastest target that validated, per model and batch size (as Model Navigator's runtime
selection picks one): read from each ok job's bench.json, import-free."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Mapping, Tuple

from converter.records.outcome import read_json
from converter.records.results import Status, target_label
from converter.records.run_folder import BENCH_FILE
from converter.tensors.dims import sizes_label

Key = Tuple[str, str]  # model label, sizes ("batch=2")


def model_label(result: Mapping[str, Any]) -> str:
    return result["model"] + (f" ({result['variant']})" if result.get("variant") else "")


def fastest_targets(results: List[Mapping[str, Any]]) -> Dict[Key, Dict[str, Any]]:
    """(model, sizes) -> {backend (its target label), speedup: {ratio, low, high}, fraction_of_peak:
    {eager, artifact} or None} over validated, benchmarked jobs. A job whose validation was skipped
    (Core ML off macOS) never competes."""
    best: Dict[Key, Dict[str, Any]] = {}
    for result in results:
        validation = result.get("validation") or {}
        if result["status"] != Status.OK or validation.get("passed") is not True:
            continue
        for case in read_json(Path(result.get("run_dir", "")) / BENCH_FILE).get("cases") or []:
            key = (model_label(result), sizes_label(case.get("sizes") or {}))
            speed = case["speedup"]
            if key not in best or speed["ratio"] > best[key]["speedup"]["ratio"]:
                best[key] = {
                    "backend": target_label(result),
                    "speedup": speed,
                    "fraction_of_peak": case.get("fraction_of_peak"),
                }
    return best


def verdict(speed: Mapping[str, float]) -> str:
    """What the interval says: a target is only faster (or slower) when the whole interval is."""
    if speed["low"] > 1:
        return "faster"
    if speed["high"] < 1:
        return "slower: eager is the fastest"
    return "no clear difference"


def fastest_markdown(results: List[Mapping[str, Any]]) -> List[str]:
    best = fastest_targets(results)
    if not best:
        return []
    lines = [
        "",
        "Fastest validated target per model and batch size (speedup over eager, 95% interval):",
        "",
        "| model | sizes | backend | speedup [95% CI] | against eager |",
        "|---|---|---|---|---|",
    ]
    for (model, sizes), entry in sorted(best.items()):
        s = entry["speedup"]
        lines.append(
            f"| {model} | {sizes} | {entry['backend']} | {s['ratio']:.2f}x [{s['low']:.2f}, {s['high']:.2f}] | "
            f"{verdict(s)} |"
        )
    return lines


def run_name_suffix(results: List[Mapping[str, Any]], limit: int = 3) -> str:
    """' · best: resnet18 onnx 1.92x, ...' for the MLflow parent run's name (first sizes per model)."""
    chosen: Dict[str, str] = {}
    for (model, _), entry in sorted(fastest_targets(results).items()):
        chosen.setdefault(model, f"{model} {entry['backend']} {entry['speedup']['ratio']:.2f}x")
    if not chosen:
        return ""
    names = list(chosen.values())
    return " · best: " + ", ".join(names[:limit]) + (f" (+{len(names) - limit})" if len(names) > limit else "")
