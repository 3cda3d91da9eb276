"""One job: load -> wrap -> patch -> export -> save -> reload -> validate, from a resolved config.

`run_job` needs nothing but the resolved config (a plain dict, as config.yaml holds it) and a
directory, so a job can run in this process, a child process or on a cluster node alike. The
dict becomes the schema's dataclasses once, and its inputs an `InputPlan` once; each stage
takes the typed section it needs. A stage that raises ends the job as `failed` with the
exception kept whole.
"""

from __future__ import annotations

import logging
import time
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional

from converter.config.dotted_paths import top_package
from converter.config.schema import ConverterConfig, job_config
from converter.errors import Failure, StageError, ValidationMismatch, first_line
from converter.exporters import build_options, get_exporter
from converter.exporters.base import ExportRequest
from converter.exporters.binding import load_verified
from converter.job.context import running_in
from converter.job.environment import versions
from converter.job.load import load_model
from converter.job.patch import apply_patches
from converter.job.precision import measure as measure_precision
from converter.job.precision import widened
from converter.job.validate import effective_tolerance, run_reference, vacuous_reason, validate_artifact
from converter.records import stage as stage_file
from converter.records.artifacts import save_atomically, write_json_atomically
from converter.records.results import CapturedWarning, JobResult, Status
from converter.records.run_folder import BENCH_CHART, BENCH_FILE, CONFIG_FILE, GRAPH_FILE, OPERATORS_FILE, write_result
from converter.tensors.calls import passing
from converter.tensors.dims import to_torch_dynamic_shapes
from converter.tensors.inputs import InputPlan
from converter.tensors.library_types import types_registered

log = logging.getLogger("converter")

ARTIFACT_STEM = "model"


class _Stages:
    """Times each stage and records the warnings it raised (TracerWarnings included)."""

    def __init__(self, result: JobResult, run_dir: Path) -> None:
        self.result = result
        self.run_dir = run_dir

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        log.info("stage %s", name)
        stage_file.announce(self.run_dir, name, self.result.stages)
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                yield
            except Exception as exc:
                raise StageError(name, exc) from exc
            finally:
                self.result.stages[name] = round(time.perf_counter() - start, 4)
                self._record(name, caught)

    def _record(self, stage: str, caught: List[warnings.WarningMessage]) -> None:
        seen = {(w.category, w.message) for w in self.result.warnings}
        for item in caught:
            entry = CapturedWarning(
                stage, item.category.__name__, str(item.message)[:1000], f"{item.filename}:{item.lineno}"
            )
            if (entry.category, entry.message) not in seen:
                seen.add((entry.category, entry.message))
                self.result.warnings.append(entry)
                log.warning("%s: %s: %s", stage, entry.category, first_line(entry.message))


def library_of(library: str | None, loader_target: str) -> str | None:
    """The distribution whose version decides the model's code (model.library, else the loader's package)."""
    if library:
        return library
    package = top_package(loader_target)
    return None if package == "registry" else package


def new_result(job: Mapping[str, Any]) -> JobResult:
    """The record of a job not yet run; the job's resolved dict is kept whole as its config.
    Read from the dict, so the supervisor can record a job whose child never started."""
    model, export = job["model"], job["export"]
    return JobResult(
        model=model["name"],
        backend=export["backend"],
        strict=export["strict"],
        device=job["device"],
        variant=model.get("variant"),
        config=dict(job),
    )


def run_job(job: Mapping[str, Any], run_dir: Path, config: Optional[ConverterConfig] = None) -> JobResult:
    """Run one job and write its files into `run_dir`, result.json last. A stage that raises
    (an export error, a validation mismatch, a config problem found late) is a result, not
    an exception, so one bad job never stops a sweep. `config`: the job typed already by this
    process (JobSpec), else typed here."""
    import torch

    run_dir.mkdir(parents=True, exist_ok=True)
    config = config if config is not None else job_config(job)
    result = new_result(job)
    library = library_of(config.model.library, config.model.loader["_target_"])
    result.versions = versions(library)
    _write_config(job, run_dir / CONFIG_FILE)
    stages = _Stages(result, run_dir)
    state: Dict[str, Any] = {}
    try:
        with torch.random.fork_rng(devices=[]), running_in(run_dir), types_registered([library]):
            torch.manual_seed(config.seed)
            _run_stages(config, run_dir, result, stages, state)
        result.status = Status.OK.value
    except StageError as exc:
        result.status = Status.FAILED.value
        result.failure = Failure.from_exception(exc.stage, exc.cause)
        with running_in(run_dir), types_registered([library]):
            explain_failure(config, run_dir, result, exc.cause, state)
    write_result(result, run_dir)
    stage_file.clear(run_dir)
    log.info(result.headline())
    return result


