"""Every failed job is explained: category, location, hint and the overrides that fix it.

Each seed failure is brought back by overriding its fix away; the diagnosis must name the
right category, and the same command plus `failure.fix_overrides` must then pass. Cases the
write-ups in ../shared/seeds do not show (a custom operator, a write through `.data`, a bounded Dim, a planted
numeric drift) use the small models in tests/broken.py. Jobs run in this process (run_job),
the way the isolated child runs them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from converter.config.schema import ConverterConfig, ExportConfig, ModelConfig, TrackingConfig
from converter.records.results import JobResult
from tests.checks import run_in_process

QUICK = ["benchmark=off", "tracking=off", "security.allowed_prefixes=[tests]", "validate.num_random_inputs=0"]


def run(tmp_path: Path, name: str, *overrides: str) -> JobResult:
    return run_in_process(tmp_path / name, *overrides, *QUICK)


def check_fixed(tmp_path: Path, failed: JobResult, overrides: List[str]) -> JobResult:
    """The same command with the diagnosis's fix_overrides appended passes."""
    assert failed.failure.fix_overrides, "a fix was expected"
    fixed = run(tmp_path, "fixed", *overrides, *failed.failure.fix_overrides)
    assert fixed.ok, (failed.failure.fix_overrides, fixed.failure)
    return fixed


def toy(target: str, *more: str, dynamic: bool = False) -> List[str]:
    """A tests/broken.py model in classification's config; dynamic keeps its Dim batch in [1, 16]."""
    static = [] if dynamic else ["~model.dynamic_shapes.x"]
    return [
        "+model=classification",
        "model.name=toy",
        *static,
        "model.inputs.x.shape=[2,8]",
        f"model.loader._target_={target}",
        *more,
    ]


# seed failures, each brought back by overriding its fix away ------------------------------------

SEEDS = {
    # (overrides, category, fix_overrides, location file suffix or None)
    "input_confirm traced": (
        ["+tiny=input_confirm", "export=torchscript_trace"],
        "trace_divergence",
        ["export=torchscript_script"],
        "registry/toys.py",
    ),
    "mvit static": (["+tiny=mvit", "export.dynamic=false"], "static_shape", ["export.dynamic=true"], None),
    "yolo11_pose strict": (
        ["+tiny=yolo11_pose", "export.strict=true"],
        "strict_tracing",
        ["export.strict=false"],
        None,
    ),
    "deeplab traced without its wrapper": (
        ["+tiny=deeplabv3", "export=torchscript_trace", "model.wrapper=null"],
        "unsupported_output",
        ["model.wrapper={_target_:registry.common.SelectOutput,key:out}"],
        None,
    ),
    "sam predictor scripted without patches": (
        ["+tiny=sam_predictor", "export=torchscript_script", "model.patches=[]"],
        "script_unsupported",
        ["export=torch_export"],
        "segment_anything/modeling/image_encoder.py",
    ),
    "a bound method (sam2 seed)": (
        toy("tests.broken.bound_forward", "model.inputs.x.shape=[2,320]"),
        "not_a_module",
        ["model.wrapper={_target_:registry.common.CallableAsModule}"],
        None,
    ),
}

# (stage, words of the message) where a seed's own error is worth pinning down
SEED_MESSAGES = {
    "mvit static": ("validate", "x.size()[0] == 2"),  # torch 2.14 words MViT's static batch as a guard
    "deeplab traced without its wrapper": ("export", "dict"),  # tracing refuses the dict output
}


# YOLO11-pose strict (45 s) is slow: test_strict_tracing_is_ultralytics_dynamo_failure below
# classifies its exact error by default.
@pytest.mark.parametrize(
    "case", [pytest.param(c, marks=pytest.mark.slow) if c == "yolo11_pose strict" else c for c in SEEDS]
)
def test_a_seed_failure_is_diagnosed_and_its_fix_passes(case: str, tmp_path: Path) -> None:
    overrides, category, fix, location = SEEDS[case]
    failed = run(tmp_path, "failed", *overrides)
    assert failed.status == "failed"
    assert (failed.failure.category, failed.failure.fix_overrides) == (category, fix), failed.failure.hint
    assert len(failed.failure.hint) > 80 and "\n" not in failed.failure.hint
    if category == "strict_tracing":  # ultralytics YOLO11-pose's own error
        assert failed.failure.type.endswith("PendingUnbackedSymbolNotFound")
    if location:
        assert failed.failure.location["file"].endswith(location)
    if case in SEED_MESSAGES:
        stage, words = SEED_MESSAGES[case]
        assert failed.failure.stage == stage and words in failed.failure.message, failed.failure.message
    check_fixed(tmp_path, failed, overrides)


