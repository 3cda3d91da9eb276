"""A fix is a claim: after a job fails with `fix_overrides`, converter runs the same job with them
applied, as a follow-up job (isolated, cached and tracked like any job), and follows each
follow-up's own fix on top, up to `diagnosis.max_fix_attempts`, so a chain such as a torchvision
detector's (the script, then the list of images) ends with one command that works.

The failed job's result.json records `failure.fix`: `verified` (`passed`, `failed` with the last
follow-up's category, or `not_tried` and why), each attempt's overrides, run folder and outcome,
and the whole working command line. A follow-up's run folder sits beside the failed one
(`fix1-<failed folder>`), so it never writes into the failed job's files, and a sweep's summary
and exit code count only the jobs the sweep launched: a verified fix is advice, not a pass.
"""

from __future__ import annotations

import logging
import shlex
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from converter.errors import ConfigError, Failure, first_line
from converter.records.fix_record import FAILED, NOT_TRIED, PASSED, FixAttempt, FixRecord
from converter.records.results import JobResult

log = logging.getLogger("converter")

FOLLOW_UP_PREFIX = "fix"


def override_key(override: str) -> str:
    """'model.inputs.x.count' of '+model.inputs.x.count=3', '~model.x', '++a.b=1'."""
    return override.lstrip("~+").split("=", 1)[0].strip()


def merged(base: Sequence[str], fixes: Sequence[str]) -> List[str]:
    """The job's overrides with the fixes on top: a fix replaces a base override of the same key, and
    deleting a key (`~model.dynamic_shapes.x`) drops the base overrides under it."""
    result = list(base)
    for fix in fixes:
        key = override_key(fix)
        result = [o for o in result if override_key(o) != key and not override_key(o).startswith(key + ".")]
        result.append(fix)
    return result


def command_line(overrides: Sequence[str], config_dir: Optional[str] = None) -> str:
    head = ["python", "-m", "converter", *(["--config-dir", config_dir] if config_dir else [])]
    return " ".join(shlex.quote(part) for part in [*head, *overrides])


def follow_up_dir(run_dir: Path, attempt: int) -> Path:
    return run_dir.parent / f"{FOLLOW_UP_PREFIX}{attempt}-{run_dir.name}"


def is_follow_up(run_dir: Path) -> bool:
    name = run_dir.name
    return name.startswith(FOLLOW_UP_PREFIX) and name[len(FOLLOW_UP_PREFIX) : len(FOLLOW_UP_PREFIX) + 1].isdigit()


# compose(overrides) -> the follow-up's resolved job; run(job, run_dir) -> its record.
Compose = Callable[[List[str]], Dict[str, Any]]
Run = Callable[[Dict[str, Any], Path], JobResult]


def verify_fix(
    failed: JobResult,
    run_dir: Path,
    base_overrides: Sequence[str],
    compose: Compose,
    run: Run,
    max_attempts: int,
    config_dir: Optional[str] = None,
) -> FixRecord:
    """Run the failed job's fix, and each follow-up's fix on top, until one passes, one fails with
    no fix of its own, one makes no progress (the same category and message), or the attempts run out."""
    fixes = list(failed.failure.fix_overrides) if failed.failure else []
    if not fixes:
        return FixRecord(NOT_TRIED, "the diagnosis has no override to try")
    seen = {_signature(failed.failure)}
    applied: List[str] = []
    attempts: List[FixAttempt] = []
    for number in range(1, max_attempts + 1):
        applied = merged(applied, fixes)
        overrides = merged(base_overrides, applied)
        try:
            job = compose(overrides)
        except ConfigError as exc:
            attempts.append(FixAttempt(list(applied), None, "config_error", "config", exc.paragraph()))
            return FixRecord(
                FAILED, f"the fix does not compose: {exc.paragraph()}", None, applied, None, "config", attempts
            )
        target = follow_up_dir(run_dir, number)
        result = run(job, target)
        follow = result.failure
        category, message = _signature(follow)
        attempts.append(FixAttempt(list(applied), str(target), result.status, category, message))
        if result.ok:
            return FixRecord(PASSED, "", command_line(overrides, config_dir), applied, str(target), None, attempts)
        signature = (category, message)
        fixes = list(follow.fix_overrides) if follow else []
        if signature in seen:
            reason = f"no progress: attempt {number} failed as before ({signature[0]})"
            return FixRecord(FAILED, reason, None, applied, str(target), signature[0], attempts)
        seen.add(signature)
        if not fixes:
            reason = f"attempt {number} failed [{signature[0]}] with no fix of its own"
            return FixRecord(FAILED, reason, None, applied, str(target), signature[0], attempts)
    last = attempts[-1]
    reason = f"still failing [{last.category}] after diagnosis.max_fix_attempts={max_attempts}"
    return FixRecord(FAILED, reason, None, applied, last.run_dir, last.category, attempts)


def _signature(failure: Optional[Failure]) -> Tuple[Optional[str], str]:
    """(category, first line of the message): two failures alike in both are the same failure."""
    return (failure.category, first_line(failure.message)) if failure else (None, "")