def explain_failure(
    config: ConverterConfig,
    run_dir: Path,
    result: JobResult,
    cause: BaseException,
    state: Dict[str, Any],
) -> None:
    """Add the diagnosis to the failure, and the reports that need the live objects (draft
    export, divergence, reproducer). Never raises: a diagnosis that fails leaves the failure whole.
    The rules read the typed config, and repro/ writes it."""
    from converter.diagnosis.failure_report import diagnose_job

    try:
        result.failure = diagnose_job(config, run_dir, result, cause, state)
    except Exception as exc:  # noqa: BLE001
        log.warning("diagnosing the failure failed (%s: %s); the failure is kept whole", type(exc).__name__, exc)
        return
    log.error("%s", result.failure.category + ": " + result.failure.hint)
    if result.failure.fix_overrides:
        log.error("fix: %s", " ".join(result.failure.fix_overrides))


def _run_stages(
    config: ConverterConfig, run_dir: Path, result: JobResult, stages: _Stages, state: Dict[str, Any]
) -> None:
    model, validate, device = config.model, config.validate, config.device
    exporter = get_exporter(config.export.backend)
    options = build_options(exporter, config.export.options)

    with stages.stage("load"), apply_patches(model.patches):
        module = state["module"] = load_model(model, device)
        plan = state["inputs"] = InputPlan.of(model).bound_to(module)
        result.input_passing = passing(plan.specs)
        # Without validation only the example is needed, to export with.
        cases = (
            plan.validation_cases(validate, config.seed, device)
            if validate.enabled
            else [plan.example_case(config.seed, device)]
        )
        state["cases"] = cases

    if validate.enabled:
        with stages.stage("reference"), apply_patches(model.patches if validate.reference_patched else []):
            reference = state["reference"] = run_reference(_caller(module, plan), cases)

    request = _export_request(config, plan, module, cases[0].inputs, options)
    state["request"] = request
    with stages.stage("export"), apply_patches(model.patches):
        artifact = exporter.export(request)
    _record_export_notes(result, request)
    narrowed = request.notes.get("dims_supported")
    if narrowed and validate.enabled:  # validate at the sizes the target kept, never silently fewer
        plan = state["inputs"] = plan.narrowed(narrowed)
        cases = state["cases"] = plan.validation_cases(validate, config.seed, device)
        with stages.stage("reference"), apply_patches(model.patches if validate.reference_patched else []):
            reference = state["reference"] = run_reference(_caller(module, plan), cases)

    suffix = exporter.suffix_for(options) if hasattr(exporter, "suffix_for") else exporter.suffix
    path = run_dir / f"{ARTIFACT_STEM}{suffix}"
    with stages.stage("save"):
        result.artifact = save_atomically(lambda staged: exporter.save(artifact, staged), path)
        (run_dir / GRAPH_FILE).write_text(exporter.graph_code(artifact))
        (run_dir / OPERATORS_FILE).write_text("\n".join(exporter.operators(artifact)) + "\n")
        result.graph = exporter.facts(artifact)

    reloaded = None
    unavailable = exporter.runtime_unavailable() if hasattr(exporter, "runtime_unavailable") else None
    if unavailable:  # the conversion is the result; never call a check that did not run a pass
        log.warning("validation and benchmark skipped: %s", unavailable)
        result.validation = {"passed": None, "skipped": unavailable} if validate.enabled else None
        return
    threads = config.benchmark.threads
    if validate.enabled:
        tolerance = effective_tolerance(model.tolerance, validate)
        precision_reference = None
        dtype = exporter.reduced_precision(options) if hasattr(exporter, "reduced_precision") else None
        if dtype is not None:  # the target computes at a lower precision: eager at it sets the atol
            with stages.stage("reference"), apply_patches(model.patches if validate.reference_patched else []):
                precision_reference = measure_precision(_caller(module, plan), cases, reference.outputs, dtype, device)
            tolerance = widened(tolerance, precision_reference, f"export.options.precision={options.precision}")
        with stages.stage("validate"):
            reloaded = load_verified(exporter, result.artifact, device, threads, plan.specs)
            report = validate_artifact(
                _caller(reloaded, plan), cases, reference.outputs, tolerance.atol, tolerance.rtol
            )
            result.validation = {
                **report.to_dict(),
                "tolerance_source": tolerance.source,
                "eager_mutates_inputs": reference.mutated_inputs,
            }
            if precision_reference is not None:
                result.validation["precision_reference"] = precision_reference.to_dict()
            if not report.passed:
                raise ValidationMismatch(f"artifact differs from eager: {report.worst}")
            if reference.constant:  # the artifact matched, but so would any artifact answering the same constant
                result.validation.update(passed=None, skipped=vacuous_reason(reference))
                log.warning("not validated: %s", result.validation["skipped"])

    if config.benchmark.enabled:
        with stages.stage("benchmark"):
            if reloaded is None:
                reloaded = load_verified(exporter, result.artifact, device, threads, plan.specs)
            result.benchmark = _benchmark(config, plan, module, reloaded, path, run_dir, result)


