"""Measure the harness itself: start-up of `--help`, and `python -m converter` against a bare
script doing the same torch.export and save. Interleaved runs (A, B, A, B) so drift cancels.

    python benchmarks/harness.py --out benchmarks/results.md [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODEL_ARGS = ["+model=resnet18", "model.inputs.x.shape=[2,3,224,224]"]
BARE_SCRIPT = """
import sys, torch, torchvision
torch.manual_seed(0)
model = torchvision.models.resnet18(weights=None).eval()
x = torch.rand(2, 3, 224, 224)
batch = torch.export.Dim("batch", min=1, max=8)
program = torch.export.export(model, (x,), dynamic_shapes=({0: batch},), strict=True)
torch.export.save(program, sys.argv[1])
"""


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results.md")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        timed([py, "-m", "converter", *MODEL_ARGS, "validate=off"], work)  # warm the page cache
        help_times, harness, bare = [], [], []
        for i in range(args.repeats):
            help_times.append(timed([py, "-m", "converter", "--help"], work))
            harness.append(timed([py, "-m", "converter", *MODEL_ARGS, "validate=off"], work))
            bare.append(timed([py, "-c", BARE_SCRIPT, str(work / f"bare{i}.pt2")], work))
    ratio = statistics.median(harness) / statistics.median(bare)
    lines = [
        "# Harness benchmarks",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}.",
        f"Each figure is the median of {args.repeats} interleaved runs (wall seconds, whole process).",
        "",
        "| measure | median s | min s | max s | target |",
        "|---|---|---|---|---|",
        f"| `python -m converter --help` | {statistics.median(help_times):.3f} | {min(help_times):.3f} | {max(help_times):.3f} | < 2 s |",
        f"| `python -m converter +model=resnet18 validate=off` | {statistics.median(harness):.3f} | {min(harness):.3f} | {max(harness):.3f} | |",
        f"| bare torch.export + save script | {statistics.median(bare):.3f} | {min(bare):.3f} | {max(bare):.3f} | |",
        "",
        f"Harness / bare: **{ratio:.3f}x** (target at most 1.10x).",
        "",
    ]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
