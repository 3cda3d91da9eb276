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


@pytest.mark.parametrize(
    "argv, started",
    [
        (["+model=resnet18"], ["spare", "writer"]),
        (["+model=resnet18", "tracking=off"], ["spare"]),
        (["+model=resnet18", "job=inprocess"], ["writer"]),
        (["--multirun", "+model=resnet18,classification"], ["writer"]),
        (["-m", "+sweep=nightly", "+tracking.enabled=false"], []),
        (["+tiny=sam2"], ["spare", "writer"]),
        (["+model=resnet18", "--cfg", "job"], []),
        (["+model=resnet18", "--cfg=job"], []),
        (["+model=resnet18", "--help"], []),
        (["export=onnx"], []),  # no job selected: the launcher's error, nothing started
        (["sync", "outputs/x/model=y"], []),
        ([], []),
    ],
)
def test_the_helpers_start_from_the_bare_command_line(argv, started, monkeypatch) -> None:
    """converter/__main__.py starts them before Hydra's import, from the tokens alone."""
    from converter.cli import helpers_start
    from converter.sweep.isolation import warm
    from converter.tracking import writer

    calls = []
    monkeypatch.setattr(warm, "prestart", lambda: calls.append("spare"))
    monkeypatch.setattr(writer, "start", lambda: calls.append("writer"))
    helpers_start.start_helpers(argv)
    assert calls == started


def test_a_command_line_hydra_refuses_leaves_no_helper_running(tmp_path) -> None:
    """The spare and the writer start before Hydra parses the line; a line it refuses ends them too."""
    import time
    import uuid

    import psutil

    mark = uuid.uuid4().hex
    env = {**cli_env(), "CONVERTER_TEST_MARK": mark, "CONVERTER_TRACKING_URI": f"sqlite:///{tmp_path / 'm.db'}"}
    with open(tmp_path / "err.txt", "w") as err:  # a file, not a pipe, whose end would wait for the helpers
        code = subprocess.call(
            [sys.executable, "-m", "converter", "+model=classification", "--no-such-flag"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            timeout=60,
        )
    assert code == 2 and "unrecognized arguments: --no-such-flag" in (tmp_path / "err.txt").read_text()

    def ours() -> list:
        found = []
        for proc in psutil.process_iter(["cmdline"]):
            try:
                if (
                    "converter" in " ".join(proc.info["cmdline"] or [])
                    and proc.environ().get("CONVERTER_TEST_MARK") == mark
                ):
                    found.append(proc)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return found

    deadline = time.monotonic() + 1  # the kernel ends the spare with its parent; the writer was ended before
    while ours() and time.monotonic() < deadline:
        time.sleep(0.1)
    left = ours()
    for proc in left:
        proc.kill()
    assert not left, [p.info["cmdline"] for p in left]
