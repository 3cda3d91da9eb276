"""Composing a config with Hydra, and turning what goes wrong into one paragraph naming the key.

Hydra and OmegaConf report a typo, a wrong type or an unparsable override as exceptions with
tracebacks, a missing group as a list of search paths; each becomes a ConfigError here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Optional

from converter.errors import ConfigError, first_line

# The config tree shipped beside the package (conf/config.yaml and its groups).
CONF_DIR = Path(__file__).resolve().parents[2] / "conf"
CONFIG_NAME = "config"


def parse_overrides(parser: Any, overrides: List[str]) -> List[Any]:
    """Hydra's parsed overrides; a ConfigError naming the one its grammar refuses."""
    from hydra.errors import OverrideParseException

    try:
        return parser.parse_overrides(overrides)
    except OverrideParseException as exc:
        raise _override_error(overrides, exc) from exc


def compose_checked(compose: Any, config_name: str, overrides: List[str], hydra: bool = False) -> Any:
    from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException

    try:
        return compose(config_name=config_name, overrides=overrides, return_hydra_config=hydra)
    except MissingConfigException as exc:
        raise _missing_config(exc) from exc
    except OverrideParseException as exc:
        raise _override_error(overrides, exc) from exc
    except ConfigCompositionException as exc:
        raise _composition_error(exc) from exc
    except Exception as exc:  # noqa: BLE001 (OmegaConf bugs surface as AttributeError and the like)
        text = str(exc)
        key = getattr(exc, "full_key", None) or _field(text, "full_key") or ""
        raise ConfigError(
            key,
            f"the override cannot be applied ({type(exc).__name__}: {first_line(text)})",
            "set the key whole with a value of the schema's type, or delete it first with ~KEY",
        ) from exc


