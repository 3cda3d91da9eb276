"""`--help` and `--cfg job` answer without importing torch or mlflow."""

import subprocess
import sys

import pytest

from tests.conftest import cli_env

PROBE = (
    "import sys, contextlib, io\n"
    "from converter.cli.main import main\n"
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


def _probe(argv: list, cwd) -> tuple:
    proc = subprocess.run([sys.executable, "-c", PROBE, *argv], cwd=cwd, env=cli_env(), capture_output=True, text=True)
    code, heavy, _ = proc.stdout.split()
    return int(code), heavy, proc.stderr


def test_a_single_job_is_checked_and_run_without_torch_in_the_launching_process(tmp_path) -> None:
    # The spare child that runs the job resolves its targets: the launcher imports torch for neither.
    code, heavy, stderr = _probe(["+model=classification", "tracking=off", "benchmark=off"], tmp_path)
    assert (code, heavy) == (0, "-"), stderr
    assert len(list((tmp_path / "outputs").rglob("result.json"))) == 1


def test_a_target_that_does_not_resolve_is_a_config_error_from_the_spare(tmp_path) -> None:
    code, heavy, stderr = _probe(
        ["+model=classification", "tracking=off", "model.loader._target_=torchvision.models.resnet99"], tmp_path
    )
    assert (code, heavy) == (2, "-"), stderr
    assert "Config error at 'model.loader._target_': 'torchvision.models.resnet99' does not resolve" in stderr
    assert not (tmp_path / "outputs").exists()


def test_an_in_process_job_is_checked_in_the_launching_process(tmp_path) -> None:
    code, heavy, stderr = _probe(
        ["+model=classification", "tracking=off", "job.isolate=false", "model.loader._target_=torchvision.models.x"],
        tmp_path,
    )
    assert (code, heavy) == (2, "torch,torchvision"), stderr  # resolved here: no spare runs an in-process job
    assert "Config error at 'model.loader._target_': 'torchvision.models.x' does not resolve" in stderr


def test_the_quick_exit_waits_for_a_launchers_threads_and_child_processes() -> None:
    """main_exit skips the interpreter's teardown only when nothing of ours still runs; joblib's
    reusable workers (tests/test_isolation.py's joblib sweep) get the full teardown that ends them."""
    import subprocess
    import sys
    import threading

    from converter.cli.main import _nothing_left_running

    probe = "from converter.cli.main import _nothing_left_running; print(_nothing_left_running())"
    alone = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=cli_env(), timeout=60)
    assert alone.stdout == "True\n", alone.stderr
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert not _nothing_left_running()
    finally:
        child.kill()
        child.wait(timeout=10)
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    try:
        assert not _nothing_left_running()
    finally:
        stop.set()
        worker.join()
