"""The record of one job, written last as result.json."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Dict, List, Mapping, Optional

from converter.errors import Failure
from converter.records.artifacts import ArtifactInfo


class Status(StrEnum):
    """How a job ended. `failed`: a stage raised (kept whole); the rest are the supervisor's
    verdicts on a child that left no result of its own."""

    OK = "ok"
    FAILED = "failed"
    CRASHED = "crashed"  # killed by a signal, or exited without writing result.json
    TIMEOUT = "timeout"  # ran past job.timeout_s
    OOM = "oom"  # resident memory of the job's processes passed job.max_memory_mb


# How reports order and count statuses: ok first, then a stage's failure, then the supervisor's verdicts.
STATUS_ORDER = tuple(status.value for status in Status)


@dataclass(frozen=True)
class CapturedWarning:
    stage: str
    category: str
    message: str
    location: str


@dataclass
class JobResult:
    model: str
    backend: str
    # true, false or "auto" as configured; after an auto export, the mode that produced the artifact.
    strict: Any
    device: str
    variant: Optional[str] = None
    # export.strict=auto: {"requested": "auto", "strict": bool, "strict_failure": str}.
    strict_mode: Optional[Dict[str, Any]] = None
    # What the exporter noted beyond the artifact (AOTInductor: compile_s, inductor_configs).
    export_info: Optional[Dict[str, Any]] = None
    status: str = Status.FAILED.value
    # How each input reached forward: 'positional[i]' or 'keyword' (bound by name, calls.bind_by_name).
    input_passing: Optional[Dict[str, str]] = None
    stages: Dict[str, float] = field(default_factory=dict)
    artifact: Optional[ArtifactInfo] = None
    validation: Optional[Dict[str, Any]] = None
    # converter.exporters.graph_facts of the artifact: what predicts whether another runtime takes it.
    graph: Optional[Dict[str, Any]] = None
    # Headline figures; the whole measurement is in bench.json.
    benchmark: Optional[Dict[str, Any]] = None
    failure: Optional[Failure] = None
    warnings: List[CapturedWarning] = field(default_factory=list)
    versions: Dict[str, str] = field(default_factory=dict)
    config: Dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == Status.OK

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    def headline(self) -> str:
        where = f"{self.model}/{self.backend}"
        if self.ok:
            return f"{where}: ok"
        return f"{where}: {self.status} ({self.failure.summary() if self.failure else 'no detail'})"


def worst_error(result: Mapping[str, Any], figure: str = "max_abs_error") -> Optional[float]:
    """The largest `figure` over a result.json's validated outputs (None before validation)."""
    outputs = (result.get("validation") or {}).get("outputs") or {}
    return max((o[figure] for o in outputs.values()), default=None)


def failure_reason(result: Mapping[str, Any]) -> str:
    """'stage: ExceptionClass: first line of the message' of a result.json's failure: Failure.summary,
    the one place that format is written."""
    failure = result.get("failure") or {}
    return Failure(
        stage=failure.get("stage") or "?",
        type=failure.get("type") or "?",
        message=failure.get("message") or "",
        traceback="",
    ).summary(width=None)


def not_validated(result: Mapping[str, Any]) -> Optional[str]:
    """Why an ok job's artifact was not validated (Core ML off macOS), or None: never a pass."""
    return (result.get("validation") or {}).get("skipped")


def headline(result: Mapping[str, Any]) -> str:
    where = f"{result['model']}/{result['backend']}"
    cached = " (cached)" if result.get("cached") else ""
    if result["status"] == Status.OK:
        return f"{where}: ok{cached}{not_validated_note(result)}"
    record = result.get("failure") or {}
    text = (
        f"{where}: {result['status']}{cached} [{record.get('category') or 'unknown'}] ({failure_reason(result)[:300]})"
    )
    from converter.records.fix_record import fix_line

    line = fix_line(record)
    if line:
        text += f"\n  {line}"
    return text


def not_validated_note(result: Mapping[str, Any]) -> str:
    """' (not validated: why)' for an ok job whose artifact could not run here (Core ML off macOS)."""
    skipped = not_validated(result)
    return f" (not validated: {skipped})" if skipped else ""
