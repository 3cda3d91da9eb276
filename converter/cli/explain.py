"""`python -m converter explain PATH`: the diagnosis of earlier runs, read from result.json.

PATH is a run folder (one job) or a folder holding many (a sweep, outputs/): failed jobs are
grouped by category, the most frequent first, each with its location, hint and fix.
Imports nothing heavy: it reads files.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any, List, Mapping, Optional

from converter.records.outcome import category_counts, category_of, results_under


def explain_one(result: Mapping[str, Any], width: int = 100) -> str:
    failure = result.get("failure") or {}
    where = f"{result['model']}/{result['backend']}"
    lines = [f"{where}: {result['status']} at stage '{failure.get('stage', '?')}'  [{result.get('run_dir', '')}]"]
    location = failure.get("location")
    if location:
        lines.append(
            f"  where: {location['file']}:{location['line']}"
            + (f"  {location['source']}" if location.get("source") else "")
        )
    message = (failure.get("message") or "").strip().splitlines()
    if message:
        lines.append(f"  error: {failure.get('type', '').rsplit('.', 1)[-1]}: {message[0][: width * 2]}")
    if failure.get("hint"):
        lines += textwrap.wrap(failure["hint"], width, initial_indent="  hint: ", subsequent_indent="        ")
    from converter.records.fix_record import fix_line

    line = fix_line(failure)
    if line:
        lines.append(f"  {line}")
    return "\n".join(lines)


def explain(path: Path) -> str:
    results = results_under(path)
    failed = [r for r in results if category_of(r)]
    if not results:
        return f"no result.json at or under {path}"
    if not failed:
        return f"{len(results)} job(s) under {path}, all ok: nothing to explain"
    sections = [f"{len(failed)} of {len(results)} job(s) failed under {path}"]
    for category, count in category_counts(results):
        sections.append(f"\n== {category} ({count})")
        sections += [explain_one(r) for r in failed if category_of(r) == category]
    return "\n".join(sections)


def main(argv: Optional[List[str]] = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m converter explain", description=__doc__)
    parser.add_argument("path", type=Path, help="a run folder, a sweep folder or outputs/")
    args = parser.parse_args(argv)
    if not args.path.exists():
        print(
            f"explain: no folder at '{args.path}'. Fix: give a run folder, a sweep folder or outputs/.", file=sys.stderr
        )
        return 2
    try:
        print(explain(args.path))
    except ValueError as exc:  # a record this version cannot read (run_folder.read_record)
        print(f"explain: {exc}. Fix: explain it with the converter version that wrote it.", file=sys.stderr)
        return 2
    return 0
