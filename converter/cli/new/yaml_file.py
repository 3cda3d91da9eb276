"""The YAML `converter new` writes: Hydra's global package (so a fix may also pick the export
target), `model:` holding the model, and a comment on each line a verified fix changed."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Sequence, Tuple


def document(model: Mapping[str, Any]) -> Dict[str, Any]:
    return {"model": dict(model)}


def apply_overrides(doc: Dict[str, Any], overrides: Sequence[str]) -> Tuple[Dict[str, Any], Dict[str, str]]:
    """The document with Hydra overrides applied as a user would edit the YAML: `export=NAME` becomes
    the defaults list's `override /export: NAME`, `key=value` (also `+`, `++`) sets, `~key` deletes.
    Returns it with {dotted key: the override} for the lines to comment."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    parser = OverridesParser.create()
    config = OmegaConf.create(doc)
    changed: Dict[str, str] = {}
    defaults: List[Dict[str, Any]] = []
    for text in overrides:
        override = parser.parse_override(text)
        key = override.key_or_group
        if override.is_delete():
            parent, _, leaf = key.rpartition(".")
            node = OmegaConf.select(config, parent) if parent else config
            if node is not None and leaf in node:
                del node[leaf]
            changed[f"~{key}"] = text
            continue
        value = override.value()
        if "." not in key and key not in ("model",):  # a config group: export=torchscript_script
            defaults.append({f"override /{key}": value})
            changed[f"defaults:/{key}"] = text
            continue
        OmegaConf.update(config, key, value, merge=False, force_add=True)
        changed[key] = text
    result = OmegaConf.to_container(config)
    if defaults:
        result = {"defaults": [*defaults, "_self_"], **result}
    return result, changed


def render(doc: Mapping[str, Any], header: Sequence[str], changed: Mapping[str, str]) -> str:
    from omegaconf import OmegaConf

    body = OmegaConf.to_yaml(OmegaConf.create(dict(doc)))
    lines = ["# @package _global_", *(f"# {line}" if line else "#" for line in header)]
    deleted = [text for key, text in changed.items() if key.startswith("~")]
    if deleted:
        lines.append(f"# deleted by the verified fix: {' '.join(deleted)}")
    return "\n".join(lines) + "\n" + annotate(body, changed) + ("" if body.endswith("\n") else "\n")


_KEY_LINE = re.compile(r"^(\s*)(- )?([^\s:#][^:]*):(?:\s|$)")


def annotate(body: str, changed: Mapping[str, str]) -> str:
    """Append `# fix: OVERRIDE` to each line whose dotted key a fix set (block-style YAML, as OmegaConf writes it)."""
    out: List[str] = []
    stack: List[Tuple[int, str]] = []
    for line in body.splitlines():
        found = _KEY_LINE.match(line)
        comment = ""
        if found and not found.group(2):
            indent, key = len(found.group(1)), found.group(3).strip().strip("'\"")
            while stack and stack[-1][0] >= indent:
                stack.pop()
            path = ".".join([k for _, k in stack] + [key])
            stack.append((indent, key))
            if path in changed:
                comment = f"  # fix: {changed[path]}"
        elif line.lstrip().startswith("- override /"):
            group = line.split("/", 1)[1].split(":", 1)[0].strip()
            if f"defaults:/{group}" in changed:
                comment = f"  # fix: {changed[f'defaults:/{group}']}"
        out.append(line + comment)
    return "\n".join(out)
