"""Diagnose a job that failed in this process, with the live objects a result.json cannot hold:
the exception's frames, eager's outputs, the exporter's notes. Writes the reports beside it
(draft_report.txt, repro/) and returns the failure with its diagnosis."""

from __future__ import annotations

import logging
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any, Dict, Optional

from converter.config.schema import ConverterConfig
from converter.diagnosis.categories import Diagnosis, FailureContext, diagnose
from converter.diagnosis.location import traceback_frames
from converter.errors import Failure
from converter.records.results import JobResult

log = logging.getLogger("converter")

DRAFT_REPORT_FILE = "draft_report.txt"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def diagnose_job(
    config: ConverterConfig,
    run_dir: Path,
    result: JobResult,
    cause: BaseException,
    state: Dict[str, Any],
) -> Failure:
    """The failure with its diagnosis, from the typed config: the rules read it and repro/ writes it."""
    failure: Failure = result.failure
    if failure.stage == "validate" and result.backend == "torch_export" and "reference" in state:
        _localize(result, state)
    request = state.get("request")
    context = FailureContext(
        stage=failure.stage,
        type=failure.type,
        message=str(cause),
        job=config,
        frames=traceback_frames(cause),
        validation=result.validation,
        warnings=[asdict(w) for w in result.warnings],
        eager_structure=lambda: _eager_structure(state),
        strict_failure=(request.notes.get("strict_failure") if request is not None else None),
        facts=_facts(state, cause),
    )
    diagnosis = diagnose(context)
    if failure.stage == "export" and result.backend == "torch_export" and request is not None:
        _draft_report(run_dir, request)
    state["validation"] = result.validation
    _write_repro(config, run_dir, failure, state)
    return failure.diagnosed(diagnosis.to_fields())


def diagnose_record(result: JobResult, config: ConverterConfig, log_tail: list) -> Dict[str, Any]:
    """Diagnosis fields for a failure the supervisor recorded (crashed, timeout, oom)."""
    failure = result.failure
    context = FailureContext(
        stage=failure.stage if failure else "start",
        type=failure.type if failure else "",
        message=failure.message if failure else "",
        job=config,
        status=result.status,
        log_tail=log_tail,
        process=asdict(result.process) if result.process else {},
    )
    return diagnose(context).to_fields()


def _facts(state: Dict[str, Any], cause: BaseException) -> Dict[str, Any]:
    from converter.diagnosis.input_checks import input_facts

    module, plan = state.get("module"), state.get("inputs")
    return input_facts(module, plan.specs, cause) if module is not None and plan is not None else {}


def _eager_structure(state: Dict[str, Any]) -> Optional[str]:
    from converter.tensors.compare import describe_structure

    reference = state.get("reference")
    if reference is not None and reference.outputs:
        return describe_structure(reference.outputs[0])
    module, cases, plan = state.get("module"), state.get("cases"), state.get("inputs")
    if module is None or not cases or plan is None:
        return None
    import torch

    from converter.tensors.calls import invoke

    with torch.no_grad():
        return describe_structure(invoke(module, plan.specs, cases[0].inputs))


def _draft_report(run_dir: Path, request: Any) -> None:
    """torch.export.draft_export's report: every guard and failure one export would hit in turn."""
    if not getattr(request.options, "draft_report", False):
        return
    import torch

    try:
        with torch.no_grad():
            program = torch.export.draft_export(
                request.module, request.example_inputs, dynamic_shapes=request.dynamic_shapes
            )
        text = _ANSI.sub("", str(program._report)) or "draft_export found no failure.\n"
    except Exception as exc:  # noqa: BLE001 (the report is extra evidence, never the verdict)
        text = f"draft_export itself failed: {type(exc).__name__}: {exc}\n"
    from converter.records.artifacts import write_text_atomically

    write_text_atomically(text, run_dir / DRAFT_REPORT_FILE)
    log.info("draft_export report: %s", run_dir / DRAFT_REPORT_FILE)


def _localize(result: JobResult, state: Dict[str, Any]) -> None:
    from converter.diagnosis.divergence import first_divergence

    validation = result.validation or {}
    failing = [i for i, c in enumerate(validation.get("cases") or []) if not c.get("passed") and not c.get("error")]
    if not failing or result.artifact is None:
        return
    found = first_divergence(
        state["module"],
        Path(result.artifact.path),
        state["cases"][failing[0]].inputs,
        validation["atol"],
        validation["rtol"],
        state["inputs"].specs,
    )
    if found:
        validation["first_divergence"] = found


def _write_repro(config: ConverterConfig, run_dir: Path, failure: Failure, state: Dict[str, Any]) -> None:
    from converter.diagnosis.repro import write_repro

    try:
        write_repro(config, run_dir, failure, state)
    except Exception as exc:  # noqa: BLE001
        log.warning("could not write repro/: %s: %s", type(exc).__name__, exc)


__all__ = ["DRAFT_REPORT_FILE", "Diagnosis", "diagnose_job", "diagnose_record"]
