"""`failure.fix` in result.json: whether a diagnosed fix was tried and what came of it, and how
every report shows it (converter.diagnosis.fix_verification runs the attempts)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

PASSED, FAILED, NOT_TRIED = "passed", "failed", "not_tried"


@dataclass(frozen=True)
class FixAttempt:
    overrides: List[str]
    run_dir: Optional[str]
    status: str
    category: Optional[str] = None
    message: str = ""


@dataclass
class FixRecord:
    """`failure.fix` in result.json."""

    verified: str
    reason: str = ""
    # The command line that converts the model (verified passed only).
    command: Optional[str] = None
    # Every override the last attempt applied on top of the job's own.
    overrides: List[str] = field(default_factory=list)
    run_dir: Optional[str] = None
    category: Optional[str] = None
    attempts: List[FixAttempt] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


def fix_parts(failure: Mapping[str, Any]) -> Tuple[str, str]:
    """(label, what to paste) for a failure's fix: a verified command apart from an unverified
    suggestion, which is never presented as the solution; ('', '') when there is none."""
    overrides = " ".join(failure.get("fix_overrides") or [])
    fix = failure.get("fix") or {}
    verified = fix.get("verified")
    if verified == PASSED:
        return "fix (verified, converts)", fix["command"]
    if not overrides:
        return "", ""
    if verified == FAILED:
        return f"suggested fix, tried and failed ({fix.get('reason')})", overrides
    why = f": {fix['reason']}" if verified == NOT_TRIED and fix.get("reason") else ""
    return f"suggested fix, not verified{why}", overrides


def fix_line(failure: Mapping[str, Any]) -> str:
    """How every plain-text report shows a failure's fix (see fix_parts)."""
    label, paste = fix_parts(failure)
    return f"{label}: {paste}" if paste else ""
