"""converter.diagnosis.failure_report: a job the supervisor recorded (timeout, oom) is diagnosed from
its typed record and config, with the override that gives it room."""

from __future__ import annotations

from converter.config.job_spec import JobSpec
from converter.diagnosis.failure_report import diagnose_record
from converter.errors import Failure
from converter.records.results import JobResult, ProcessRecord
from tests.test_job_spec import _job


def record(status: str, **process) -> JobResult:
    failure = Failure("export", f"converter.sweep.isolation.{status}", "killed", "")
    return JobResult("m", "onnx", True, "cpu", status=status, failure=failure, process=ProcessRecord(True, **process))


def test_a_timeout_and_an_oom_are_diagnosed_with_twice_the_limit() -> None:
    job = _job()
    job["job"] = {**job["job"], "timeout_s": 30, "max_memory_mb": 2000}
    config = JobSpec.of(job).config
    timeout = diagnose_record(record("timeout", seconds=30.5), config, ["stage export"])
    assert (timeout["category"], timeout["fix_overrides"]) == ("timeout", ["job.timeout_s=60"])
    assert timeout["hint"].startswith("the job ran past job.timeout_s=30 s in stage 'export' and was killed.")
    oom = diagnose_record(record("oom", peak_memory_mb=2100.5), config, [])
    assert (oom["category"], oom["fix_overrides"]) == ("oom", ["job.max_memory_mb=4000"])
    assert "held 2100.5 MiB, over job.max_memory_mb=2000" in oom["hint"]
