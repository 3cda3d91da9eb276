"""Every seed model, end to end at its tiny variant: the fix works, and removing it brings the
failure it fixes back (or, where torch 2.14 no longer fails, the test records that)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Callable

import pytest
import torch

from tests.checks import check_ok_result, run_in_process

# These tests are about the models: isolation (test_isolation.py) and the command line
# (test_cli_e2e.py) have their own. Their jobs run in this test process, as test_diagnosis's do:
# a command-line run pays an interpreter, torch and the model's library again (5 s of CPU and more).
QUICK = ["validate.num_random_inputs=1", "tracking=off", "benchmark=off", "diagnosis.verify_fix=false"]
# The one model whose test is about the process (ultralytics' settings): run as a user runs it.
FAST_VALIDATION = ["validate.num_random_inputs=1", "job=inprocess"]


@pytest.fixture
def job(tmp_path: Path) -> Callable[..., dict]:
    """`job(preset, *overrides, backend=...)`: a tiny preset's job run here, in a run folder of its own; its result.json."""
    numbers = itertools.count()

    def run(preset: str, *overrides: str, backend: str = "torch_export") -> dict:
        folder = tmp_path / f"run{next(numbers)}"
        return run_in_process(folder, f"+tiny={preset}", f"export={backend}", *QUICK, *overrides).to_dict()

    return run


def ok(job: Callable[..., dict], preset: str, *overrides: str, backend: str = "torch_export") -> dict:
    result = job(preset, *overrides, backend=backend)
    check_ok_result(result, backend, logged=False)
    return result


def failed(job: Callable[..., dict], preset: str, *overrides: str, backend: str = "torch_export") -> dict:
    result = job(preset, *overrides, backend=backend)
    assert result["status"] == "failed"
    return result["failure"]


def dims_cases(result: dict) -> list:
    return [c for c in result["validation"]["cases"] if c["name"].startswith("dims[")]


# --- SAM (segment_anything) -------------------------------------------------------------------


def test_sam_image_encoder_exports_with_dynamic_batch(job) -> None:
    result = ok(job, "sam")
    assert [c["shapes"]["image"][0] for c in dims_cases(result)] == [1, 2, 4]
    assert result["versions"]["segment-anything"] == "1.0"


@pytest.mark.parametrize("backend", ["torch_export", "torchscript_trace"])
def test_sam_prompt_decoder_takes_any_number_of_points(job, backend: str) -> None:
    result = ok(job, "sam_prompt", backend=backend)
    assert [c["shapes"]["point_coords"][1] for c in dims_cases(result)] == [1, 8, 16]


def test_sam_predictor_scripts_only_with_its_patches(job) -> None:
    failure = failed(job, "sam_predictor", "model.patches=[]", backend="torchscript_script")
    assert failure["stage"] == "export" and "pad_hw is not defined in the false branch" in failure["message"]
    result = ok(job, "sam_predictor", backend="torchscript_script")
    assert len(result["config"]["model"]["patches"]) == 5
    # eager reference ran the unpatched library code: the patches change no number
    assert result["validation"]["outputs"]["output[0]"]["max_abs_error"] < 1e-3


def test_each_sam_patch_is_needed(job) -> None:
    """Drop the ModuleList patch alone: scripting fails on mask_decoder.py (segment-anything 1.0)."""
    keep = "[{target: segment_anything.modeling.image_encoder.Block.forward, replacement: registry.patches.segment_anything.image_encoder.block_forward}]"
    failure = failed(job, "sam_predictor", f"model.patches={keep}", backend="torchscript_script")
    assert failure["stage"] == "export" and "prompt_encoder.py" in failure["message"] + failure["traceback"]


# --- SAM 2 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("strict", [pytest.param("true", marks=pytest.mark.slow), "false"])
def test_sam2_image_encoder(job, strict: str) -> None:
    result = ok(job, "sam2", f"export.strict={strict}")
    assert result["versions"]["sam2"] == "1.1.0"
    assert len(result["validation"]["outputs"]) == 3  # image_embed and two high-res feature maps


def test_sam2_non_strict_export_with_grad_on_saves_a_program_torch_cannot_reload(job) -> None:
    """Found here, not in the torch.export tutorial: with grad enabled during export, SAM 2's @torch.no_grad
    position encodings become wrap_with_set_grad_enabled nodes, and torch 2.14 rejects the
    saved program on load. Exporting in no-grad mode (the default) avoids it."""
    failure = failed(job, "sam2", "export.strict=false", "export.options.no_grad=false")
    assert failure["stage"] == "validate" and "wrap_with_set_grad_enabled" in failure["message"]


