"""`python -m converter new TARGET [key=value ...] [--name NAME] [--config-dir DIR] [--force]`

Builds the model the loader target makes (arguments as Hydra takes them: `config.model_type=llama`,
`weights=null`), reads what it takes (converter.cli.new.inference), writes DIR/model/NAME.yaml, runs
the job once, and when it fails applies the fix converter verified (fix_verification) to the YAML,
each changed line commented. Prints the command that converts the model.

Exit codes: 0 the written YAML converts, 1 it fails after every fix (the YAML is kept, with the
diagnosis in a comment), 2 a config error (a target that does not resolve or that the allowlist
refuses, an existing YAML without --force): nothing is written then.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from converter.errors import ConfigError, one_line
from converter.records.outcome import EXIT_CONFIG, EXIT_FAILED, EXIT_OK
from converter.records.results import Status
from converter.records.run_folder import read_result

RUN_OVERRIDES = ["benchmark=off"]


def parse(argv: List[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m converter new", description=__doc__.split("\n\n")[1])
    parser.add_argument("target", help="the loader: a dotted path to a function or class that builds the model")
    parser.add_argument("arguments", nargs="*", help="the loader's arguments as key=value (nested: config.x=1)")
    parser.add_argument("--name", help="the YAML's name (default: the target's last part)")
    parser.add_argument("--config-dir", type=Path, help="write DIR/model/NAME.yaml (default: conf/)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing YAML")
    parser.add_argument(
        "--run",
        action="append",
        default=[],
        metavar="OVERRIDE",
        help="an override for the job new runs (tracking=off, device=cuda); not written to the YAML",
    )
    parser.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="PREFIX",
        help="a package the loader may come from beyond the built-in ones (security.allowed_prefixes)",
    )
    return parser.parse_args(argv)


def loader_of(target: str, arguments: List[str]) -> Dict[str, Any]:
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        values = OmegaConf.to_container(OmegaConf.from_dotlist(arguments)) if arguments else {}
    except (OmegaConfBaseException, ValueError) as exc:
        raise ConfigError(
            "arguments", f"cannot read {arguments} ({one_line(exc)})", "write key=value, one each"
        ) from exc
    return {"_target_": target, **values}


def default_name(target: str, arguments: List[str]) -> str:
    """timm's model_name, a transformers config's model_type (hf_llama), else the target's last part."""
    values = dict(a.split("=", 1) for a in arguments if "=" in a)
    if values.get("model_name"):
        return values["model_name"]
    if values.get("config.model_type"):
        return "hf_" + values["config.model_type"].replace("-", "_")
    return target.rsplit(".", 1)[-1]


def check_loader(loader: Dict[str, Any], allow: List[str]) -> None:
    """The allowlist, then the import and the signature: a config error before anything is built."""
    from converter.config.dotted_paths import resolve
    from converter.config.security import check_targets
    from converter.config.signatures import check_arguments

    check_targets({"model": {"loader": loader}, "security": {"allowed_prefixes": allow}})
    check_arguments(resolve(loader["_target_"], "target"), loader, "arguments")


def build(loader: Dict[str, Any]) -> Any:
    import torch
    from hydra.utils import instantiate

    module = instantiate(loader, _convert_="all")
    if not isinstance(module, torch.nn.Module):
        raise ConfigError(
            "target",
            f"'{loader['_target_']}' built a {type(module).__name__}",
            "give a loader that returns an nn.Module",
        )
    return module.eval()


