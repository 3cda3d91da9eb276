"""The README's "What a sweep guarantees" table, rendered from the `guarantee` marks on the tests
that prove each row, so the table cannot claim what no test checks.

    python -m tests.guarantees --readme README.md     # rewrite the README's table (make readme)
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Dict, List, Tuple

START, END = "<!-- guarantees:start -->", "<!-- guarantees:end -->"
# Modules in the order their rows appear.
MODULES = (
    "test_isolation",
    "test_disk_full",
    "test_cache",
    "test_tracking",
    "test_security",
    "test_config_fuzz",
    "test_config_checks",
)


def collect() -> List[Tuple[str, str, List[str]]]:
    """(fault, what converter guarantees, tests that prove it), rows merged by fault."""
    rows: Dict[Tuple[str, str], List[str]] = {}
    for module_name in MODULES:
        module = importlib.import_module(f"tests.{module_name}")
        for name, function in vars(module).items():
            if not name.startswith("test_") or not callable(function):
                continue
            for mark in reversed(getattr(function, "pytestmark", [])):
                if mark.name == "guarantee":
                    rows.setdefault((mark.args[0], mark.args[1]), []).append(f"`{module_name}::{name}`")
    return [(fault, outcome, tests) for (fault, outcome), tests in rows.items()]


def render() -> str:
    lines = ["| fault | what converter guarantees | proved by |", "|---|---|---|"]
    for fault, outcome, tests in collect():
        lines.append(f"| {fault} | {outcome} | {'<br>'.join(tests)} |")
    return "\n".join(lines)


def section() -> str:
    note = "Generated from the tests' `guarantee` marks by `make readme` (`python -m tests.guarantees`); do not edit by hand."
    return f"{START}\n{note}\n\n{render()}\n{END}"


def readme_section(readme: Path) -> str:
    text = readme.read_text()
    return START + text.split(START, 1)[1].split(END, 1)[0] + END


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readme", type=Path, help="replace the README's guarantees section")
    args = parser.parse_args(argv)
    if args.readme is None:
        print(render())
        return 0
    text = args.readme.read_text()
    if START not in text or END not in text:
        print(f"{args.readme} has no {START} ... {END} section", file=sys.stderr)
        return 2
    args.readme.write_text(text.replace(readme_section(args.readme), section()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
