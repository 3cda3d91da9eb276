"""repro/ in a failed job's run folder: the failing call on its own, without converter.

`repro.py` needs only torch, Hydra's `instantiate` and the model's code: it rebuilds the
module from config.yaml, applies the patches with unittest.mock, loads the saved inputs and
makes the call that failed (the export, or artifact vs eager on the failing case). It exits
non-zero with the same exception, so it serves a debugger, a bug report or a bisect.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Dict, Mapping

from converter.config.schema import DEFAULT_ATOL, DEFAULT_RTOL, ConverterConfig
from converter.errors import Failure
from converter.records.artifacts import write_text_atomically

REPRO_DIR = "repro"

_SCRIPT = '''"""Reproduce {where}: {summary}

Needs only the installed packages (torch, hydra-core, the model's library): python repro.py
Exit 0 means the failure did not reproduce.
"""

import contextlib
import pathlib
import sys
from unittest import mock

import torch
from hydra.utils import get_object, instantiate
from omegaconf import OmegaConf

HERE = pathlib.Path(__file__).resolve().parent
sys.path[:0] = {import_paths!r}  # where the model's code was importable from
CFG = OmegaConf.to_container(OmegaConf.load(HERE / "config.yaml"), resolve=True)
MODEL, EXPORT = CFG["model"], CFG["export"]
STAGE = {stage!r}
ARTIFACT = HERE.parent / {artifact!r}


def build():
    module = instantiate(MODEL["loader"], _convert_="all")
    if MODEL.get("checkpoint"):
        state = torch.load(MODEL["checkpoint"], map_location="cpu", weights_only=True)
        for key in ("state_dict", "model"):
            if isinstance(state, dict) and isinstance(state.get(key), dict):
                state = state[key]
        module.load_state_dict(state)
    module.eval()
    if MODEL.get("wrapper"):
        module = instantiate(MODEL["wrapper"], module, _convert_="all").eval()
    return module.to(CFG["device"])


def patched():
    stack = contextlib.ExitStack()
    for patch in MODEL.get("patches") or []:
        stack.enter_context(mock.patch(patch["target"], new=get_object(patch["replacement"])))
    return stack


def dynamic_shapes(names):
    declared = MODEL.get("dynamic_shapes") or {{}} if EXPORT.get("dynamic", True) else {{}}
    if not declared:
        return None
    dims = {{}}
    for per_index in declared.values():
        for dim in per_index.values():
            dims.setdefault(dim["name"], torch.export.Dim(dim["name"], min=dim["min"], max=dim["max"]))
    return tuple(
        {{int(i): dims[d["name"]] for i, d in declared[n].items()}} if declared.get(n) else None for n in names
    )


def split(inputs):
    spec = MODEL["inputs"]
    args = tuple(v for n, v in inputs.items() if not (spec[n] or {{}}).get("keyword"))
    return args, {{n: v for n, v in inputs.items() if (spec[n] or {{}}).get("keyword")}}


def export(module, inputs):
    args, kwargs = split(inputs)
    backend = EXPORT["backend"]
    if backend == "torch_export":
        strict = EXPORT["strict"] if EXPORT["strict"] != "auto" else False  # auto ends in non-strict
        with torch.no_grad():
            return torch.export.export(
                module, args, kwargs or None, dynamic_shapes=dynamic_shapes(list(inputs)), strict=strict
            )
    if backend == "torchscript_trace":
        return torch.jit.trace(module, args, strict=EXPORT["strict"] is not False)
    if backend == "torchscript_script":
        return torch.jit.script(module)
    raise SystemExit(f"repro.py does not know backend {{backend}}")


def main():
    torch.manual_seed(CFG["seed"])
    with patched():
        module = build()
    if STAGE == "load":
        print("loaded without error: the failure did not reproduce")
        return
    inputs = torch.load(HERE / "inputs.pt", weights_only=False)
    if STAGE == "reference":
        args, kwargs = split(inputs)
        module(*args, **kwargs)
    elif STAGE == "export":
        with patched():
            export(module, inputs)
    elif STAGE == "validate":
        failing = torch.load(HERE / "failing_inputs.pt", weights_only=False)
        artifact = (
            torch.export.load(str(ARTIFACT)).module() if ARTIFACT.suffix == ".pt2" else torch.jit.load(str(ARTIFACT))
        )
        with torch.no_grad():
            args, kwargs = split({{k: v.clone() if hasattr(v, "clone") else v for k, v in failing.items()}})
            expected = module(*args, **kwargs)
            args, kwargs = split({{k: v.clone() if hasattr(v, "clone") else v for k, v in failing.items()}})
            actual = artifact(*args, **kwargs)
        torch.testing.assert_close(actual, expected, atol={atol!r}, rtol={rtol!r})
    print("no error: the failure did not reproduce")


if __name__ == "__main__":
    main()
'''


def _import_paths() -> list:
    """The working directory and the source folders on sys.path (not the interpreter's own)."""
    paths = [os.getcwd(), *(p for p in sys.path if p and Path(p).is_dir() and "/lib/python" not in p)]
    return list(dict.fromkeys(paths))


def write_repro(job: ConverterConfig, run_dir: Path, failure: Failure, state: Dict[str, Any]) -> None:
    """repro/config.yaml (the typed job as YAML), repro/inputs.pt (the example),
    repro/failing_inputs.pt, repro/repro.py."""
    import torch
    from omegaconf import OmegaConf

    folder = run_dir / REPRO_DIR
    folder.mkdir(parents=True, exist_ok=True)
    config = OmegaConf.structured(job)
    plan = state.get("inputs")
    if plan is not None:  # as the job bound them by name: repro.py passes each input the same way
        for name, spec in plan.specs.items():
            config.model.inputs[name].keyword = spec.keyword
    write_text_atomically(OmegaConf.to_yaml(config), folder / "config.yaml")
    cases = state.get("cases") or []
    if cases:
        torch.save(cases[0].inputs, folder / "inputs.pt")
    validation: Mapping[str, Any] = {}
    if failure.stage == "validate" and cases:
        validation = state.get("validation") or {}
        failing = next((i for i, c in enumerate(validation.get("cases") or []) if not c.get("passed")), 0)
        torch.save(cases[failing].inputs, folder / "failing_inputs.pt")
    artifact = next((p.name for p in run_dir.glob("model.*") if p.suffix in (".pt2", ".pt")), "model.pt2")
    script = _SCRIPT.format(
        where=f"{job.model.name}/{job.export.backend}",
        summary=failure.summary(200).replace('"""', "'''"),
        import_paths=_import_paths(),
        stage=failure.stage,
        artifact=artifact,
        atol=float(validation.get("atol") or DEFAULT_ATOL),
        rtol=float(validation.get("rtol") or DEFAULT_RTOL),
    )
    write_text_atomically(script, folder / "repro.py")
