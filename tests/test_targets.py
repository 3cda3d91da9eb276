"""The deployment targets: ONNX Runtime, AOTInductor and Core ML, end to end.

Each backend exports a toy and a real tiny model, reloads the artifact in its own runtime and
validates it against eager (a planted mismatch must be caught); AOTInductor's compiled package
is reused from the job cache; Core ML converts anywhere but validates only on macOS.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from converter.cli.preflight import compose_jobs, parse_argv
from converter.errors import ConfigError
from converter.records.results import JobResult
from tests.checks import run_in_process

QUICK = ["benchmark=off", "tracking=off", "security.allowed_prefixes=[tests]"]
DRIFT = "model.patches=[{target:registry.toys.Classification.forward,replacement:tests.broken.drifting_classification}]"


def run(tmp_path: Path, *overrides: str, name: str = "run") -> JobResult:
    return run_in_process(tmp_path / name, *overrides, *QUICK)


def check_validated(result: JobResult, suffix: str) -> None:
    assert result.ok, result.failure
    assert result.validation["passed"] is True
    assert Path(result.artifact.path).name.startswith("model") and result.artifact.path.endswith(suffix)


# ONNX Runtime ----------------------------------------------------------------------------------------


def test_onnx_validates_the_toy_at_every_dim_size(tmp_path: Path) -> None:
    result = run(tmp_path, "+model=classification", "export=onnx")
    check_validated(result, ".onnx")
    sizes = [c["shapes"]["x"][0] for c in result.validation["cases"] if c["name"].startswith("dims")]
    assert sizes == [1, 8, 16], "one graph answers every batch size: the Dim is symbolic in ONNX"
    assert result.graph["symbolic_dims"] == 1 and result.graph["parameters"] == 51_682
    assert "ai.onnx::Sigmoid" in result.graph["operators"]


def test_onnx_hands_back_the_eager_output_structure(tmp_path: Path) -> None:
    """DeepLab without its wrapper returns a dict: ONNX flattens it, the session rebuilds it."""
    result = run(tmp_path, "+tiny=deeplabv3", "export=onnx", "model.wrapper=null")
    check_validated(result, ".onnx")
    assert list(result.validation["outputs"]) == ["output['out']"]  # a dict entry, not output[0]


def test_onnx_a_real_tiny_model_validates_and_a_planted_mismatch_is_caught(tmp_path: Path) -> None:
    check_validated(run(tmp_path, "+tiny=resnet18", "export=onnx", name="resnet18"), ".onnx")
    drifted = run(tmp_path, "+model=classification", "export=onnx", DRIFT, name="drift")
    assert (drifted.status, drifted.failure.category) == ("failed", "validation_mismatch")
    assert 0.009 < max(o["max_abs_error"] for o in drifted.validation["outputs"].values()) < 0.011


def test_onnx_session_takes_benchmark_threads_and_the_optimization_level(tmp_path: Path) -> None:
    from converter.exporters import get_exporter

    result = run(tmp_path, "+model=classification", "export=onnx", "export.options.graph_optimization_level=basic")
    session = get_exporter("onnx").load(Path(result.artifact.path), "cpu", threads=1)
    assert session.threads == 1 and session.providers == ["CPUExecutionProvider"]
    import onnx

    metadata = {p.key: p.value for p in onnx.load(result.artifact.path).metadata_props}
    assert metadata["converter.graph_optimization_level"] == "basic"


def test_an_unknown_onnx_runtime_level_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="graph_optimization_level 'fastest'"):
        compose_jobs(
            parse_argv(["+model=classification", "export=onnx", "export.options.graph_optimization_level=fastest"])
        )


@pytest.mark.parametrize("backend, package", [("onnx", "onnxruntime"), ("coreml", "coremltools")])
def test_a_missing_optional_package_is_exit_2_naming_the_extra(backend: str, package: str, monkeypatch, capsys) -> None:
    import importlib.util

    from converter.cli.main import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == package else real(name, *a))
    assert main(["+model=classification", f"export={backend}", "tracking=off"]) == 2
    err = capsys.readouterr().err
    assert f"backend '{backend}' needs {package}" in err and f"pip install -e '.[{backend}]'" in err


# AOTInductor -------------------------------------------------------------------------------------------


def test_aoti_compiles_validates_and_a_warm_rerun_reuses_the_package(run_cli, tmp_path: Path) -> None:
    args = ("+model=classification", "export=aoti", "benchmark=off", "tracking=off")
    first = run_cli(*args, timeout=600)
    assert first.returncode == 0, first.stderr[-3000:]
    result = first.result()
    assert result["validation"]["passed"] is True and result["artifact"]["path"].endswith("model.pt2")
    info = result["export_info"]
    assert info["compile_s"] > 0 and info["inductor_configs"] == {"freezing": True, "max_autotune": False}
    second = run_cli(*args, timeout=600)
    assert second.returncode == 0, second.stderr[-3000:]
    (again,) = [r for r in second.results() if r["cached"]]
    assert again["artifact"]["sha256"] == result["artifact"]["sha256"]
    assert again["cached_from"] == str(Path(result["artifact"]["path"]).parent)
    rerun_log = Path(again["artifact"]["path"]).parent / "convert.log"
    assert "stage export" not in (rerun_log.read_text() if rerun_log.exists() else ""), "no second compile"
    assert "classification/aoti: ok (cached)" in second.stdout


def test_aoti_a_failed_compile_leaves_no_scratch_folder(monkeypatch, tmp_path: Path) -> None:
    import tempfile

    import torch

    from converter.config.backend_options import AotiOptions
    from converter.exporters.aoti import AotiExporter
    from converter.exporters.base import ExportRequest

    def no_compiler(*args, **kwargs):
        raise RuntimeError("C++ compile failed: g++ not found")

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(torch._inductor, "aoti_compile_and_package", no_compiler)
    request = ExportRequest(torch.nn.Linear(3, 2).eval(), (torch.rand(2, 3),), None, True, AotiOptions())
    with pytest.raises(RuntimeError, match="g\\+\\+ not found"):
        AotiExporter().export(request)
    assert list(tmp_path.glob("converter-aoti-*")) == []  # (inductor keeps its own cache there)


@pytest.mark.slow
def test_aoti_a_real_tiny_model_validates_and_a_planted_mismatch_is_caught(tmp_path: Path) -> None:
    """With its dynamic batch, resnet18's 20 convolution weights are packed at compile time
    (converter/exporters/inductor_private.py) and the package still validates at every Dim size."""
    resnet18 = run(tmp_path, "+tiny=resnet18", "export=aoti", name="resnet18")
    check_validated(resnet18, ".pt2")
    assert resnet18.export_info["conv_weights_packed_at_size_hints"] == 20
    assert [c["shapes"]["x"][0] for c in resnet18.validation["cases"] if c["name"].startswith("dims")] == [1, 4, 8]
    drifted = run(tmp_path, "+model=classification", "export=aoti", DRIFT, name="drift")
    assert (drifted.status, drifted.failure.category) == ("failed", "validation_mismatch")


# Core ML -----------------------------------------------------------------------------------------------

SEED_BIAS = "[-2.1179,-2.0357,-1.8044]"  # -mean/std of ImageNet, as Apple's Core ML DeepLabV3 example


@pytest.mark.slow  # Core ML's conversion is covered by the trace, script and GPT-2 tests below
def test_coreml_converts_deeplab_with_an_image_input_and_labels(tmp_path: Path) -> None:
    import coremltools as ct

    result = run(
        tmp_path,
        "+tiny=deeplabv3",
        "export=coreml",
        "model.inputs.x.shape=[1,3,64,64]",
        "export.dynamic=false",
        f"export.options.inputs={{x:{{type:image,scale:0.0171,bias:{SEED_BIAS}}}}}",
        "export.options.metadata={com.apple.coreml.model.preview.type:imageSegmenter,"
        "com.apple.coreml.model.preview.params:{labels:[background,aeroplane]}}",
    )
    assert result.ok, result.failure
    if sys.platform != "darwin":  # converted, never called a pass
        assert result.validation == {"passed": None, "skipped": "Core ML runtime needs macOS"}
    package = Path(result.artifact.path)
    assert package.name == "model.mlpackage" and package.is_dir()
    model = ct.models.MLModel(str(package), skip_model_load=True)
    metadata = model.user_defined_metadata
    assert metadata["com.apple.coreml.model.preview.type"] == "imageSegmenter"
    assert json.loads(metadata["com.apple.coreml.model.preview.params"]) == {"labels": ["background", "aeroplane"]}
    (image,) = model.get_spec().description.input
    assert image.type.WhichOneof("Type") == "imageType"
    assert result.graph["parameters"] > 1_000_000


def test_coreml_from_a_trace_keeps_each_dim_as_a_range(tmp_path: Path) -> None:
    import coremltools as ct

    result = run(tmp_path, "+model=classification", "export=coreml", "export.options.source=trace")
    assert result.ok, result.failure
    model = ct.models.MLModel(result.artifact.path, skip_model_load=True)
    (tensor,) = model.get_spec().description.input
    ranges = [(r.lowerBound, r.upperBound) for r in tensor.type.multiArrayType.shapeRange.sizeRanges]
    assert ranges == [(1, 16), (320, 320), (320, 320)]  # the Dim batch in [1, 16]
    assert result.graph["symbolic_dims"] == 1


def test_a_folder_artifact_is_hashed_by_every_file(tmp_path: Path) -> None:
    from converter.records.artifacts import sha256_of

    package = tmp_path / "model.mlpackage"
    (package / "Data").mkdir(parents=True)
    (package / "Data" / "weights.bin").write_bytes(b"1234")
    before = sha256_of(package)
    (package / "Data" / "weights.bin").write_bytes(b"1235")
    assert sha256_of(package) != before
    (package / "Data" / "weights.bin").write_bytes(b"1234")
    assert sha256_of(package) == before
    (package / "extra").write_bytes(b"")
    assert sha256_of(package) != before


# TensorRT and CUDA --------------------------------------------------------------------------------------

CUDA = pytest.mark.skipif(
    not __import__("torch").cuda.is_available(), reason="needs an NVIDIA GPU (none on this machine)"
)


def test_tensorrt_without_a_gpu_is_a_config_error_that_says_why(run_cli) -> None:
    run = run_cli("+model=classification", "export=tensorrt", "tracking=off")
    assert run.returncode == 2
    assert "export=tensorrt compiles for NVIDIA GPUs only and this job has device=cpu" in run.stderr
    assert not (run.cwd / "outputs" / "runs").exists(), "nothing ran"


@CUDA
def test_tensorrt_compiles_validates_and_benchmarks_on_cuda(tmp_path: Path) -> None:
    pytest.importorskip("torch_tensorrt", reason="the 'tensorrt' extra is not installed")
    result = run(tmp_path, "+model=classification", "export=tensorrt", "device=cuda")
    check_validated(result, ".ep")


@CUDA
@pytest.mark.parametrize("model", ["sam_prompt", "sam_predictor", "sam2_prompt", "mvit"])
def test_a_trace_on_cuda_ends_as_it_ends_on_cpu(model: str, tmp_path: Path) -> None:
    """Each repeats an embedding by a size, which the plain trace did with a CPU-built index
    ("index is on cpu ... wrapper_CUDA__index_select"; converter.exporters.portable_trace).
    sam_predictor's trace fails on both devices, as a trace_divergence (its point count is baked in)."""
    on_cpu = run(tmp_path, f"+tiny={model}", "export=torchscript_trace", name="cpu")
    on_cuda = run(tmp_path, f"+tiny={model}", "export=torchscript_trace", "device=cuda", name="cuda")
    assert (on_cuda.ok, on_cpu.ok) == (model != "sam_predictor",) * 2, on_cuda.failure
    if not on_cuda.ok:
        assert (on_cuda.failure.category, on_cpu.failure.category) == ("trace_divergence",) * 2
        assert "index is on cpu" not in on_cuda.failure.message


