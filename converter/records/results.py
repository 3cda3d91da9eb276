"""The record of one job, written last as result.json."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Dict, List, Mapping, Optional

from converter.errors import Failure, reject_unknown_keys
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
class ProcessRecord:
    """How the job's process ran, as the launching process saw it."""

    isolated: bool
    returncode: Optional[int] = None
    signal: Optional[str] = None
    seconds: Optional[float] = None
    peak_memory_mb: Optional[float] = None
    log_tail: Optional[List[str]] = None  # the end of convert.log, for a job that left no record of its own
    slurm_state: Optional[str] = None  # the Slurm job's state, for a job Slurm ended


@dataclass
class JobResult:
    """result.json: every key either process writes. The child (pipeline.run_job) fills the stages'
    part; the launching process (sweep.task) adds how the job ran and whether it came from the cache."""

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
    # The job's resolved config, values that came from the environment redacted (config.redact).
    config: Dict[str, Any] = field(default_factory=dict)
    # Added by the launching process.
    process: Optional[ProcessRecord] = None
    job_key: Optional[str] = None  # the cache key (sweep.cache.key_of)
    cached: bool = False
    cached_from: Optional[str] = None  # the run folder a cached result was reused from
    cache_rejected: Optional[str] = None  # why a cache entry that existed was not trusted
    # In memory only: false when result.json could not be written (a full disk).
    written: bool = True

    @property
    def ok(self) -> bool:
        return self.status == Status.OK

    def to_dict(self) -> Dict[str, Any]:
        """result.json's content."""
        data = asdict(self)
        del data["written"]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobResult:
        """The record result.json holds, typed; a key it does not define is an error, not dropped."""
        reject_unknown_keys(cls, dict(data), "the record")
        values = dict(data)
        values["artifact"] = ArtifactInfo(**data["artifact"]) if data.get("artifact") else None
        values["failure"] = Failure.from_dict(data["failure"]) if data.get("failure") else None
        values["warnings"] = [CapturedWarning(**w) for w in data.get("warnings") or []]
        values["process"] = ProcessRecord(**data["process"]) if data.get("process") else None
        return cls(**values)

    def headline(self) -> str:
        return headline(self.to_dict())


# A target's precision: the export option (OpenVINO's `precision`), also noted in export_info.
PRECISION_NOTE = "precision"
FULL_PRECISION = "f32"


def target_label(result: Mapping[str, Any]) -> str:
    """The backend, with a reduced precision named ("openvino bf16"): the same backend at two
    precisions is two targets, with two tolerances, in every table and in the fastest-target choice.
    Read from the job's config, so a job that failed before exporting is labelled alike."""
    options = ((result.get("config") or {}).get("export") or {}).get("options") or {}
    precision = options.get(PRECISION_NOTE) or (result.get("export_info") or {}).get(PRECISION_NOTE)
    return result["backend"] + (f" {precision}" if precision and precision != FULL_PRECISION else "")


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
