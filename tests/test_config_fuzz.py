"""Fuzzing the front door: hundreds of malformed overrides and YAML files, generated from the
schema's fields, each must exit 2 with one paragraph naming the key and the fix, print no
traceback, and write nothing under outputs/.

Cases run in-process (`converter.cli.main.main`), so 200+ of them cost about a minute; a sample
also runs as a user would, in a subprocess.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Tuple

import pytest

from converter.cli.main import EXIT_CONFIG, main

Case = Tuple[List[str], Optional[str]]  # (arguments after +model=resnet18, key the message must name)

INT_KEYS = [
    "seed",
    "validate.num_random_inputs",
    "benchmark.warmup",
    "benchmark.min_iterations",
    "benchmark.calls_per_turn",
    "benchmark.max_extra_rounds",
    "job.max_memory_mb",
    "benchmark.threads",
]
FLOAT_KEYS = [
    "validate.atol",
    "validate.rtol",
    "benchmark.min_time_s",
    "benchmark.cv_threshold",
    "benchmark.speedup_precision",
    "job.timeout_s",
    "job.poll_interval_s",
    "tracking.latency_regression",
    "tracking.error_drift",
    "benchmark.confidence",
]
BOOL_KEYS = [
    "validate.enabled",
    "validate.edge_values",
    "validate.reference_patched",
    "benchmark.flops",
    "benchmark.memory",
    "job.isolate",
    "job.cache",
    "export.strict",
    "export.dynamic",
    "tracking.enabled",
]
LIST_KEYS = ["model.inputs.x.shape", "benchmark.batch_sizes", "security.allowed_prefixes", "model.patches"]
SECTIONS = {
    "validate": ["atol", "rtol", "enabled"],
    "benchmark": ["warmup", "threads", "device"],
    "tracking": ["uri", "experiment", "sweep"],
    "job": ["timeout_s", "isolate", "cache"],
    "export": ["strict", "dynamic", "backend"],
    "model": ["name", "loader", "inputs"],
    "model.inputs.x": ["shape", "dtype", "low"],
}
# (override, key): values of the right type but out of range
RANGES = [
    ("validate.atol=-1", "validate.atol"),
    ("validate.rtol=-0.5", "validate.rtol"),
    ("validate.num_random_inputs=-3", "validate.num_random_inputs"),
    ("benchmark.warmup=-1", "benchmark.warmup"),
    ("benchmark.min_iterations=0", "benchmark.min_iterations"),
    ("benchmark.calls_per_turn=0", "benchmark.calls_per_turn"),
    ("benchmark.min_time_s=-2", "benchmark.min_time_s"),
    ("benchmark.cv_threshold=0", "benchmark.cv_threshold"),
    ("benchmark.speedup_precision=-0.05", "benchmark.speedup_precision"),
    ("benchmark.max_extra_rounds=-1", "benchmark.max_extra_rounds"),
    ("benchmark.threads=0", "benchmark.threads"),
    ("benchmark.confidence=1.5", "benchmark.confidence"),
    ("benchmark.confidence=0", "benchmark.confidence"),
    ("benchmark.batch_sizes=[0,2]", "benchmark.batch_sizes"),
    ("job.timeout_s=0", "job.timeout_s"),
    ("job.timeout_s=-60", "job.timeout_s"),
    ("job.max_memory_mb=0", "job.max_memory_mb"),
    ("job.max_memory_mb=-100", "job.max_memory_mb"),
    ("job.poll_interval_s=0", "job.poll_interval_s"),
    ("job.poll_interval_s=60", "job.poll_interval_s"),
    ("tracking.latency_regression=-0.1", "tracking.latency_regression"),
    ("tracking.error_drift=0.5", "tracking.error_drift"),
    ("seed=-1", "seed"),
    ("model.inputs.x.low=5", "model.inputs.x.low"),
    ("model.inputs.x.high=-1", "model.inputs.x.low"),
    ("model.inputs.x.shape=[-2,3,224,224]", "model.inputs.x.shape"),
    ("model.tolerance.atol=-1", "model.tolerance.atol"),
    ("model.tolerance.rtol=-1", "model.tolerance.rtol"),
    ("model.dynamic_shapes.x.0.min=9", "model.dynamic_shapes.x.0"),
    ("model.dynamic_shapes.x.0.max=0", "model.dynamic_shapes.x.0"),
    ("model.dynamic_shapes.x.0.min=-1", "model.dynamic_shapes.x.0"),
    ("model.dynamic_shapes.x={7:{name:b,min:1,max:4}}", "model.dynamic_shapes.x.7"),
    ("device=tpu", "device"),
    ("device=cuda:x", "device"),
    ("device=''", "device"),
    ("benchmark.batch_dim=nope benchmark.batch_sizes=[2]", "benchmark.batch_dim"),
    ("benchmark.batch_sizes=[64]", "benchmark.batch_sizes"),
]
HOSTILE = [
    "os.system",
    "shutil.rmtree",
    "builtins.exec",
    "builtins.eval",
    "pathlib.Path.unlink",
    "subprocess.run",
    "posix.system",
    "importlib.import_module",
]
HOSTILE_PLACES = [
    ("model.loader._target_={t}", "model.loader._target_"),
    ("model.wrapper={{_target_: {t}}}", "model.wrapper._target_"),
    ("model.inputs.x.factory={{_target_: {t}}}", "model.inputs.x.factory._target_"),
    (
        "model.patches=[{{target: registry.toys.Classification.forward, replacement: {t}}}]",
        "model.patches[0].replacement",
    ),
    ("model.patches=[{{target: {t}, replacement: registry.toys.Classification}}]", "model.patches[0].target"),
    ("+model.loader.inner={{_target_: {t}}}", "model.loader.inner._target_"),  # nested: Hydra instantiates it too
]
MISSING = [
    ("model.checkpoint=/no/such/file.pt", "model.checkpoint"),
    ("model.checkpoint=/tmp", "model.checkpoint"),
    ("model.checkpoint=/etc/hostname", "model.checkpoint"),
    ("model.checkpoint=/dev/null", "model.checkpoint"),
    ("model.checkpoint='~/nope.safetensors'", "model.checkpoint"),
    ("export=onnx_typo", "export"),
    ("validate=strict", "validate"),
    ("benchmark=fastest", "benchmark"),
    ("tracking=wandb", "tracking"),
    ("job=remote", "job"),
    ("model.loader._target_=registry.toys.Nope", "model.loader._target_"),
    ("model.loader._target_=registry.nope.Build", "model.loader._target_"),
    ("model.inputs.x.dtype=float33", "model.inputs.x.dtype"),
    ("model.inputs.x.dtype=tensor", "model.inputs.x.dtype"),
]
# (override, key): Hydra's grammar refuses these; the message names the override
SYNTAX = [
    ("model.inputs.x.shape=[1,2", "model.inputs.x.shape"),
    ("seed=", "seed"),
    ("=3", None),
    ("model.inputs.x.shape=]", "model.inputs.x.shape"),
    ("validate.atol=1e", "validate.atol"),
    ("~seed=1", "seed"),
    ("model.name={a:", "model.name"),
    ("export.options={run_decompositions: [}", "export.options"),
    ("model.checkpoint=~/x.pt", "model.checkpoint"),
]
BROKEN_YAML = {
    "unclosed": "name: unclosed\nloader: {_target_: registry.toys.Classification\ninputs:\n  x: {shape: [2, 320]}\n",
    "badindent": "name: badindent\nloader:\n  _target_: registry.toys.Classification\n   extra: 1\ninputs: {}\n",
    "tabbed": "name: tabbed\nloader:\n\t_target_: registry.toys.Classification\n",
    "inputs_int": "name: inputs_int\nloader: {_target_: registry.toys.Classification}\ninputs: 5\n",
    "shape_str": "name: shape_str\nloader: {_target_: registry.toys.Classification}\ninputs:\n  x: {shape: big}\n",
    "patches_map": "name: patches_map\nloader: {_target_: registry.toys.Classification}\ninputs:\n  x: {shape: [2, 320]}\npatches: {a: 1}\n",
    "unknown_key": "name: unknown_key\nloader: {_target_: registry.toys.Classification}\ninputs:\n  x: {shape: [2, 320]}\nweights: x\n",
    "no_loader": "name: no_loader\ninputs:\n  x: {shape: [2, 320]}\n",
    "no_inputs": "name: no_inputs\nloader: {_target_: registry.toys.Classification}\n",
    "no_name": "loader: {_target_: registry.toys.Classification}\ninputs:\n  x: {shape: [2, 320]}\n",
    "hostile": "name: hostile\nloader: {_target_: os.system, command: ls}\ninputs:\n  x: {shape: [2, 320]}\n",
    "hostile_nested": "name: hostile_nested\nloader: {_target_: registry.toys.Classification, x: {_target_: os.getcwd}}\ninputs:\n  x: {shape: [2, 320]}\n",
    "low_high": "name: low_high\nloader: {_target_: registry.toys.Classification}\ninputs:\n  x: {shape: [2, 320], low: 3, high: 1}\n",
    "dim_outside": "name: dim_outside\nloader: {_target_: registry.toys.Classification}\ninputs:\n  x: {shape: [2, 320]}\ndynamic_shapes:\n  x: {0: {name: b, min: 4, max: 8}}\n",
    "dim_index_str": "name: dim_index_str\nloader: {_target_: registry.toys.Classification}\ninputs:\n  x: {shape: [2, 320]}\ndynamic_shapes:\n  x: {first: {name: b}}\n",
    "list_root": "- name: list_root\n- loader: x\n",
    "scalar_root": "just a string\n",
    "dtype_bad": "name: dtype_bad\nloader: {_target_: registry.toys.Classification}\ninputs:\n  x: {shape: [2, 320], dtype: floaty}\n",
    "wrapper_int": "name: wrapper_int\nloader: {_target_: registry.toys.Classification}\nwrapper: 7\ninputs:\n  x: {shape: [2, 320]}\n",
    "tolerance_neg": "name: tolerance_neg\nloader: {_target_: registry.toys.Classification}\ninputs:\n  x: {shape: [2, 320]}\ntolerance: {atol: -1, rtol: 0}\n",
    "widens_allowlist": "# @package _global_\nmodel:\n  name: widens\n  loader: {_target_: registry.toys.Classification}\n  inputs:\n    x: {shape: [2, 320]}\nsecurity: {allowed_prefixes: [os]}\n",
    "callback": "# @package _global_\nmodel:\n  name: callback\n  loader: {_target_: registry.toys.Classification}\n  inputs:\n    x: {shape: [2, 320]}\nhydra:\n  callbacks:\n    x: {_target_: builtins.exec, source: '1'}\n",
}


def generated_cases() -> List[Tuple[str, Case]]:
    cases: List[Tuple[str, Case]] = []
    for keys, values in (
        (INT_KEYS, ("abc", "[1,2]", "{a:1}", "1.5x")),
        (FLOAT_KEYS, ("abc", "[1]", "{a:1}", "fast")),
        (BOOL_KEYS, ("maybe", "[true]", "{a:1}", "yes_please")),
    ):
        # values: (word, list, mapping, word). Each key meets one wrong word and one container, in
        # turn, so every value still meets about half the keys of its type.
        for number, key in enumerate(keys):
            word, container = values[0 if number % 2 == 0 else 3], values[1 if number // 2 % 2 == 0 else 2]
            for value in (word, container):
                cases.append((f"type:{key}={value}", ([f"{key}={value}"], key)))
    for key in LIST_KEYS:
        for value in ("abc", "{a:1}"):
            cases.append((f"type:{key}={value}", ([f"{key}={value}"], key)))
    for key in ("device", "model.name", "export.backend", "tracking.experiment"):
        cases.append((f"type:{key}=[x]", ([f"{key}=[x]"], key)))
    for section, keys in SECTIONS.items():
        for name in keys:
            key = f"{section}.{name}x"
            cases.append((f"unknown:{key}", ([f"{key}=1"], key)))
    cases.append(("unknown:bogus", (["bogus=1"], "bogus")))
    cases.append(
        (
            "sweep:model-key-before-model",
            (["--multirun", "+tiny=resnet18,classification", "model.inputs.x.low=0.5"], "model.inputs.x.low"),
        )
    )
    for override, key in RANGES:
        cases.append((f"range:{override}", (override.split(" "), key)))
    for target in HOSTILE:
        for template, key in HOSTILE_PLACES:
            override = template.format(t=target)
            cases.append((f"hostile:{target}@{key}", ([override], key)))
    for override, key in MISSING:
        cases.append((f"missing:{override}", ([override], key)))
    for override, key in SYNTAX:
        cases.append((f"syntax:{override}", ([override], key)))
    return cases


CASES = generated_cases()


@pytest.fixture(autouse=True)
def no_helper_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process cases test the front door alone: main's spare job process and MLflow writer,
    started to overlap imports with composing, would each begin importing torch or MLflow only to
    be ended by the config error (about 95 s of the machine's two cores over these cases). The
    import checks then run in this process, as they do without a spare; the cases run as a user
    would (test_a_sample_refused_as_a_user_sees_it, test_config_errors.py) keep both."""
    from converter.sweep.isolation import warm
    from converter.tracking import writer

    monkeypatch.setattr(warm, "prestart", lambda: None)
    monkeypatch.setattr(writer, "start", lambda: None)


