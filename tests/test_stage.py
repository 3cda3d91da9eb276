"""converter.records.stage: the stage a running job is in, for the supervisor and the progress display."""

from __future__ import annotations

import os
from pathlib import Path

from converter.records import stage


def test_the_stage_announced_is_read_back_with_the_finished_ones_and_cleared(tmp_path: Path) -> None:
    assert (stage.read(tmp_path), stage.current(tmp_path)) == ({}, None)
    stage.announce(tmp_path, "export", {"load": 1.5})
    assert stage.read(tmp_path) == {"stage": "export", "finished": {"load": 1.5}, "pid": os.getpid()}
    assert stage.current(tmp_path) == "export"
    stage.clear(tmp_path)
    stage.clear(tmp_path)  # twice: nothing to remove is not an error
    assert stage.current(tmp_path) is None


def test_a_stage_that_cannot_be_announced_is_not_an_error(tmp_path: Path) -> None:
    stage.announce(tmp_path / "gone", "export", {})  # the folder is missing: the hint is lost, nothing raises
    assert stage.read(tmp_path / "gone") == {}


def test_a_torn_stage_file_reads_as_none(tmp_path: Path) -> None:
    (tmp_path / stage.STAGE_FILE).write_text('{"stage": "exp')
    assert stage.current(tmp_path) is None
