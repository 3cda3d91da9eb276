"""What the CLI lists (the models, the targets, --help's formats) comes from the code and the YAMLs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from converter.cli.model_list import available_models
from converter.exporters import BACKENDS
from converter.exporters.formats import FORMATS, backends_line, default_backend, formats
from tests.conftest import REPO, cli_env


def test_every_target_is_listed_with_the_default_marked() -> None:
    assert default_backend() == "torch_export"
    assert backends_line() == "Backends: " + ", ".join(
        f"export={name}" + (" (default)" if name == "torch_export" else "") for name in BACKENDS
    )
    assert set(FORMATS) == set(BACKENDS), "every exporter has a format name for --help"
    assert formats() == "torch.export, TorchScript, ONNX, AOTInductor, Core ML, TensorRT, OpenVINO, ExecuTorch"


def test_a_description_is_the_comments_first_whole_sentence(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "m.yaml").write_text(
        "# @package _global_\n# A model (built from m.yaml), dynamic batch. Strict (Dynamo)\n# export fails on it.\nname: m\n"
    )
    assert available_models([tmp_path]) == {"m": "A model (built from m.yaml), dynamic batch."}
    descriptions = available_models([REPO / "conf"])
    assert (
        descriptions["yolo11_pose"]
        == "YOLO11 pose estimation (ultralytics, built from yolo11n-pose.yaml), dynamic batch."
    )
    assert all(text.endswith((".", ")")) for text in descriptions.values()), descriptions


def test_the_cli_prints_them(tmp_path: Path) -> None:
    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "converter", *args], cwd=tmp_path, env=cli_env(), capture_output=True, text=True
        )
        return done.stdout

    listing = cli()
    assert backends_line() in listing.splitlines()
    assert (
        "  vit_b_16         torchvision ViT-B/16 (random init offline), dynamic batch: the transformer in make bench."
        in listing
    )
    assert f"Targets: {formats()}." in cli("--help")


def test_help_lists_the_groups_a_user_picks_from_conf_and_config_dir(tmp_path: Path) -> None:
    (tmp_path / "mine" / "model").mkdir(parents=True)
    (tmp_path / "mine" / "model" / "my_net.yaml").write_text("# Mine.\n")
    done = subprocess.run(
        [sys.executable, "-m", "converter", "--config-dir", str(tmp_path / "mine"), "--help"],
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
    )
    lines = done.stdout.splitlines()
    block = lines[next(i for i, line in enumerate(lines) if line.startswith("Config groups")) + 1 :]
    groups = [line.split(":")[0] for line in block[: block.index("")]]
    assert groups == [
        "benchmark",
        "benchmark_preset",
        "export",
        "job",
        "model",
        "sweep",
        "tiny",
        "tracking",
        "validate",
    ], "export_options (where conf/export/*.yaml take their option defaults) is no choice"
    model_line = next(line for line in done.stdout.splitlines() if line.startswith("model: "))
    assert "my_net" in model_line.split(", ") and "resnet18" in model_line.split(", ")


def test_help_is_what_hydra_prints_from_the_help_template_without_composing(tmp_path: Path) -> None:
    """converter renders --help itself (a third of a second); an override naming hydra goes through
    Hydra's own help, which composes the config first: the two print the same text."""

    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "converter", *args], cwd=tmp_path, env=cli_env(), capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    own = cli("--help")
    assert own == cli("--help", "hydra/help=converter")
    assert own.startswith("converter: export PyTorch models declaratively")
