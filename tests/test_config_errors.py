"""Bad input fails at start-up: one paragraph naming the key and the fix, exit 2, nothing written."""

from pathlib import Path

import pytest

from converter.cli.main import EXIT_CONFIG, main

CASES = [
    (["+model=nope"], "'model'", "there is no model config named 'nope'"),
    (["model=resnet18"], "'model'", "+model=NAME"),
    (["+model=resnet18", "seed=abc"], "'seed'", "could not be converted to Integer"),
    (
        ["+model=resnet18", "model.inputs.x.lowx=1"],
        "'model.inputs.x.lowx'",
        "InputConfig accepts shape, dtype, low, high",
    ),
    (["+model=resnet18", "export=onnx_typo"], "'export'", "torch_export"),
    (
        ["+model=resnet18", "model.loader._target_=torchvision.models.resnet1B"],
        "'model.loader._target_'",
        "does not resolve",
    ),
    (["+model=resnet18", "model.checkpoint=/no/such/file.pt"], "'model.checkpoint'", "no file at"),
    (["+model=resnet18", "device=tpu"], "'device'", "device=cpu"),
    (["+model=resnet18", "+export.options.bogus=1"], "'export.options.bogus'", "run_decompositions"),
    (
        ["+model=resnet18", "model.dynamic_shapes.x={0:{name:batch,min:4,max:8}}"],
        "'model.dynamic_shapes.x.0'",
        "outside",
    ),
    (["+model=resnet18", "model.inputs.x.dtype=float33"], "'model.inputs.x.dtype'", "not a torch dtype"),
    (["+model=resnet18", "model.name=???"], "'model.name'", "required key has no value"),
    (
        [
            "+model=resnet18",
            "model.patches=[{target: torchvision.models.ResNet.nope, replacement: registry.common.SelectOutput}]",
        ],
        "'model.patches[0].target'",
        "does not resolve",
    ),
    (["+model=resnet18", "model.inputs.x.shape=null"], "'model.inputs.x'", "neither a shape nor a factory"),
    (["--multirun", "+model=resnet18,nope"], "'model'", "there is no model config named 'nope'"),
    (
        ["+model=resnet18", "model.inputs.x.dtype=int64", "model.inputs.x.low=3", "model.inputs.x.high=3"],
        "'model.inputs.x.high'",
        "draw from [low, high) as torch.randint does, so this range is empty",
    ),
    (["+model=resnet18", "diagnosis.max_fix_attempts=0"], "'diagnosis.max_fix_attempts'", "1 or more"),
    # OmegaConf cannot add an entry to a map whose entries the schema types: say so, and where it can go.
    (
        ["+model=resnet18", "+model.inputs.labels={shape:[2,1],dtype:int64}"],
        "'model.inputs.labels'",
        "model.inputs has no entry 'labels', and a new one cannot be added on the command line",
    ),
    (["+model=resnet18", "+model.inputs.labels.shape=[2,1]"], "'model.inputs.labels'", "add it to the model's YAML"),
    (["+model=resnet18", "model.inputs.X.shape=[2,1]"], "'model.inputs.X'", "(it has x: check the spelling)"),
    (
        ["+model=resnet18", "+model.dynamic_shapes.labels={0:{name:batch,min:1,max:16}}"],
        "'model.dynamic_shapes.labels'",
        "model.dynamic_shapes has no entry 'labels'",
    ),
]


@pytest.mark.parametrize(("argv", "key", "words"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_config_error_exits_2_with_one_paragraph(argv, key, words, in_tmp: Path, capsys) -> None:
    assert main(argv) == EXIT_CONFIG
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"Config error at {key}:"), err
    assert words in err
    assert "Fix:" in err
    assert len(err.splitlines()) == 1, "one paragraph, no traceback"
    assert not (in_tmp / "outputs").exists(), "a config error must write nothing"


def test_no_model_lists_the_models(in_tmp: Path, capsys) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    for name in ("classification", "input_confirm", "resnet18"):
        assert f"  {name} " in out
    assert not (in_tmp / "outputs").exists()


def test_user_config_dir_models_are_listed(in_tmp: Path, capsys) -> None:
    (in_tmp / "mine" / "model").mkdir(parents=True)
    (in_tmp / "mine" / "model" / "my_net.yaml").write_text("# My own net\nname: my_net\n")
    assert main(["--config-dir", str(in_tmp / "mine")]) == 0
    listed = [line.split(None, 1) for line in capsys.readouterr().out.splitlines() if line.startswith("  ")]
    assert ["my_net", "My own net"] in listed
