"""The models a user can pick: every YAML in a `model/` config folder."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterable, Optional


def available_models(config_dirs: Iterable[Path]) -> Dict[str, str]:
    """Model name -> its one-line description (the YAML's leading comment), later folders win."""
    models: Dict[str, str] = {}
    for folder in config_dirs:
        for path in sorted((Path(folder) / "model").glob("*.yaml")):
            models[path.stem] = _description(path)
    return dict(sorted(models.items()))


def _description(path: Path) -> str:
    first = path.read_text().lstrip().splitlines()[:1]
    return first[0].lstrip("# ").strip() if first and first[0].startswith("#") else ""


def format_catalog(models: Dict[str, str], config_dir: Optional[str] = None) -> str:
    width = max((len(n) for n in models), default=0)
    lines = ["No model selected. Pick one with +model=NAME, e.g. python -m converter +model=resnet18", "", "Models:"]
    lines += [f"  {name.ljust(width)}  {text}" for name, text in models.items()]
    lines += ["", "Backends: export=torch_export (default), export=torchscript_trace, export=torchscript_script"]
    return "\n".join(lines)