def _override_error(overrides: List[str], exc: Exception) -> ConfigError:
    """Name the override Hydra's grammar refused (it reports only the failing token)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    parser = OverridesParser.create()
    culprit = None
    for override in overrides:
        try:
            parser.parse_overrides([override])
        except OverrideParseException:
            culprit = override
            break
    text = first_line(exc)
    if culprit is None:
        return ConfigError("", text, "write overrides as key=value, +key=value to add, ~key to delete")
    key = culprit.lstrip("+~").split("=", 1)[0]
    return ConfigError(
        key,
        f"cannot parse the override '{culprit}' ({text})",
        "write key=value (+key=value to add, ~key to delete); quote a value with spaces or characters "
        "such as ~ [ ] { } : in single quotes, e.g. key='~/file.pt'",
    )


def _missing_config(exc: Any) -> ConfigError:
    text = str(exc)
    found = re.search(r"Could not find '([^/']+)/([^']+)'", text)
    if not found:
        return ConfigError("", first_line(text), "check the config name and --config-dir")
    group, name = found.groups()
    options = ", ".join(exc.options or []) or "none"
    return ConfigError(
        group,
        f"there is no {group} config named '{name}'",
        f"choose one of: {options}; or add {group}/{name}.yaml under conf/ or a folder given with --config-dir",
    )


def _composition_error(exc: Exception) -> ConfigError:
    cause = exc.__cause__
    text = str(cause) if cause is not None else str(exc)
    key = getattr(cause, "full_key", None) or _field(text, "full_key") or ""
    problem = next((line.strip() for line in text.splitlines() if line.strip() and not line.startswith("In '")), text)
    if "No match in the defaults list" in str(exc):
        name = re.search(r"override '([^']+)'", str(exc))
        group = name.group(1) if name else "model"
        return ConfigError(group, first_line(exc), f"add a group that is not selected by default with '+{group}=NAME'")
    if "Could not delete from config" in text:
        found = re.search(r"(?:value of|config\.) '([^']+)'", text)
        return ConfigError(
            found.group(1) if found else key,
            problem.replace("Could not delete from config. ", "cannot delete: "),
            "~KEY deletes a key the config has; ~KEY=VALUE deletes it only when it holds VALUE",
        )
    if "is incompatible with (int)" in problem and ".dynamic_shapes." in key:
        input_key = (
            key.split(".dynamic_shapes.", 1)[0] + ".dynamic_shapes." + key.split(".dynamic_shapes.", 1)[1].split(".")[0]
        )
        return ConfigError(
            key,
            "a Dim's index is an integer key, which a dotted path cannot reach",
            f"set the input's whole Dim: {input_key}={{0:{{name:batch,min:1,max:8}}}}",
        )
    typed_entry = _new_typed_entry(str(exc), text, key)
    if typed_entry:
        typed_map, entry = typed_entry.rsplit(".", 1)
        parent = getattr(cause, "parent_node", None)
        entries = [str(name) for name in parent.keys()] if hasattr(parent, "keys") else []
        has = f" (it has {', '.join(entries)}: check the spelling)" if entries and entry not in entries else ""
        return ConfigError(
            typed_entry,
            f"{typed_map} has no entry '{entry}'{has}, and a new one cannot be added on the command line: "
            "OmegaConf refuses a plain mapping where the schema types each entry",
            "add it to the model's YAML (conf/model/NAME.yaml, or a copy in a folder given with --config-dir); "
            "the command line changes the entries the YAML has, e.g. model.inputs.x.shape=[1,3,224,224]",
        )
    if "not in '" in problem:
        schema = _field(text, "object_type")
        allowed = _allowed_keys(schema)
        fix = f"remove or correct it; {schema} accepts {allowed}" if allowed else "remove or correct the key"
    elif "not in struct" in problem and key.startswith("export.options.") and getattr(cause, "parent_node", None):
        fix = f"use one of this backend's options: {', '.join(str(name) for name in cause.parent_node.keys())}"
    elif "not in struct" in problem:
        fix = "check the spelling; a key the config does not have yet needs a leading '+' (+key=value)"
    elif any(
        words in problem for words in ("could not be converted", "Invalid type", "incompatible", "is not a valid")
    ):
        fix = "give a value of the type the schema expects (see converter/config/schema.py)"
    else:
        fix = "correct the value named here"
    return ConfigError(key, problem, fix)


# Maps whose entries the schema types (Dict[str, InputConfig], Dict[int, DimConfig]): OmegaConf 2.3
# merges into an entry they have but cannot add one from a plain mapping, with + or without.
_TYPED_MAPS = ("model.inputs", "model.dynamic_shapes")


def _new_typed_entry(message: str, cause_text: str, missing_key: str) -> Optional[str]:
    """'model.inputs.labels' when the failed override adds an entry to a typed map, else None (also
    when what is missing lies inside an entry the map has: a Dim index, model.dynamic_shapes.x.7)."""
    found = re.search(r"override '?\+{0,2}([\w.]+)", message)
    if not found or not ("not in struct" in cause_text or "is not a subclass of" in cause_text):
        return None
    key = found.group(1)
    for typed_map in _TYPED_MAPS:
        if key.startswith(typed_map + "."):  # the entry, also for a key inside it (+model.inputs.ids.shape=...)
            entry = ".".join(key.split(".")[: typed_map.count(".") + 2])
            return None if missing_key.count(".") > entry.count(".") else entry
    return None


def _field(text: str, name: str) -> Optional[str]:
    found = re.search(rf"{name}=?:?\s*([\w.\[\]]+)", text)
    return found.group(1) if found else None


def _allowed_keys(schema: Optional[str]) -> str:
    from converter.config import schema as schema_module

    cls = getattr(schema_module, schema or "", None)
    fields = getattr(cls, "__dataclass_fields__", None)
    return ", ".join(fields) if fields else ""


def resolved_without_hydra(cfg: Any) -> Dict[str, Any]:
    """The job's config as plain, resolved dicts; Hydra's own node holds interpolations only a running job resolves."""
    from omegaconf import OmegaConf

    return {
        key: OmegaConf.to_container(cfg[key], resolve=True) if OmegaConf.is_config(cfg[key]) else cfg[key]
        for key in cfg
        if key != "hydra"
    }