def with_model(argv: List[str]) -> List[str]:
    return argv if argv[:1] == ["--multirun"] else ["+model=resnet18", *argv]


def check_refused(code: int, err: str, key: Optional[str], cwd: Path) -> None:
    assert code == EXIT_CONFIG, err
    assert err.startswith(f"Config error at '{key}':" if key else "Config error"), err
    assert "Fix:" in err and "Traceback" not in err, err
    assert "\n\n" not in err.strip() and len(err.strip().splitlines()) <= 2, f"one paragraph:\n{err}"
    assert not (cwd / "outputs").exists(), "a config error must write nothing"


def test_there_are_at_least_200_generated_cases() -> None:
    assert len(CASES) + len(BROKEN_YAML) >= 200


MALFORMED_INPUT = pytest.mark.guarantee(
    "Malformed input: 200+ generated overrides and YAML files (wrong types, unknown keys, bad ranges, broken YAML, "
    "missing files, hostile targets)",
    "each exits 2 with one paragraph naming the key and the fix, no traceback, nothing under outputs/",
)


@MALFORMED_INPUT
@pytest.mark.parametrize(("argv", "key"), [c for _, c in CASES], ids=[name for name, _ in CASES])
def test_malformed_override_is_a_config_error(argv: List[str], key: Optional[str], in_tmp: Path, capsys) -> None:
    code = main([*with_model(argv)])
    check_refused(code, capsys.readouterr().err, key, in_tmp)


@MALFORMED_INPUT
@pytest.mark.parametrize("name", sorted(BROKEN_YAML))
def test_malformed_model_yaml_is_a_config_error(name: str, in_tmp: Path, capsys) -> None:
    folder = in_tmp / "conf" / "model"
    folder.mkdir(parents=True)
    (folder / f"{name}.yaml").write_text(BROKEN_YAML[name])
    code = main(["--config-dir", str(in_tmp / "conf"), f"+model={name}"])
    err = capsys.readouterr().err
    check_refused(code, err, None, in_tmp)


SAMPLE = [CASES[i] for i in range(0, len(CASES), len(CASES) // 3)]


@pytest.mark.parametrize(("argv", "key"), [c for _, c in SAMPLE], ids=[name for name, _ in SAMPLE])
def test_a_sample_refused_as_a_user_sees_it(argv: List[str], key: Optional[str], run_cli, tmp_path: Path) -> None:
    run = run_cli(*with_model(argv))
    check_refused(run.returncode, run.stderr, key, tmp_path)
