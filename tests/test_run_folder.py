"""converter.records.run_folder: the one writer and reader of a job's result.json."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from converter.errors import Failure
from converter.records import run_folder
from converter.records.artifacts import ArtifactInfo
from converter.records.results import CapturedWarning, JobResult, ProcessRecord
from converter.records.run_folder import (
    forget_result,
    has_result,
    read_record,
    read_result,
    run_folders_under,
    write_result,
)


def record() -> JobResult:
    """A record with every nested part set, as a crashed-then-diagnosed isolated job has."""
    return JobResult(
        "m",
        "onnx",
        "auto",
        "cpu",
        status="crashed",
        artifact=ArtifactInfo("/r/model.onnx", 10, "ab"),
        failure=Failure("export", "E", "boom", "tb", category="crash", fix={"verified": "passed"}),
        warnings=[CapturedWarning("export", "UserWarning", "w", "f.py:1")],
        process=ProcessRecord(isolated=True, returncode=-11, signal="SIGSEGV", log_tail=["last"]),
        job_key="k",
        cached=True,
        cached_from="/r/earlier",
    )


def test_a_record_written_is_read_back_typed_and_forgotten(tmp_path: Path) -> None:
    assert (read_result(tmp_path), read_record(tmp_path), has_result(tmp_path)) == ({}, None, False)
    written = write_result(record(), tmp_path)
    assert written == record() and written.written
    assert (read_record(tmp_path), has_result(tmp_path)) == (record(), True)
    assert read_result(tmp_path) == record().to_dict() and "written" not in read_result(tmp_path)
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
    written = write_result(record(), tmp_path)
    assert (written.written, written.status) == (False, "crashed")
    assert not has_result(tmp_path)


@pytest.mark.parametrize(
    "edit, culprit",
    [
        (lambda d: d.update(speed=2.0), "the record has keys this version of converter does not define: speed"),
        (lambda d: d["failure"].update(why="x"), "failure has keys this version of converter does not define: why"),
    ],
)
def test_a_record_with_a_key_the_record_does_not_define_is_refused(tmp_path: Path, edit, culprit: str) -> None:
    data = record().to_dict()
    edit(data)
    (tmp_path / "result.json").write_text(json.dumps(data))
    with pytest.raises(ValueError) as raised:
        read_record(tmp_path)
    assert str(raised.value) == f"{tmp_path / 'result.json'}: {culprit}"


def test_run_folders_are_found_at_or_under_a_path_in_order(tmp_path: Path) -> None:
    for name in ("b", "a", "a/nested", "empty"):
        (tmp_path / name).mkdir(parents=True, exist_ok=True)
    for name in ("b", "a", "a/nested"):
        (tmp_path / name / "result.json").write_text(json.dumps(record().to_dict()))
    assert run_folders_under(tmp_path) == [tmp_path / "a", tmp_path / "a" / "nested", tmp_path / "b"]
    assert run_folders_under(tmp_path / "b") == [tmp_path / "b"], "a run folder is itself"
    assert run_folders_under(tmp_path / "empty") == []


def test_every_reader_gets_the_record_whole_through_the_typed_record(tmp_path: Path) -> None:
    (tmp_path / "result.json").write_text(
        json.dumps({"model": "m", "backend": "onnx", "strict": True, "device": "cpu"})
    )
    assert read_result(tmp_path) == JobResult("m", "onnx", True, "cpu").to_dict(), "every key, defaults filled in"
    (tmp_path / "result.json").write_text(json.dumps({"status": "ok"}))
    with pytest.raises(ValueError, match="result.json: .*missing 4 required positional arguments"):
        read_result(tmp_path)