@CUDA
@pytest.mark.parametrize("backend", ["torch_export", "onnx", "aoti"])
def test_each_cpu_target_also_runs_on_cuda(backend: str, tmp_path: Path) -> None:
    check_validated(run(tmp_path, "+model=classification", f"export={backend}", "device=cuda"), "")


def test_coreml_from_a_script_converts_a_loop_bounded_by_a_module_attribute(tmp_path: Path) -> None:
    """The TorchScript source is frozen first, so coremltools reads `self.steps` as a constant."""
    import coremltools as ct

    loop = "+model.loader={_target_:tests.broken.AddInALoop,steps:3}"
    result = run(tmp_path, "+model=classification", loop, "export=coreml", "export.options.source=script")
    assert result.ok, result.failure
    assert result.validation == {"passed": None, "skipped": "Core ML runtime needs macOS"}
    model = ct.models.MLModel(result.artifact.path, skip_model_load=True)
    (tensor,) = model.get_spec().description.input
    ranges = [(r.lowerBound, r.upperBound) for r in tensor.type.multiArrayType.shapeRange.sizeRanges]
    assert ranges == [(1, 16), (320, 320), (320, 320)]


def test_onnx_runtime_threads_do_not_spin_between_calls() -> None:
    """Spinning pool threads steal the cores eager is timed on, interleaved (resnet18's eager p50
    read 2.3x slower beside them): converter's sessions turn spinning off."""
    from converter.exporters.onnx import _session_options

    settings = _session_options(2, "all")
    assert settings.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert settings.get_session_config_entry("session.inter_op.allow_spinning") == "0"
    assert settings.intra_op_num_threads == 2


