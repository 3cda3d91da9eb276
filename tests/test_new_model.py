"""`python -m converter new` (converter/cli/new/): YAMLs written from the model itself that convert as
written, the verified fix applied where the first run fails, and nothing overwritten by accident."""

from __future__ import annotations

from pathlib import Path

import pytest

from converter.cli.new.inference import infer_inputs
from converter.cli.new.yaml_file import annotate

SMALL_LLAMA = [
    "config._target_=transformers.AutoConfig.for_model",
    "config.model_type=llama",
    "config.hidden_size=64",
    "config.num_hidden_layers=2",
    "config.num_attention_heads=4",
    "config.num_key_value_heads=2",
    "config.intermediate_size=128",
    "config.vocab_size=1000",
    "config.max_position_embeddings=48",
]
SMALL_BERT = [
    "config._target_=transformers.AutoConfig.for_model",
    "config.model_type=bert",
    "config.hidden_size=64",
    "config.num_hidden_layers=2",
    "config.num_attention_heads=2",
    "config.intermediate_size=128",
    "config.vocab_size=500",
]


QUICK = ["--run", "tracking=off", "--run", "validate.num_random_inputs=0", "--run", "job.isolate=false"]


def new(run_cli, conf: Path, *args: str):
    return run_cli("new", *args, "--config-dir", str(conf), *QUICK, timeout=900)


def converted_as_written(run) -> dict:
    """The job `new` ran on the YAML it wrote, before any fix."""
    (result,) = run.results()
    assert result["status"] == "ok", result.get("failure")
    return result


def converts(run_cli, conf: Path, name: str) -> dict:
    run = run_cli("--config-dir", str(conf), f"+model={name}", "validate.num_random_inputs=0")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return run.results()[-1]


@pytest.mark.slow  # 30 s; timm and torchvision models are written and converted by the tests below
def test_a_transformers_decoder_gets_token_inputs_within_its_vocabulary_and_positions(run_cli, tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    run = new(run_cli, conf, "transformers.AutoModelForCausalLM.from_config", *SMALL_LLAMA)
    assert run.returncode == 0, run.stderr[-2000:]
    text = (conf / "model" / "hf_llama.yaml").read_text()
    assert "# forward's optional inputs, not given: position_ids," in text
    assert f"converts: python -m converter --config-dir {conf} +model=hf_llama" in run.stdout
    from omegaconf import OmegaConf

    model = OmegaConf.load(conf / "model" / "hf_llama.yaml").model
    assert OmegaConf.to_container(model.inputs) == {
        "input_ids": {"shape": [2, 16], "dtype": "int64", "low": 0, "high": 1000},
        "attention_mask": {"shape": [2, 16], "dtype": "int64", "low": 1, "high": 2},
    }
    assert model.dynamic_shapes.input_ids[1] == {"name": "seq", "min": 2, "max": 48}
    result = converted_as_written(run)
    assert result["input_passing"] == {"input_ids": "positional[0]", "attention_mask": "positional[1]"}


@pytest.mark.slow  # the decoder's test runs the same path by default
def test_a_transformers_encoder_converts_as_written(run_cli, tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    run = new(run_cli, conf, "transformers.AutoModel.from_config", *SMALL_BERT, "--name", "bert_small")
    assert run.returncode == 0, run.stderr[-2000:]
    converted_as_written(run)


@pytest.mark.slow  # full-size torchvision/timm models: make test-all
def test_a_timm_model_takes_its_pretrained_cfg_input_size(run_cli, tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    run = new(run_cli, conf, "timm.create_model", "model_name=resnet10t")
    assert run.returncode == 0, run.stderr[-2000:]
    assert "shape:\n      - 2\n      - 3\n      - 176\n      - 176\n" in (conf / "model" / "resnet10t.yaml").read_text()
    converted_as_written(run)


@pytest.mark.slow  # full-size torchvision/timm models: make test-all
def test_a_torchvision_classifier_converts_as_written(run_cli, tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    run = new(run_cli, conf, "torchvision.models.resnet18", "weights=null")
    assert run.returncode == 0, run.stderr[-2000:]
    converted_as_written(run)


@pytest.mark.slow  # full-size torchvision/timm models: make test-all
def test_a_torchvision_detector_gets_a_list_of_images_and_the_verified_script_fix(run_cli, tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    run = new(
        run_cli,
        conf,
        "torchvision.models.detection.fasterrcnn_mobilenet_v3_large_320_fpn",
        "weights=null",
        "weights_backbone=null",
        "--name",
        "detector",
    )
    assert run.returncode == 0, run.stderr[-2000:]
    text = (conf / "model" / "detector.yaml").read_text()
    assert "- override /export: torchscript_script  # fix: export=torchscript_script\n" in text
    assert "    images:\n      shape:\n      - 3\n      - 224\n      - 224\n      count: 1\n" in text
    (first,) = run.results()
    assert (first["status"], first["failure"]["fix"]["verified"]) == ("failed", "passed")
    assert converts(run_cli, conf, "detector")["backend"] == "torchscript_script"


def test_an_existing_yaml_is_never_overwritten_without_force(run_cli, tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    (conf / "model").mkdir(parents=True)
    (conf / "model" / "resnet18.yaml").write_text("mine\n")
    run = new(run_cli, conf, "torchvision.models.resnet18", "weights=null")
    assert run.returncode == 2
    assert "Config error at '--name'" in run.stderr and "pass --force to overwrite it" in run.stderr
    assert (conf / "model" / "resnet18.yaml").read_text() == "mine\n"


@pytest.mark.parametrize(
    ("target", "culprit"),
    [("torchvision.models.resnet_nope", "does not resolve"), ("os.system", "outside the modules a config may call")],
)
def test_a_loader_that_does_not_resolve_or_is_refused_is_a_config_error(
    run_cli, tmp_path: Path, target, culprit
) -> None:
    conf = tmp_path / "conf"
    run = new(run_cli, conf, target)
    assert run.returncode == 2 and culprit in run.stderr
    assert not (conf / "model").exists()


def test_a_model_that_fails_after_every_fix_keeps_its_yaml_with_the_diagnosis(run_cli, tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    run = new(run_cli, conf, "tests.broken.WritesThroughData", "--allow", "tests")
    assert run.returncode == 1
    text = (conf / "model" / "WritesThroughData.yaml").read_text()
    assert "# does not convert yet [" in text and "# fix: " in text


def test_a_list_annotation_becomes_a_list_input_and_a_first_conv3d_a_video_clip() -> None:
    import torch
    from torch import nn

    from tests.broken import SumImages

    assert infer_inputs(SumImages()).inputs == {"images": {"shape": [3, 224, 224], "count": 1}}

    class Clip(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv3d(3, 4, 3)

        def forward(self, video: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
            return self.conv(video) * scale

    inferred = infer_inputs(Clip())
    assert inferred.inputs == {"video": {"shape": [2, 3, 16, 112, 112]}}
    assert inferred.optional == ["scale"]


def test_each_line_a_fix_set_gets_its_comment() -> None:
    body = "model:\n  inputs:\n    x:\n      count: 1\n  name: m\n"
    assert annotate(body, {"model.inputs.x.count": "model.inputs.x.count=1"}).splitlines()[3] == (
        "      count: 1  # fix: model.inputs.x.count=1"
    )
