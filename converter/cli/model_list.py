"""The models a user can pick: every YAML in a `model/` config folder."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Iterable, List


def available_models(config_dirs: Iterable[Path], group: str = "model") -> Dict[str, str]:
    """Config name -> its one-line description (the YAML's leading comment), later folders win."""
    models: Dict[str, str] = {}
    for folder in config_dirs:
        for path in sorted((Path(folder) / group).glob("*.yaml")):
            models[path.stem] = _description(path)
    return dict(sorted(models.items()))


def _description(path: Path) -> str:
    """The first sentence of the YAML's leading comment (its lines joined; `@package` skipped)."""
    words: List[str] = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        text = line.lstrip("#").strip()
        if text.startswith("@package"):
            continue
        if not text:
            if words:
                break
            continue
        words.append(text)
    paragraph = " ".join(words)
    return re.split(r"(?<=[.!?])\s+(?=[A-Z(])", paragraph, maxsplit=1)[0]


def format_catalog(models: Dict[str, str], tiny: Dict[str, str]) -> str:
    width = max((len(n) for n in models), default=0)
    lines = [
        "No model selected. Pick one with +model=NAME, e.g. python -m converter +model=resnet18",
        "",
        "Models (published sizes):",
    ]
    lines += [f"  {name.ljust(width)}  {text}" for name, text in models.items()]
    lines += ["", "Small variants of the same code, for quick runs and tests (+tiny=NAME):", "  " + ", ".join(tiny)]
    from converter.exporters.formats import backends_line

    lines += ["", backends_line()]
    return "\n".join(lines)


def config_groups_text(config_dirs: Iterable[Path]) -> str:
    """--help's "group: option, ..." lines, read from the config folders a user picks from (conf/
    and --config-dir). Hydra's own listing would also show `export_options`, the ConfigStore nodes
    conf/export/*.yaml take their options from, which are not a choice."""
    groups: Dict[str, set] = {}
    for folder in config_dirs:
        for group in (p for p in Path(folder).iterdir() if p.is_dir() and p.name != "hydra"):
            groups.setdefault(group.name, set()).update(path.stem for path in group.glob("*.yaml"))
    return (
        "\n".join(f"{name}: {', '.join(sorted(options))}" for name, options in sorted(groups.items()) if options) + "\n"
    )
