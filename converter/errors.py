"""Error types that carry the culprit and the fix, so the CLI can print one paragraph."""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Optional

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def reject_unknown_keys(kind: type, data: Dict[str, Any], where: str) -> None:
    from dataclasses import fields

    unknown = sorted(set(data) - {f.name for f in fields(kind)})
    if unknown:
        raise ValueError(f"{where} has keys this version of converter does not define: {', '.join(unknown)}")


def first_line(text: object) -> str:
    """The first non-empty line of a message ('' for an empty one), terminal colour codes removed
    (torch.onnx colours its errors): what a one-line reason shows."""
    lines = [line.strip() for line in _ANSI.sub("", str(text)).strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


def one_line(exc: BaseException) -> str:
    """'ExceptionClass: first line of its message', the short form every error report uses."""
    return f"{type(exc).__name__}: {first_line(exc)}"


class ConverterError(Exception):
    """Base of every error converter raises on purpose."""


class ConfigError(ConverterError):
    """The configuration is wrong: caught before any job starts, exit code 2."""

    def __init__(self, key: str, problem: str, fix: str) -> None:
        self.key = key
        self.problem = problem
        self.fix = fix
        super().__init__(self.paragraph())

    def paragraph(self) -> str:
        where = f" at '{self.key}'" if self.key else ""
        return f"Config error{where}: {self.problem.rstrip('.')}. Fix: {self.fix}"


class ConfigErrors(ConfigError):
    """Several independent config errors, reported at once (one paragraph each) so that a user
    fixes them in one go; its key, problem and fix are the first one's."""

    def __init__(self, errors: List[ConfigError]) -> None:
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__(first.key, first.problem, first.fix)

    def paragraph(self) -> str:
        return "\n".join(error.paragraph() for error in self.errors)


def raise_all(errors: List[ConfigError]) -> None:
    """Raise the one error, or all of them together; nothing when there are none."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ConfigErrors(errors)


class StageError(ConverterError):
    """A stage of a job raised; keeps the original exception whole for result.json."""

    def __init__(self, stage: str, cause: BaseException) -> None:
        self.stage = stage
        self.cause = cause
        super().__init__(f"{stage} failed: {type(cause).__name__}: {cause}")


class ValidationMismatch(ConverterError):
    """The reloaded artifact disagrees with eager PyTorch beyond tolerance."""


class PrecisionReferenceError(ConverterError):
    """Eager PyTorch raised or overflowed at the precision a target computes at, so no tolerance can
    judge the target there."""


@dataclass(frozen=True)
class Failure:
    """A failure kept whole: where it happened, what raised, and a short traceback; with its
    diagnosis (converter.diagnosis): category, location in the model's code, hint, fix."""

    stage: str
    type: str
    message: str
    traceback: str
    category: str = "unknown"
    location: Optional[Dict[str, Any]] = None
    hint: str = ""
    fix_overrides: List[str] = field(default_factory=list)
    # The fix tried as follow-up jobs (diagnosis.fix_verification's FixRecord), added by the launcher.
    fix: Optional[Dict[str, Any]] = None

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> Failure:
        """A failure as result.json holds it; a key the record does not know is an error, not dropped."""
        reject_unknown_keys(cls, data, "failure")
        return cls(**{"traceback": "", **data})

    @classmethod
    def from_exception(cls, stage: str, exc: BaseException, frames: int = 8) -> Failure:
        lines = traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-frames)
        return cls(
            stage=stage,
            type=f"{type(exc).__module__}.{type(exc).__qualname__}",
            message=str(exc)[:4000],
            traceback="".join(lines)[-6000:],
        )

    def diagnosed(self, fields: Dict[str, Any]) -> Failure:
        return replace(self, **fields)

    def summary(self, width: Optional[int] = 300) -> str:
        text = f"{self.stage}: {self.type.rsplit('.', 1)[-1]}: {first_line(self.message)}"
        return text if width is None else text[:width]