def _export_request(
    config: ConverterConfig, plan: InputPlan, module: Any, example: Dict[str, Any], options: Any
) -> ExportRequest:
    from converter.tensors.calls import by_parameter, constant_names, split

    dynamic = plan.dynamic if config.export.dynamic else {}
    positional = to_torch_dynamic_shapes(list(example), dynamic, plan.dims)
    if positional is not None:  # a list of tensors takes its Dims on every element
        positional = tuple(
            [spec] * len(value) if spec is not None and isinstance(value, list) else spec
            for spec, value in zip(positional, example.values(), strict=True)
        )
    args, kwargs = split(plan.specs, example)
    shapes: Any = positional
    if kwargs and positional is not None:  # torch.export matches a call with keywords by parameter name
        shapes = by_parameter(module, plan.specs, dict(zip(example, positional, strict=True)))
    return ExportRequest(
        module=module,
        example_inputs=args,
        example_kwargs=kwargs,
        constant_inputs=tuple(constant_names(plan.specs)),
        dynamic_shapes=shapes,
        strict=config.export.strict,
        options=options,
        input_names=tuple(example),
        traced_submodules=tuple(config.model.traced_submodules),
    )


def _caller(fn: Any, plan: InputPlan) -> Any:
    """Named inputs -> fn's output, called as the model's inputs say (keywords, constants)."""
    from converter.tensors.calls import invoke

    return lambda inputs: invoke(fn, plan.specs, inputs)


def _record_export_notes(result: JobResult, request: ExportRequest) -> None:
    """export.strict=auto: the mode that produced the artifact, and why strict did not; and
    what else the exporter noted (AOTInductor's compile seconds and inductor configs)."""
    notes = dict(request.notes)
    if "strict" in notes:
        result.strict = bool(notes["strict"])
        result.strict_mode = {
            "requested": request.strict,
            **{k: notes.pop(k) for k in ("strict", "strict_failure") if k in notes},
        }
    if notes:
        result.export_info = notes


def _benchmark(
    config: ConverterConfig, plan: InputPlan, module: Any, artifact: Any, path: Path, run_dir: Path, result: JobResult
) -> Dict[str, Any]:
    """bench.json, bench.svg and a table in the log; result.json keeps the headline figures."""
    from converter.benchmark.record import render_table, write_chart
    from converter.benchmark.run import benchmark_artifact

    report = benchmark_artifact(
        module=module,
        artifact=artifact,
        inputs=plan,
        bench=config.benchmark,
        device=config.device,
        seed=config.seed,
        backend=config.export.backend,
        artifact_path=path,
        artifact_sha256=result.artifact.sha256,
        library=library_of(config.model.library, config.model.loader["_target_"]),
    )
    report.update(artifact_size_bytes=result.artifact.size_bytes, export_s=result.stages.get("export"))
    write_json_atomically(report, run_dir / BENCH_FILE)
    title = f"{result.model}/{result.backend} vs eager"
    write_chart(report, run_dir / BENCH_CHART, title)
    log.info("benchmark\n%s", render_table(report, title))
    first = report["cases"][0]
    return {
        "file": str(run_dir / BENCH_FILE),
        "speedup": first["speedup"]["ratio"],
        "artifact_p50_s": first["latency_s"]["artifact"]["p50"],
        "eager_p50_s": first["latency_s"]["eager"]["p50"],
        "noisy": any(first["noisy"].values()),
    }


def _write_config(job: Mapping[str, Any], path: Path) -> None:
    from omegaconf import OmegaConf

    path.write_text(OmegaConf.to_yaml(OmegaConf.create(dict(job))))