def test_the_input_confirm_trace_divergence_names_the_line_and_the_failing_cases(tmp_path: Path) -> None:
    failed = run(tmp_path, "failed", "+tiny=input_confirm", "export=torchscript_trace")
    assert failed.failure.location == {
        "file": str(Path("registry/toys.py").resolve()),
        "line": 25,
        "source": "if x.sum() > 0:",
    }
    assert "edge[low]" in failed.failure.hint and "TracerWarning" not in failed.failure.category


# cases the write-ups in ../shared/seeds do not show ---------------------------------------------------------------------


def test_a_data_dependent_branch_is_located_with_a_draft_export_report(tmp_path: Path) -> None:
    failed = run(tmp_path, "failed", "+tiny=input_confirm", "export=torch_export")
    failure = failed.failure
    assert (failure.category, failure.fix_overrides) == ("data_dependent", ["export=torchscript_script"])
    assert (Path(failure.location["file"]).name, failure.location["line"]) == ("toys.py", 25)
    assert "torch.cond" in failure.hint and "torch._check" in failure.hint
    report = (tmp_path / "failed" / "draft_report.txt").read_text()
    assert "Data dependent error" in report and "if x.sum() > 0:" in report, report
    check_fixed(tmp_path, failed, ["+tiny=input_confirm", "export=torch_export"])


def test_draft_report_can_be_turned_off(tmp_path: Path) -> None:
    failed = run(tmp_path, "failed", "+tiny=input_confirm", "export.options.draft_report=false")
    assert failed.failure.category == "data_dependent"
    assert not (tmp_path / "failed" / "draft_report.txt").exists()


def test_an_operator_without_a_fake_kernel_is_a_missing_op(tmp_path: Path) -> None:
    overrides = toy("tests.broken.CustomOp")
    failed = run(tmp_path, "failed", *overrides)
    assert (failed.failure.category, failed.failure.fix_overrides) == ("missing_op", ["export=torchscript_trace"])
    assert "converter_tests::scaled" in failed.failure.hint and "register_fake" in failed.failure.hint
    check_fixed(tmp_path, failed, overrides)


def test_an_operator_the_target_lacks_is_an_unsupported_op(tmp_path: Path) -> None:
    overrides = toy("tests.broken.CustomOpWithFake", "export=onnx")
    failed = run(tmp_path, "failed", *overrides)
    assert (failed.failure.category, failed.failure.fix_overrides) == ("unsupported_op", [])
    assert "converter_tests" in failed.failure.hint and "another target" in failed.failure.hint
    assert run(tmp_path, "torch_export", *toy("tests.broken.CustomOpWithFake")).ok, "torch.export takes it"


def test_a_write_into_an_input_is_an_input_mutation_with_the_clone_patch(tmp_path: Path) -> None:
    failed = run(tmp_path, "failed", *toy("tests.broken.WritesThroughData", "export.strict=false"))
    failure = failed.failure
    assert (failure.category, failure.fix_overrides) == ("input_mutation", [])
    assert "clone()" in failure.hint and "model.patches" in failure.hint


def test_a_dim_wider_than_the_model_takes_gets_torch_exports_suggested_range(tmp_path: Path) -> None:
    # validate=off: validation would run eager at the Dim's max (16) first, where the model's check fails
    overrides = toy("tests.broken.BoundedBatch", "validate=off", dynamic=True)
    failed = run(tmp_path, "failed", *overrides)
    assert (failed.failure.category, failed.failure.fix_overrides) == (
        "static_shape",
        ["model.dynamic_shapes.x={0:{name:batch,min:1,max:8}}"],
    )
    check_fixed(tmp_path, failed, overrides)


def test_a_dim_collapsed_by_an_example_of_size_one_says_so(tmp_path: Path) -> None:
    overrides = toy("tests.broken.Doubler", "model.inputs.x.shape=[1,8]", dynamic=True)
    failed = run(tmp_path, "failed", *overrides)
    assert (failed.failure.category, failed.failure.fix_overrides) == ("static_shape", ["model.inputs.x.shape=[2,8]"])
    assert "specializes sizes 0 and 1" in failed.failure.hint and "min: 2" in failed.failure.hint
    check_fixed(tmp_path, failed, overrides)


