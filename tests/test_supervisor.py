"""converter.sweep.isolation.supervisor: a job's child watched to its end, whatever it does; its
output kept in convert.log; a verdict of its own when it leaves no result. (Segfaults, hangs and
memory hogs of real jobs: tests/test_isolation.py.)"""

from __future__ import annotations

import io
import os
from pathlib import Path

import psutil

from converter.records.results import Status
from converter.sweep.isolation.supervisor import Limits, supervise


def test_a_child_that_exits_without_a_result_is_crashed_with_its_output_kept(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    outcome = supervise(
        tmp_path / "no-config.yaml", tmp_path, Limits(timeout_s=120, max_memory_mb=None, poll_interval_s=0.1)
    )
    assert (outcome.status, outcome.returncode, outcome.signal) == (Status.CRASHED, 2, None)
    message = f"No config file at '{tmp_path / 'no-config.yaml'}'. Fix: give the config.yaml of a converter run folder."
    assert message in outcome.log_tail
    assert message in (tmp_path / "convert.log").read_text()
    assert outcome.process_record().returncode == 2


def test_a_child_past_its_time_is_ended_with_its_whole_group(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    before = {p.pid for p in psutil.Process(os.getpid()).children(recursive=True)}
    # Still importing torch after 0.3 s: the supervisor's own timeout ends it.
    outcome = supervise(
        tmp_path / "config.yaml", tmp_path, Limits(timeout_s=0.3, max_memory_mb=None, poll_interval_s=0.05)
    )
    assert outcome.status == Status.TIMEOUT
    assert outcome.seconds < 60
    left = {p.pid for p in psutil.Process(os.getpid()).children(recursive=True)} - before
    assert left == set(), "nothing of the job keeps running"


def test_what_a_spare_printed_while_it_waited_opens_its_jobs_log(tmp_path) -> None:
    from converter.sweep.isolation.supervisor import _Tee

    log = tmp_path / "convert.log"
    tee = _Tee(io.BytesIO(b"stage load\n"), log, None, first=[b"a warning at import\n"])
    tee.start()
    tee.join()
    assert log.read_text() == "a warning at import\nstage load\n"
    assert list(tee.tail) == ["a warning at import", "stage load"]
