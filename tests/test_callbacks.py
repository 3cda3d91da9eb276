"""converter.sweep.callbacks: the progress display runs in the launching process only, and the sweep
ends with summary.md and report.html in its folder."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

from omegaconf import OmegaConf

from converter.config.schema import TrackingConfig
from converter.sweep.callbacks import SummaryCallback


def test_the_display_stays_in_the_launcher_and_the_summary_is_written_at_the_end(tmp_path: Path, capsys) -> None:
    (tmp_path / "sweep.json").write_text(json.dumps({"total": 1}))
    config = OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path)}}})
    config.tracking = OmegaConf.structured(TrackingConfig())
    callback = SummaryCallback()
    callback.on_multirun_start(config)
    assert callback.monitor.is_alive()
    assert pickle.loads(pickle.dumps(callback)).monitor is None, "workers get the callback without the display"
    job = tmp_path / "0-m-onnx"
    job.mkdir()
    record = {"model": "m", "backend": "onnx", "strict": True, "device": "cpu", "status": "ok"}
    (job / "result.json").write_text(json.dumps(record))
    callback.on_multirun_end(config)
    assert not callback.monitor.is_alive()
    assert (tmp_path / "summary.md").is_file() and (tmp_path / "report.html").is_file()
    out = capsys.readouterr().out
    assert "[sweep 1/1] m/onnx: ok" in out and f"Sweep summary ({tmp_path / 'summary.md'}" in out