def build_with_known_fix(loader: Dict[str, Any]) -> tuple:
    """(module, loader, the override applied): a model the library refuses to build from these
    arguments is built again with the library's known fix (a pad token id past a small vocabulary)."""
    from converter.config.dotted_paths import top_package
    from converter.tensors.library_types import load_fix

    try:
        return build(loader), loader, None
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 (the loader's own refusal)
        fix = load_fix(top_package(loader["_target_"]), loader, str(exc))
        if fix is None:
            raise ConfigError(
                "arguments",
                f"'{loader['_target_']}' failed to build the model ({one_line(exc)})",
                "correct the loader's arguments",
            ) from exc
    from converter.cli.new.yaml_file import apply_overrides

    fixed, _ = apply_overrides({"model": {"loader": loader}}, [fix])
    loader = fixed["model"]["loader"]
    return build(loader), loader, fix


def main(argv: Optional[List[str]] = None) -> int:
    args = parse(list(sys.argv[1:] if argv is None else argv))
    from converter.cli.preflight import CONF_DIR

    conf_dir = (args.config_dir or CONF_DIR).resolve()
    name = args.name or default_name(args.target, args.arguments)
    path = conf_dir / "model" / f"{name}.yaml"
    try:
        if path.exists() and not args.force:
            raise ConfigError("--name", f"{path} exists", "pick another --name, or pass --force to overwrite it")
        loader = loader_of(args.target, args.arguments)
        check_loader(loader, args.allow)
        model = _model_config(name, loader)
    except ConfigError as exc:
        print(exc.paragraph(), file=sys.stderr)
        return EXIT_CONFIG
    return _write_and_run(model, path, conf_dir, args)


def _model_config(name: str, loader: Dict[str, Any]) -> Dict[str, Any]:
    from converter.cli.new.inference import infer_inputs

    try:
        module = build(loader)
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 (the loader's own refusal, named)
        raise ConfigError(
            "arguments",
            f"'{loader['_target_']}' failed to build the model ({one_line(exc)})",
            "correct the loader's arguments",
        ) from exc
    inferred = infer_inputs(module)
    if not inferred.inputs:
        raise ConfigError("target", "no input of forward could be inferred", "write model.inputs by hand")
    model = {"name": name, "loader": loader, "inputs": inferred.inputs, "dynamic_shapes": inferred.dynamic_shapes}
    model["_optional"] = inferred.optional
    model["_notes"] = inferred.notes
    return model


def _write_and_run(model: Dict[str, Any], path: Path, conf_dir: Path, args: argparse.Namespace) -> int:
    from converter.cli.new.yaml_file import apply_overrides, document, render

    optional, notes = model.pop("_optional"), model.pop("_notes")
    invocation = "python -m converter new " + " ".join(shlex.quote(a) for a in [args.target, *args.arguments])
    header = [f"{model['name']}: written by `{invocation}`"]
    if optional:
        header.append(f"forward's optional inputs, not given: {', '.join(optional)}")
    header += notes
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, render(document(model), header, {}))
    print(f"wrote {path}")
    extra = _extra(conf_dir, args.allow)
    result = _run(model["name"], [*extra, *args.run])
    command = " ".join(shlex.quote(p) for p in ["python", "-m", "converter", *extra, f"+model={model['name']}"])
    if result["status"] == Status.OK:
        print(f"converts: {command}")
        return EXIT_OK
    failure = result.get("failure") or {}
    fix = failure.get("fix") or {}
    if fix.get("verified") == "passed":
        doc, changed = apply_overrides(document(model), fix["overrides"])
        header.append(f"the first run failed [{failure.get('category')}]; converter's verified fix is applied below")
        _write(path, render(doc, header, changed))
        print(f"applied the verified fix ({' '.join(fix['overrides'])}) to {path}\nconverts: {command}")
        return EXIT_OK
    reason = fix.get("reason") or "no fix is known"
    header += [
        f"does not convert yet [{failure.get('category')}]: {(failure.get('hint') or '')[:400]}",
        f"fix: {reason}",
    ]
    _write(path, render(document(model), header, {}))
    print(f"{path} does not convert yet [{failure.get('category')}]: {reason}", file=sys.stderr)
    return EXIT_FAILED


def _write(path: Path, text: str) -> None:
    from converter.records.artifacts import write_text_atomically

    write_text_atomically(text, path)


def _extra(conf_dir: Path, allow: List[str]) -> List[str]:
    """What the command line needs besides +model=NAME: the folder, and the allowlist it widens."""
    from converter.cli.preflight import CONF_DIR

    extra = [] if conf_dir == CONF_DIR.resolve() else ["--config-dir", str(conf_dir)]
    return extra + ([f"security.allowed_prefixes=[{','.join(allow)}]"] if allow else [])


def _run(name: str, extra: List[str]) -> Dict[str, Any]:
    """The job, run as a user runs it (isolated, its fix verified); its result.json."""
    from converter.cli.preflight import CONF_DIR

    run_dir = Path("outputs") / "new" / f"{time.strftime('%Y-%m-%d_%H-%M-%S')}-{name}"
    command = [sys.executable, "-m", "converter", *extra, f"+model={name}", *RUN_OVERRIDES, f"hydra.run.dir={run_dir}"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(CONF_DIR.parent), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(command, env=env, text=True, stdout=sys.stdout, stderr=subprocess.PIPE)
    result = read_result(run_dir)
    if not result:
        sys.stderr.write(proc.stderr[-3000:])
        return {"status": Status.FAILED.value, "failure": {"category": "config", "hint": proc.stderr.strip()[-400:]}}
    return result
