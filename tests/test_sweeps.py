"""The sweep presets compose into the jobs they promise (composition only: nothing runs)."""

import copy
import functools
from pathlib import Path

import pytest

from converter.cli.preflight import compose_jobs, parse_argv

# One worker composes each preset once (functools.cache below) for every test of the module.
pytestmark = pytest.mark.xdist_group("sweeps")

CONF = Path(__file__).resolve().parents[1] / "conf"
MODELS = {path.stem for path in (CONF / "model").glob("*.yaml")}
# every target that converts on a CPU machine (tensorrt needs a GPU: not in the presets)
BACKENDS = {
    "torch_export",
    "torchscript_trace",
    "torchscript_script",
    "onnx",
    "aoti",
    "coreml",
    "openvino",
    "executorch",
}


@functools.cache
def _composed(preset: str) -> tuple:
    return tuple(compose_jobs(parse_argv(["--multirun", f"+sweep={preset}"])).jobs)


def jobs(preset: str) -> list:
    """The preset's jobs, composed once per test process (the matrix alone takes tens of seconds)."""
    return copy.deepcopy(list(_composed(preset)))


@pytest.mark.slow  # composes 112 jobs (20 s); the matrix test below composes the same models and backends
def test_nightly_is_every_model_at_published_size_times_every_backend() -> None:
    nightly = jobs("nightly")
    assert {(j["model"]["name"], j["export"]["backend"]) for j in nightly} == {(m, b) for m in MODELS for b in BACKENDS}
    by_name = {j["model"]["name"]: j for j in nightly}
    assert by_name["sam"]["model"]["variant"] == "vit_b" and by_name["mvit"]["model"]["variant"] == "v1_b"
    for job in nightly:
        assert job["tracking"]["sweep"] == "nightly" and job["tracking"]["compare_with_previous"] is True
        assert (
            job["benchmark"]["enabled"] and job["benchmark"]["cold_start"] and job["benchmark"]["min_iterations"] == 10
        )


def test_matrix_is_every_tiny_variant_times_every_backend() -> None:
    matrix = jobs("matrix")
    assert len(matrix) == len(MODELS) * len(BACKENDS)
    by_name = {j["model"]["name"]: j for j in matrix}
    assert by_name["sam"]["model"]["variant"] == "test" and by_name["mvit"]["model"]["inputs"]["x"]["shape"] == [
        2,
        3,
        4,
        64,
        64,
    ]
    assert all(j["tracking"]["sweep"] == "matrix" for j in matrix)


def test_command_line_overrides_beat_a_models_own_defaults() -> None:
    (yolo,) = compose_jobs(parse_argv(["+model=yolo11_pose"])).jobs
    assert yolo["export"]["strict"] == "auto"  # the default: strict, then non-strict where Dynamo fails
    (strict,) = compose_jobs(parse_argv(["+model=yolo11_pose", "export.strict=true"])).jobs
    assert strict["export"]["strict"] is True
    (gpt2,) = compose_jobs(parse_argv(["+model=gpt2_completion"])).jobs
    assert gpt2["export"]["backend"] == "torchscript_script"
    (exported,) = compose_jobs(parse_argv(["+model=gpt2_completion", "export=torch_export"])).jobs
    assert exported["export"]["backend"] == "torch_export"


def test_bench_measures_every_target_that_runs_here() -> None:
    bench = jobs("bench")
    assert {j["export"]["backend"] for j in bench} == BACKENDS - {"coreml"}  # Core ML predicts on macOS only
    assert "vit_b_16" in {j["model"]["name"] for j in bench}, "a published-size transformer is benchmarked"


def test_every_model_has_a_tiny_variant_and_every_tiny_a_model() -> None:
    """The matrix and the tests run tiny variants: a model without one is a model not tested."""
    tiny = {path.stem for path in (CONF / "tiny").glob("*.yaml")}
    assert MODELS == tiny, f"models without a tiny variant: {MODELS - tiny}; tiny without a model: {tiny - MODELS}"
    assert len(MODELS) == 14


@pytest.mark.slow  # imports every builder (sam2, ultralytics, transformers): 25 s
def test_every_tiny_preset_picks_the_test_variant_where_the_builder_has_one() -> None:
    """`+tiny=NAME` means one thing: the builder's `test` variant (with none, a published size)."""
    import importlib

    for job in jobs("matrix"):
        if job["export"]["backend"] != "torch_export":
            continue
        model = job["model"]
        module = importlib.import_module(model["loader"]["_target_"].rsplit(".", 1)[0])
        variants = getattr(module, "VARIANTS", ())
        if "test" in variants:
            assert model["variant"] == "test", f"+tiny={model['name']} picks {model['variant']!r}, not the test variant"
        else:
            assert model["variant"] in (*variants, None), f"+tiny={model['name']} picks {model['variant']!r}"
