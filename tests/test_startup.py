"""`--help` and `--cfg job` answer without importing torch or mlflow."""

import subprocess
import sys

import pytest

from tests.conftest import cli_env

PROBE = (
    "import sys, contextlib, io\n"
    "from converter.cli import main\n"
    "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
    "    code = main(sys.argv[1:])\n"
    "heavy = sorted(m for m in ('torch', 'mlflow', 'torchvision') if m in sys.modules)\n"
    "print(code, ','.join(heavy) or '-', len(out.getvalue()))\n"
)


@pytest.mark.parametrize("argv", [["--help"], ["+model=resnet18", "--cfg", "job"], []])
def test_light_commands_import_no_torch(argv, tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], cwd=tmp_path, env=cli_env(), capture_output=True, text=True, check=True
    )
    code, heavy, printed = proc.stdout.split()
    assert code == "0" and heavy == "-" and int(printed) > 100, proc.stdout + proc.stderr


def test_cfg_job_prints_the_resolved_config(run_cli) -> None:
    run = run_cli("+model=resnet18", "export=torchscript_trace", "--cfg", "job")
    assert run.returncode == 0, run.stderr
    assert "backend: torchscript_trace" in run.stdout and "name: resnet18" in run.stdout
    assert not (run.cwd / "outputs").exists()
