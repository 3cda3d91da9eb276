"""report.html, rendered by a real headless Chromium (Debian's `chromium`, installed here if missing)
and read back from the page: the matrix's texts and the colours the browser computed for them."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from converter.config.schema import TrackingConfig
from converter.reporting.html_report import fastest_targets, render, write_report
from converter.reporting.summary import collect_results

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Reads the rendered matrix into JSON the DOM dump carries back: text and computed background per cell.
READBACK = """<script>
const rows = [...document.querySelectorAll('#matrix tbody tr')].map(tr => ({
  model: tr.querySelector('th').textContent,
  cells: [...tr.querySelectorAll('td')].map(td => ({
    text: td.innerText.replace(/\\s+/g, ' ').trim(),
    background: getComputedStyle(td).backgroundColor,
    link: td.querySelector('a') ? td.querySelector('a').href : null,
  })),
}));
const out = document.createElement('pre');
out.id = 'readback';
out.textContent = JSON.stringify({
  backends: [...document.querySelectorAll('#matrix thead th')].slice(1).map(th => th.textContent), rows,
  scripts: document.scripts.length, images: document.images.length,
  chart: [...document.querySelectorAll('svg.status-chart')].map(svg => ({
    width: svg.getBoundingClientRect().width,
    bars: [...svg.querySelectorAll('rect.bar')].map(r => getComputedStyle(r).fill),
  })),
});
document.body.appendChild(out);
</script>"""


def job(sweep: Path, number: int, model: str, backend: str, status: str, **extra) -> None:
    folder = sweep / f"{number}-{model}-{backend}"
    folder.mkdir(parents=True)
    speedup = extra.pop("speedup", 1.0)
    result = {"model": model, "variant": None, "backend": backend, "strict": "auto", "device": "cpu"}
    result.update({"status": status, "cached": False, **extra})
    (folder / "result.json").write_text(json.dumps(result))
    if status == "ok":
        bench = {"cases": [{"sizes": {"batch": 2}, "speedup": {"ratio": speedup, "low": 0.9, "high": 1.1}}]}
        (folder / "bench.json").write_text(json.dumps(bench))
        (folder / "tracking.json").write_text(json.dumps({"logged": True, "run_id": f"run{number}"}))


def make_sweep(sweep: Path) -> list:
    ok = {"validation": {"passed": True, "outputs": {"output": {"max_abs_error": 2.5e-6}}}}
    job(sweep, 0, "resnet18", "torch_export", "ok", speedup=1.42, **ok)
    job(sweep, 1, "resnet18", "torchscript_trace", "ok", speedup=1.05, cached=True, **ok)
    job(
        sweep,
        2,
        "sam",
        "torch_export",
        "failed",
        failure={
            "stage": "export",
            "type": "x",
            "message": "Data-dependent branching\nmore",
            "category": "data_dependent",
        },
    )
    job(
        sweep,
        3,
        "sam",
        "torchscript_trace",
        "crashed",
        failure={"stage": "validate", "type": "y", "message": "killed by SIGSEGV", "category": "crashed"},
    )
    job(
        sweep,
        4,
        "yolo",
        "torch_export",
        "timeout",
        failure={"stage": "export", "type": "z", "message": "ran past 60 s", "category": "timeout"},
    )
    (sweep / ".mlflow_parent.json").write_text(
        json.dumps({"run_id": "parent", "experiment": "e", "experiment_id": "7"})
    )
    return collect_results(sweep)


def test_the_fastest_validated_target_is_named_per_model(tmp_path: Path) -> None:
    results = make_sweep(tmp_path)
    fastest = fastest_targets(results)
    assert {m: (b["backend"], b["speedup"]["ratio"]) for m, b in fastest.items()} == {
        ("resnet18", "batch=2"): ("torch_export", 1.42)
    }


def test_the_summary_and_the_parent_run_name_say_what_to_deploy(tmp_path: Path) -> None:
    from converter.reporting.best_target import fastest_markdown, run_name_suffix

    results = make_sweep(tmp_path)
    # a faster artifact that could not be validated here (Core ML off macOS) never wins
    job(tmp_path, 5, "resnet18", "coreml", "ok", speedup=9.0, validation={"passed": None, "skipped": "no macOS"})
    results = collect_results(tmp_path)
    assert "| resnet18 | batch=2 | torch_export | 1.42x [0.90, 1.10] | no clear difference |" in fastest_markdown(
        results
    )
    assert run_name_suffix(results) == " · best: resnet18 torch_export 1.42x"


def test_a_target_is_faster_or_slower_only_when_its_whole_interval_says_so() -> None:
    from converter.reporting.html_report import verdict

    assert verdict({"ratio": 1.4, "low": 1.2, "high": 1.6}) == "faster"
    assert verdict({"ratio": 0.9, "low": 0.85, "high": 0.95}) == "slower: eager is the fastest"
    assert verdict({"ratio": 1.05, "low": 0.97, "high": 1.12}) == "no clear difference"


def test_the_report_needs_no_network_and_no_script(tmp_path: Path) -> None:
    page = render(tmp_path, make_sweep(tmp_path), TrackingConfig())
    assert "<script" not in page and "http://" not in page.replace("http://127.0.0.1:5000/#/experiments/", "")
    assert '<svg class="status-chart"' in page and "<img" not in page and "<link" not in page


def test_chromium_renders_the_matrix_in_status_colours(tmp_path: Path, chromium: str) -> None:
    report = write_report(tmp_path / "sweep", make_sweep(tmp_path / "sweep"), TrackingConfig())
    probe = tmp_path / "probe.html"
    probe.write_text(report.read_text().replace("</body>", READBACK + "</body>"))
    proc = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", probe.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    found = re.search(r'<pre id="readback">(.*?)</pre>', proc.stdout, re.S)
    assert found, proc.stderr[-2000:]
    page = json.loads(
        found.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    )
    assert page["backends"] == ["torch_export", "torchscript_trace"]
    assert page["scripts"] == 1 and page["images"] == 0, "only the probe's script; the chart is inline SVG"
    assert page["chart"] == [
        {
            "width": 600,
            # torch_export: ok, failed, timeout; torchscript_trace: ok, crashed (bottom to top)
            "bars": [
                "rgb(46, 125, 50)",
                "rgb(198, 40, 40)",
                "rgb(239, 108, 0)",
                "rgb(46, 125, 50)",
                "rgb(106, 27, 154)",
            ],
        }
    ]
    cells = {row["model"]: row["cells"] for row in page["rows"]}
    assert [c["text"] for c in cells["resnet18"]] == [
        "ok 1.42x eager [0.90, 1.10] · max abs err 2.5e-06 MLflow run",
        "ok cached 1.05x eager [0.90, 1.10] · max abs err 2.5e-06 MLflow run",
    ]
    assert cells["resnet18"][0]["link"] == "http://127.0.0.1:5000/#/experiments/7/runs/run0"
    assert [c["text"] for c in cells["sam"]] == [
        "failed data_dependent export: x: Data-dependent branching",
        "crashed validate: y: killed by SIGSEGV",
    ]
    assert [c["text"] for c in cells["yolo"]] == ["timeout export: z: ran past 60 s", "not run"]
    backgrounds = {c["text"].split()[0]: c["background"] for row in cells.values() for c in row}
    assert backgrounds == {
        "ok": "rgb(227, 244, 228)",
        "failed": "rgb(251, 227, 227)",
        "crashed": "rgb(239, 226, 247)",
        "timeout": "rgb(253, 235, 216)",
        "not": "rgb(250, 250, 250)",
    }
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile2'}",
            f"--screenshot={shot}",
            "--window-size=1100,900",
            report.as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    assert shot.is_file() and shot.stat().st_size > 10_000


def test_every_category_a_failed_cell_can_have_gets_its_own_border_colour() -> None:
    from converter.diagnosis.categories import CATEGORIES
    from converter.reporting.html_report import CATEGORY_COLOURS

    statuses = {"crashed", "timeout", "oom"}  # the cell's colour already says these
    assert set(CATEGORY_COLOURS) == set(CATEGORIES) - statuses
    assert len(set(CATEGORY_COLOURS.values())) == len(CATEGORY_COLOURS)