def test_coreml_converts_the_gpt2_loop_from_its_script_with_a_token_range(tmp_path: Path) -> None:
    """WWDC 2020's FinishMySentence: the traced GPT-2 inside the scripted loop, tokens in [2, 32]."""
    import coremltools as ct

    result = run(tmp_path, "+tiny=gpt2_completion", "export=coreml", "export.options.source=script")
    assert result.ok, result.failure
    assert result.validation == {"passed": None, "skipped": "Core ML runtime needs macOS"}
    model = ct.models.MLModel(result.artifact.path, skip_model_load=True)
    (tokens,) = model.get_spec().description.input
    ranges = [(r.lowerBound, r.upperBound) for r in tokens.type.multiArrayType.shapeRange.sizeRanges]
    assert (tokens.name, ranges) == ("x", [(2, 32)])
    assert "while_loop" in result.graph["operators"]


def test_tensorrt_hands_torch_tensorrt_the_program_inputs_and_settings(monkeypatch, tmp_path: Path) -> None:
    """torch_tensorrt cannot be installed here: a stand-in with its documented signatures
    (dynamo.compile(exported_program, *, arg_inputs, kwarg_inputs, enabled_precisions,
    workspace_size); save(module, file_path, *, output_format, arg_inputs, kwarg_inputs))
    records what the exporter passes, so a renamed keyword fails here too."""
    import types

    import torch

    from converter.exporters.base import ExportRequest
    from converter.exporters.tensorrt import TensorRTExporter, TensorRTOptions
    from tests.broken import ShiftedBy

    calls = []

    def compile(exported_program, *, arg_inputs, kwarg_inputs=None, enabled_precisions, workspace_size=None):  # noqa: ANN001, ANN202
        calls.append(
            dict(
                program=exported_program,
                arg_inputs=arg_inputs,
                kwarg_inputs=kwarg_inputs,
                precisions=enabled_precisions,
                workspace_size=workspace_size,
            )
        )
        return exported_program.module()

    def save(module, file_path, *, output_format, arg_inputs, kwarg_inputs=None):  # noqa: ANN001, ANN202
        calls.append(dict(path=file_path, format=output_format, arg_inputs=arg_inputs, kwarg_inputs=kwarg_inputs))

    fake = types.SimpleNamespace(dynamo=types.SimpleNamespace(compile=compile), save=save)
    monkeypatch.setitem(sys.modules, "torch_tensorrt", fake)
    x, bias = torch.ones(2, 3), torch.full((3,), 0.5)
    request = ExportRequest(
        module=ShiftedBy(),
        example_inputs=(x,),
        dynamic_shapes={"x": {0: torch.export.Dim("batch", min=1, max=8)}, "bias": None},
        strict=False,
        options=TensorRTOptions(precision="fp16", workspace_mb=64),
        example_kwargs={"bias": bias},
    )
    artifact = TensorRTExporter().export(request)
    TensorRTExporter().save(artifact, tmp_path / "model.ep")
    call, saved = calls
    assert call["arg_inputs"] == [x] and call["kwarg_inputs"] == {"bias": bias}
    assert call["precisions"] == {torch.float16} and call["workspace_size"] == 64 * 2**20
    assert isinstance(call["program"], torch.export.ExportedProgram)
    assert str(call["program"].range_constraints).count("[1, 8]") == 1, "the Dim's range reaches TensorRT"
    assert request.notes["precision"] == "fp16"
    assert torch.equal(artifact.compiled(torch.zeros(5, 3), bias=bias), torch.full((5, 3), 0.5))
    assert saved == dict(
        path=str(tmp_path / "model.ep"), format="exported_program", arg_inputs=[x], kwarg_inputs={"bias": bias}
    )
