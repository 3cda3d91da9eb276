"""converter.records.run_folder: the one writer and reader of a job's result.json."""

from __future__ import annotations

import errno
import json
from pathlib import Path

from converter.records import run_folder
from converter.records.run_folder import forget_result, has_result, read_result, run_folders_under, write_result


def test_a_record_written_is_read_back_and_forgotten(tmp_path: Path) -> None:
    assert (read_result(tmp_path), has_result(tmp_path)) == ({}, False)
    written = write_result({"status": "ok", "model": "m", "backend": "b"}, tmp_path)
    assert written == {"status": "ok", "model": "m", "backend": "b"}
    assert (read_result(tmp_path), has_result(tmp_path)) == (written, True)
    forget_result(tmp_path)
    forget_result(tmp_path)  # twice: nothing to remove is not an error
    assert not has_result(tmp_path)


def test_a_torn_record_reads_as_none(tmp_path: Path) -> None:
    (tmp_path / "result.json").write_text('{"status": "o')
    assert read_result(tmp_path) == {}


def test_a_full_disk_costs_the_record_not_the_caller(tmp_path: Path, monkeypatch) -> None:
    def full(data, final):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(run_folder, "write_json_atomically", full)
    assert write_result({"status": "failed"}, tmp_path) == {"status": "failed", "written": False}
    assert not has_result(tmp_path)


def test_run_folders_are_found_at_or_under_a_path_in_order(tmp_path: Path) -> None:
    for name in ("b", "a", "a/nested", "empty"):
        (tmp_path / name).mkdir(parents=True, exist_ok=True)
    for name in ("b", "a", "a/nested"):
        (tmp_path / name / "result.json").write_text(json.dumps({"status": "ok"}))
    assert run_folders_under(tmp_path) == [tmp_path / "a", tmp_path / "a" / "nested", tmp_path / "b"]
    assert run_folders_under(tmp_path / "b") == [tmp_path / "b"], "a run folder is itself"
    assert run_folders_under(tmp_path / "empty") == []
