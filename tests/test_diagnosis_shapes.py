"""converter/diagnosis/shapes.py and location.py: torch's messages turned into overrides and places."""

from __future__ import annotations

from pathlib import Path

from converter.config.schema import DimConfig, InputConfig, ModelConfig
from converter.diagnosis.location import locate
from converter.diagnosis.shapes import dim_override, pinned_dimensions, suggested_fixes

MODEL = ModelConfig(
    name="m",
    loader={},
    inputs={"x": InputConfig(shape=[2, 3, 64]), "mask": InputConfig(shape=[2, 64])},
    dynamic_shapes={
        "x": {0: DimConfig(name="batch", min=1, max=64), 2: DimConfig(name="length", min=8, max=128)},
        "mask": {0: DimConfig(name="batch", min=1, max=64)},
    },
)


def test_a_dim_fix_becomes_an_override_on_every_input_that_declares_the_dim() -> None:
    message = "Constraints violated (batch)!\nSuggested fixes:\n  batch = Dim('batch', max=8)\n"
    overrides, notes = suggested_fixes(message, MODEL)
    assert overrides == [
        "model.dynamic_shapes.x={0:{name:batch,min:1,max:8}}",
        "model.dynamic_shapes.mask={0:{name:batch,min:1,max:8}}",
    ]
    assert notes == ["the model only takes batch in [?, 8]"]


def test_a_dim_pinned_to_a_constant_is_dropped_keeping_the_input_s_other_dims() -> None:
    overrides, notes = suggested_fixes("Suggested fixes:\n  length = 64\n", MODEL)
    assert overrides == ["model.dynamic_shapes.x={0:{name:batch,min:1,max:64}}"]
    assert notes[0].startswith("the model's code fixes length to 64")


def test_a_size_one_example_is_raised_to_two() -> None:
    model = ModelConfig(
        name="m",
        loader={},
        inputs={"x": InputConfig(shape=[1, 3])},
        dynamic_shapes={"x": {0: DimConfig(name="batch", min=1, max=8)}},
    )
    overrides, notes = suggested_fixes("Suggested fixes:\n  batch = 1\n", model)
    assert overrides == ["model.inputs.x.shape=[2,3]"]
    assert "specializes sizes 0 and 1" in notes[0]


def test_an_undeclared_dimension_gets_a_new_dim_named_for_its_place() -> None:
    assert dim_override(MODEL, "mask", 1, max=256) == "model.dynamic_shapes.mask={1:{name:mask_1,min:1,max:256}}"
    assert dim_override(MODEL, "x", 0, min=2) == "model.dynamic_shapes.x={0:{name:batch,min:2,max:64}}"


def test_a_static_program_s_run_time_errors_name_the_pinned_sizes() -> None:
    errors = [
        "RuntimeError: Guard failed: x.size()[0] == 2",
        "RuntimeError: Expected input at *args[1].shape[0] to be equal to 2, but got 4",
    ]
    assert pinned_dimensions(errors, ["x", "mask"]) == {("x", 0): 2, ("mask", 0): 2}


def test_the_culprit_line_is_the_user_s_never_torch_s(tmp_path: Path) -> None:
    model_file = tmp_path / "model.py"
    model_file.write_text("import torch\n\ndef forward(x):\n    return x.item() > 0\n")
    message = (
        "Could not guard on data-dependent expression\n\nfrom user code:\n"
        '   File "/site-packages/torch/nn/modules/module.py", line 1775, in _call_impl\n'
        f'   File "{model_file}", line 4, in forward\n'
    )
    found = locate(message)
    assert (found.file, found.line, found.source) == (str(model_file), 4, "return x.item() > 0")
    frames = [(str(model_file), 3), ("/usr/lib/python3/site-packages/torch/_dynamo/eval_frame.py", 900)]
    assert locate("no file named here", frames).line == 3, "the deepest frame outside torch"
    crash = ["Fatal Python error: Segmentation fault", f'  File "{model_file}", line 4 in forward']
    assert locate("", (), crash).line == 4, "faulthandler's stack, most recent call first"
    assert locate("nothing at all") is None