def test_a_numeric_drift_in_one_submodule_is_localized_to_it(tmp_path: Path) -> None:
    patch = "model.patches=[{target:tests.broken.Block.forward,replacement:tests.broken.drifting_block}]"
    failed = run(tmp_path, "failed", *toy("tests.broken.TwoBlocks"), patch, "validate.atol=1e-6", "validate.rtol=0")
    assert (failed.failure.category, failed.failure.fix_overrides) == ("validation_mismatch", [])
    divergence = failed.validation["first_divergence"]
    assert (divergence["module"], divergence["class"]) == ("blocks.1", "Block")
    assert 0 < divergence["max_abs_error"] < 0.5 and divergence["cosine_similarity"] > 0.9
    assert "'blocks.1'" in failed.failure.hint
    assert failed.failure.location["file"].endswith("tests/broken.py")


# the reproducer ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, error",
    [
        (["+tiny=input_confirm", "export=torch_export"], "Could not guard on data-dependent expression"),
        (["+tiny=input_confirm", "export=torchscript_trace"], "Tensor-likes are not close"),
    ],
    ids=["export", "validate"],
)
def test_repro_py_fails_the_same_way_without_converter(overrides: List[str], error: str, tmp_path: Path) -> None:
    failed = run(tmp_path, "failed", *overrides)
    repro = tmp_path / "failed" / "repro"
    assert {p.name for p in repro.iterdir()} >= {"repro.py", "config.yaml", "inputs.pt"}
    assert (
        "from converter" not in (repro / "repro.py").read_text()
        and "import converter" not in (repro / "repro.py").read_text()
    )
    done = subprocess.run(
        [sys.executable, "repro.py"], cwd=repro, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert error in done.stderr
    assert failed.failure.stage in ("export", "validate")


# explain, the summary and the nightly view ---------------------------------------------------------


def test_explain_groups_failed_jobs_by_category_most_frequent_first(tmp_path: Path) -> None:
    from converter.reporting.summary import matrix_markdown
    from tests.conftest import cli_env

    sweep = tmp_path / "sweep"
    run(sweep, "0", "+tiny=input_confirm", "export=torch_export")
    run(sweep, "1", "+tiny=input_confirm", "export=torch_export", "export.strict=false", "model.name=input_confirm2")
    run(sweep, "2", "+tiny=input_confirm", "export=torchscript_trace")
    run(sweep, "3", "+tiny=classification", "export=torchscript_trace")
    done = subprocess.run(
        [sys.executable, "-m", "converter", "explain", str(sweep)],
        capture_output=True,
        text=True,
        env=cli_env(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    headers = [line for line in done.stdout.splitlines() if line.startswith("== ")]
    assert done.stdout.splitlines()[0] == f"3 of 4 job(s) failed under {sweep}"
    assert headers == ["== data_dependent (2)", "== trace_divergence (1)"]
    assert "suggested fix, not verified: export=torchscript_script" in done.stdout and "toys.py:25" in done.stdout

    one = subprocess.run(
        [sys.executable, "-m", "converter", "explain", str(sweep / "2")], capture_output=True, text=True, env=cli_env()
    )
    assert one.stdout.startswith("1 of 1 job(s) failed") and "== trace_divergence (1)" in one.stdout

    from converter.cli.explain import results_under

    table = matrix_markdown(results_under(sweep))
    assert "By failure category: 2 data_dependent, 1 trace_divergence." in table
    assert "failed [trace_divergence]: validate: ValidationMismatch" in table
    assert "- input_confirm/torchscript_trace: suggested fix, not verified: `export=torchscript_script`" in table


def test_explain_names_a_missing_folder(tmp_path: Path) -> None:
    from tests.conftest import cli_env

    done = subprocess.run(
        [sys.executable, "-m", "converter", "explain", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        env=cli_env(),
    )
    assert done.returncode == 2 and "no folder at" in done.stderr


def test_the_nightly_report_shows_categories_that_appeared_or_disappeared() -> None:
    from types import SimpleNamespace

    from converter.tracking.nightly import compare_runs

    def runs(**statuses: str) -> dict:
        return {
            (model, "", "torch_export"): SimpleNamespace(
                data=SimpleNamespace(
                    tags={"status": "ok" if c == "ok" else "failed", "failure_category": "" if c == "ok" else c},
                    metrics={},
                )
            )
            for model, c in statuses.items()
        }

    report = compare_runs(
        runs(a="data_dependent", b="static_shape", c="ok"),
        runs(a="data_dependent", b="ok", c="strict_tracing"),
        TrackingConfig(),
    )
    assert report.categories_appeared == ["strict_tracing: 1 job(s)"]
    assert report.categories_disappeared == ["static_shape: 1 job(s) before"]
    assert "## Failure categories that appeared\n\n- strict_tracing: 1 job(s)\n" in report.markdown()


def test_the_readme_lists_every_category_and_every_target_as_the_code_renders_them() -> None:
    from converter.diagnosis import category_table as categories
    from converter.exporters import formats as targets
    from converter.records.readme_section import section_of

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert set(categories.DESCRIPTIONS) == set(categories.CATEGORIES)
    for module in (categories, targets):
        assert section_of(readme, module.START, module.END) == module.render(), "run `make readme`"


@pytest.mark.parametrize(("strict", "category"), [(True, "strict_tracing"), (False, "unknown")])
def test_strict_tracing_is_ultralytics_dynamo_failure(strict: bool, category: str) -> None:
    """The error strict export raises on YOLO11-pose (ultralytics 8.4), as the seed case records it."""
    from converter.diagnosis import FailureContext, diagnose

    context = FailureContext(
        stage="export",
        type="torch.fx.experimental.symbolic_shapes.PendingUnbackedSymbolNotFound",
        message="Pending unbacked symbols {zuf0} not in returned outputs FakeTensor(..., size=(2, 56, u0))",
        job=ConverterConfig(
            model=ModelConfig(name="yolo11_pose", loader={}, inputs={}),
            export=ExportConfig(backend="torch_export", strict=strict),
        ),
    )
    diagnosis = diagnose(context)
    assert diagnosis.category == category
    if strict:
        assert diagnosis.fix_overrides == ["export.strict=false"] and "Non-strict export" in diagnosis.hint


@pytest.mark.parametrize(
    "structure",
    [
        "(Tensor[2, 56, 420], [Tensor[2, 65, 20, 20], Tensor[2, 51, 420]])",
        # ultralytics 8.4's pose head: a dict inside the tuple is no top-level key to select
        "(Tensor[2, 135, 525], {'boxes': Tensor[2, 64, 525], 'scores': Tensor[2, 80, 525], 'kpts': Tensor[2, 51, 525]})",
    ],
)
def test_a_nested_tuple_output_gets_the_first_output_wrapper(structure: str) -> None:
    """YOLO11-pose traced: 'Tracer cannot infer type of (tensor, [tensors])' even non-strict."""
    from converter.diagnosis import FailureContext, diagnose

    context = FailureContext(
        stage="export",
        type="builtins.RuntimeError",
        message="Tracer cannot infer type of (tensor([[[4., 12.]]]), [tensor([1.])])\n:List inputs to traced functions",
        job=ConverterConfig(
            model=ModelConfig(name="yolo11_pose", loader={}, inputs={}),
            export=ExportConfig(backend="torchscript_trace", strict=True),
        ),
        eager_structure=lambda: structure,
    )
    diagnosis = diagnose(context)
    assert (diagnosis.category, diagnosis.fix_overrides) == (
        "unsupported_output",
        ["model.wrapper={_target_:registry.common.SelectOutput,key:0}"],
    )


@pytest.mark.parametrize(
    ("stage", "message", "named"),
    [
        (
            "export",
            "Expected all tensors to be on the same device, but got index is on cpu, different from other tensors "
            "on cuda:0 (when checking argument in method wrapper_CUDA__index_select)",
            "an operator got tensors on two devices (cpu and cuda:0, the index on cpu)",
        ),
        (
            "validate",
            "Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!",
            "an operator got tensors on two devices (cuda:0 and cpu)",
        ),
    ],
)
def test_tensors_on_two_devices_are_a_device_mismatch_with_the_patch_to_write(
    stage: str, message: str, named: str
) -> None:
    """CUDA only (none here): torch's two wordings, raised by export or by one validation case."""
    from converter.diagnosis import FailureContext, diagnose

    in_a_case = stage == "validate"
    context = FailureContext(
        stage=stage,
        type="converter.job.validate.ValidationMismatch" if in_a_case else "builtins.RuntimeError",
        message="artifact differs from eager: dims[points=1]: artifact raised RuntimeError" if in_a_case else message,
        job=ConverterConfig(
            model=ModelConfig(name="sam_prompt", loader={}, inputs={}),
            export=ExportConfig(backend="torchscript_trace"),
            device="cuda",
        ),
        validation={"cases": [{"name": "dims[points=1]", "passed": False, "error": message}]} if in_a_case else None,
    )
    diagnosis = diagnose(context)
    assert (diagnosis.category, diagnosis.fix_overrides) == ("device_mismatch", [])
    assert named in diagnosis.hint
    assert "with the inputs on cuda" in diagnosis.hint and "torch.arange(n, device=x.device)" in diagnosis.hint


def test_an_openvino_conversion_failure_names_the_operators_it_could_not_convert() -> None:
    """OpenVINO's frontend on BLIP (make matrix): a cat with an empty constant it cannot convert."""
    from converter.diagnosis import FailureContext, diagnose

    message = (
        "Check 'false' failed at src/frontends/common_translators/src/unconverted_ops_report.cpp:151:\n"
        "FrontEnd API failed with OpConversionFailure:\nModel wasn't fully converted. Failed operations detailed log:\n"
        "-- aten.cat.default with a message:\nAxis -2 out of the tensor rank range [-1, 0].\n\n"
        "Summary:\n-- Conversion is failed for: SequenceMark, aten.cat.default\n"
    )
    context = FailureContext(
        stage="export",
        type="openvino._pyopenvino.OpConversionFailure",
        message=message,
        job=ConverterConfig(
            model=ModelConfig(name="blip", loader={}, inputs={}), export=ExportConfig(backend="openvino", strict=True)
        ),
    )
    diagnosis = diagnose(context)
    assert diagnosis.category == "unsupported_op"
    assert (
        "openvino has no implementation of an operator the model calls (SequenceMark, aten.cat.default)"
        in diagnosis.hint
    )


@pytest.mark.parametrize(
    ("backend", "stage", "kind", "message", "category", "fix"),
    [
        (  # make matrix, YOLO11-pose: ExecuTorch's XNNPACK partitioner
            "executorch",
            "export",
            "builtins.RuntimeError",
            "Output node 'aten_cat_default' is already in the inputs. This is likely due to pass through arguments, "
            "which are not supported in XNNPACK Delegate.",
            "unsupported_output",
            ["model.wrapper={_target_:registry.common.SelectOutput,key:0}"],
        ),
        (  # make matrix, SAM's predictor: the Edge dialect's verifier
            "executorch",
            "export",
            "torch._export.verifier.SpecViolationError",
            "These operators are taking Tensor inputs with mismatched dtypes:  Operator: <EdgeOpOverload: aten.cat.default>",
            "compiler_error",
            ["export=torch_export"],
        ),
        (  # make matrix, MViT: the runtime has no kernel for an operator XNNPACK left
            "executorch",
            "validate",
            "builtins.RuntimeError",
            "Failed to load method forward, error: 0x:14",
            "unsupported_op",
            [],
        ),
        (  # make matrix, ViT-B/16 traced
            "torchscript_trace",
            "export",
            "torch.jit._trace.TracingCheckError",
            "Tracing failed sanity checks! ERROR: Graphs differed across invocations!",
            "trace_divergence",
            ["export.options.check_trace=false"],
        ),
    ],
)
def test_the_matrix_failures_of_executorch_and_traced_vit_are_diagnosed(
    backend: str, stage: str, kind: str, message: str, category: str, fix: list
) -> None:
    from converter.diagnosis import FailureContext, diagnose

    context = FailureContext(
        stage=stage,
        type=kind,
        message=message,
        job=ConverterConfig(
            model=ModelConfig(name="m", loader={}, inputs={}), export=ExportConfig(backend=backend, strict=True)
        ),
    )
    diagnosis = diagnose(context)
    assert (diagnosis.category, diagnosis.fix_overrides) == (category, fix), diagnosis.hint


def test_explain_names_a_record_this_version_cannot_read(tmp_path: Path, capsys) -> None:
    import json

    from converter.cli.explain import main

    run_dir = tmp_path / "0-m-onnx"
    run_dir.mkdir()
    record = {"model": "m", "backend": "onnx", "strict": True, "device": "cpu", "status": "ok", "speed": 2.0}
    (run_dir / "result.json").write_text(json.dumps(record))
    assert main([str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"explain: {run_dir / 'result.json'}: the record has keys this version of converter does not define: "
        "speed. Fix: explain it with the converter version that wrote it.\n"
    )


def test_xnnpacks_output_twice_on_a_dict_output_keeps_its_first_entry() -> None:
    from converter.diagnosis import FailureContext, diagnose

    context = FailureContext(
        stage="export",
        type="builtins.RuntimeError",
        message="Output node 'aten_cat_default' is already in the inputs. This is likely due to pass through arguments",
        job=ConverterConfig(
            model=ModelConfig(name="m", loader={}, inputs={}), export=ExportConfig(backend="executorch", strict=True)
        ),
        eager_structure=lambda: "{'boxes': Tensor(2, 4), 'maps': Tensor(2, 8)}",
    )
    diagnosis = diagnose(context)
    assert diagnosis.category == "unsupported_output"
    assert diagnosis.fix_overrides == ["model.wrapper={_target_:registry.common.SelectOutput,key:boxes}"]
    assert "SelectOutput with key boxes keeps that entry" in diagnosis.hint