@pytest.mark.parametrize("strict", ["true", pytest.param("false", marks=pytest.mark.slow)])
def test_sam2_prompt_path_takes_image_features_as_inputs(job, strict: str) -> None:
    result = ok(job, "sam2_prompt", f"export.strict={strict}")
    assert [c["shapes"]["point_coords"][1] for c in dims_cases(result)] == [1, 8, 16]
    assert set(result["validation"]["outputs"]) == {"output[0]", "output[1]", "output[2]"}


def test_sam2_loader_leaves_no_global_hydra_state() -> None:
    from hydra.core.global_hydra import GlobalHydra

    from registry.sam2.build import build_sam2

    GlobalHydra.instance().clear()
    model = build_sam2("test", image_size=256)
    assert model.image_size == 256
    assert not GlobalHydra.instance().is_initialized(), "import sam2 initialised GlobalHydra and it was left behind"


def test_sam2_prompt_path_hands_sam2_its_labels_as_floats(monkeypatch) -> None:
    """SAM 2 pads the labels with a float -1 (prompt_encoder._embed_points): eager promotes int32
    labels, ExecuTorch's edge dialect refuses a cat of two dtypes (compiler_error). The wrapper
    makes the promotion explicit, so the program is the same and ExecuTorch lowers it."""
    from registry.sam2.build import build_sam2
    from registry.sam2.wrappers import PromptPredictor

    wrapper = PromptPredictor(build_sam2("test", image_size=256), image_size=256)
    seen = {}

    def record(point_coords, point_labels, **kwargs):
        seen["labels"] = point_labels
        return point_coords, point_labels, point_coords

    monkeypatch.setattr(wrapper.predictor, "_predict", record)
    labels = torch.tensor([[1, 0, 1]], dtype=torch.int32)
    wrapper(
        torch.zeros(1, 256, 16, 16), torch.zeros(1, 32, 64, 64), torch.zeros(1, 64, 32, 32), torch.ones(1, 3, 2), labels
    )
    assert seen["labels"].dtype == torch.float32 and seen["labels"].tolist() == [[1.0, 0.0, 1.0]]


@pytest.mark.slow  # ExecuTorch lowering of the prompt path (a minute); the wrapper's cast is tested above
def test_sam2_prompt_path_lowers_to_executorch(job) -> None:
    pytest.importorskip("executorch", reason="the 'executorch' extra is not installed")
    result = job("sam2_prompt", backend="executorch")
    assert (result["status"], result["validation"]["passed"]) == ("ok", True), result["failure"]
    assert [c["shapes"]["point_coords"][1] for c in dims_cases(result)] == [1, 8, 16]


# --- YOLO11-pose (ultralytics) ----------------------------------------------------------------


def test_yolo11_pose_non_strict_with_dynamic_batch_and_no_settings_outside_the_run(run_cli, tmp_path) -> None:
    run = run_cli("+tiny=yolo11_pose", *FAST_VALIDATION)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    result = run.result()
    check_ok_result(result, "torch_export")
    # export.strict=auto (the default): strict fails as in the torch.export tutorial, non-strict produced the artifact
    assert result["strict"] is False and result["strict_mode"]["requested"] == "auto"
    assert result["strict_mode"]["strict_failure"].startswith("PendingUnbackedSymbolNotFound: Pending unbacked symbols")
    assert [c["shapes"]["images"][0] for c in dims_cases(result)] == [1, 2, 4]
    assert list((tmp_path / "outputs").rglob("settings.json")), "ultralytics' settings stay inside the run folder"
    assert "Ultralytics Settings" not in run.stdout + run.stderr, "no settings banner"


# The strict failure (export.strict=true): tests/test_diagnosis.py, with its diagnosis and fix.


@pytest.mark.slow  # two exports of YOLO (half a minute); the static_shape diagnosis has its own fast test
def test_yolo11_pose_head_shape_cache_pins_the_batch(job) -> None:
    failure = failed(job, "yolo11_pose", "model.loader.dynamic_head=false", "export.strict=false")
    assert "Constraints violated (batch)" in failure["message"]


# --- MViT (torchvision) -----------------------------------------------------------------------


def test_mvit_exports_with_its_batch_dim(job) -> None:
    """Its static-batch failure without the Dim, diagnosed and fixed: test_diagnosis's "mvit static"."""
    result = ok(job, "mvit")
    assert [c["shapes"]["x"][0] for c in dims_cases(result)] == [2, 3, 4]


# --- BLIP (transformers) ----------------------------------------------------------------------


