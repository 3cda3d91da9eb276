"""The sweep's progress line, read from its folder."""

from __future__ import annotations

import io
import json
from pathlib import Path

from converter.sweep.progress import SweepMonitor


def test_the_line_counts_statuses_names_running_jobs_and_estimates_time_left(tmp_path: Path) -> None:
    (tmp_path / "sweep.json").write_text(json.dumps({"total": 4}))
    for number, (model, status, cached) in enumerate([("a", "ok", True), ("b", "crashed", False)]):
        folder = tmp_path / f"{number}-{model}-torch_export"
        folder.mkdir()
        result = {"model": model, "backend": "torch_export", "strict": "auto", "device": "cpu"}
        result.update(status=status, cached=cached)
        (folder / "result.json").write_text(json.dumps(result))
    running = tmp_path / "2-c-torch_export"
    running.mkdir()
    (running / ".stage.json").write_text(json.dumps({"stage": "export", "finished": {}, "pid": 1}))
    monitor = SweepMonitor(tmp_path, live=False, out=io.StringIO())
    monitor.started -= 60  # a minute in
    line = monitor.snapshot().line()
    assert line.startswith("sweep 2/4 done · ok 1 · failed 0 · crashed 1 · timeout 0 · oom 0 · cached 1 · 0:01:0")
    assert ", ~0:01:0" in line and line.endswith("running: c-torch_export [export]")


def test_plain_mode_prints_one_line_per_finished_job_once(tmp_path: Path) -> None:
    (tmp_path / "sweep.json").write_text(json.dumps({"total": 2}))
    out = io.StringIO()
    monitor = SweepMonitor(tmp_path, live=False, out=out, interval_s=0.01)
    monitor.start()
    folder = tmp_path / "0-a-torch_export"
    folder.mkdir()
    (folder / "result.json").write_text(
        json.dumps(
            {"model": "a", "backend": "torch_export", "strict": "auto", "device": "cpu", "status": "ok", "cached": True}
        )
    )
    monitor.stop()
    assert out.getvalue() == "[sweep 1/2] a/torch_export: ok (cached)\n"