def test_blip_exports_with_its_clone_patch(job) -> None:
    result = ok(job, "blip")
    assert [c["shapes"]["input_ids"] for c in dims_cases(result)] == [[1, 2], [4, 17], [8, 32]]
    # the eager reference runs the original code, which writes into its input; the patched export does not
    assert result["validation"]["eager_mutates_inputs"] == ["input_ids"]
    assert result["validation"]["artifact_mutates_inputs"] == []


@pytest.mark.slow  # BLIP exports by default in test_blip_exports_with_its_clone_patch
def test_blip_in_place_bos_write_no_longer_fails_in_torch_2_14(job) -> None:
    """The tutorial's "cannot mutate tensors with frozen storage" came from BLIP's forward writing
    BOS into its caption ids in place. torch 2.14 exports that mutation; this records it,
    and that both eager and the exported program then write into the caller's tensor."""
    result = ok(job, "blip", "model.patches=[]")
    assert result["validation"]["eager_mutates_inputs"] == ["input_ids"]
    assert result["validation"]["artifact_mutates_inputs"] == ["input_ids"]


# --- DeepLabV3 (torchvision, Apple's Core ML example) ------------------------------------------------


# Traced without its wrapper it fails on the dict output, and traces with it: test_diagnosis's
# "deeplab traced without its wrapper" runs both.


@pytest.mark.slow  # torch.export taking a dict output is also the fleet's hf_* samples' path
def test_deeplabv3_dict_output_exports_with_torch_export(job) -> None:
    result = ok(job, "deeplabv3", "model.wrapper=null")
    assert list(result["validation"]["outputs"]) == ["output['out']"]


# --- GPT-2 completion (WWDC 2020's FinishMySentence) -----------------------------------


def _eos_reached_by_example() -> int:
    """A token the test model emits when completing the example input: as EOS it stops the loop early."""
    from converter.config.schema import InputConfig, ModelConfig
    from converter.tensors.inputs import InputPlan
    from registry.gpt2 import FinishMySentence, build_gpt2

    torch.manual_seed(0)  # the runner seeds like this before loading
    model = FinishMySentence(build_gpt2("test"), eos=-1, max_new_tokens=8)
    spec = {"x": InputConfig(shape=[5], dtype="int64", low=0, high=512)}
    example = InputPlan.of(ModelConfig(name="gpt2", loader={}, inputs=spec)).make({}, 0, "cpu")["x"]
    with torch.no_grad():
        return int(model(example)[5 + 2])


def test_gpt2_completion_hybrid_keeps_the_early_stop_that_trace_drops(job) -> None:
    eos = _eos_reached_by_example()
    result = ok(job, "gpt2_completion", f"model.wrapper.eos={eos}", backend="torchscript_script")
    graph = (result["artifact"]["path"].rsplit("/", 1)[0]) + "/graph.txt"
    lines = [line.strip() for line in open(graph).read().splitlines()]
    # the scripted loop and its early stop, both kept (a trace unrolls the one and drops the other)
    assert "while _1:" in lines and "if torch.eq(_3, eos):" in lines
    failure = failed(job, "gpt2_completion", f"model.wrapper.eos={eos}", backend="torchscript_trace")
    assert failure["stage"] == "validate" and "shape" in failure["message"], "the trace ran all 8 steps"


def test_gpt2_completion_scripting_the_predictor_fails_without_the_hybrid(job) -> None:
    failure = failed(job, "gpt2_completion", "model.traced_submodules=[]", backend="torchscript_script")
    assert failure["stage"] == "export"


# --- the rest of each model's supported backends, one process per backend ----------------------

SUPPORTED = {
    "torchscript_trace": ["blip", "mvit", "resnet18", "sam", "sam2", "sam2_prompt"],
    "torchscript_script": ["deeplabv3", "mvit", "resnet18"],
    "torch_export": ["sam_predictor"],
}


@pytest.mark.slow  # the whole matrix is `make matrix`; each model's story has its own test above
@pytest.mark.parametrize("backend", sorted(SUPPORTED))
def test_every_supported_backend_of_every_model(run_cli, backend: str) -> None:
    """The matrix's ok cells that the tests above do not already cover, as one sweep per backend."""
    models = SUPPORTED[backend]
    run = run_cli(
        "--multirun",
        f"+tiny={','.join(models)}",
        f"export={backend}",
        "validate.num_random_inputs=0",
        "job=inprocess",
        "tracking=off",
        "benchmark=off",
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    results = run.results()
    assert sorted(r["model"] for r in results) == sorted(models)
    for result in results:
        check_ok_result(result, backend)
