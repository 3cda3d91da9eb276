"""Generated sections of README.md: the text between two marker comments, replaced whole.

`make matrix`, `make readme` and the tests that keep the README true all read and write
sections this one way.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable, List, Optional


def section_of(text: str, start: str, end: str) -> str:
    """The text between the markers, stripped ('' when they are missing)."""
    if start not in text or end not in text:
        return ""
    return text.split(start, 1)[1].split(end, 1)[0].strip()


def embed(readme: Path, start: str, end: str, body: str) -> None:
    text = readme.read_text()
    if start not in text or end not in text:
        raise SystemExit(f"{readme} has no {start} ... {end} section to fill")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    readme.write_text(f"{head}{start}\n{body}\n{end}{tail}")


def render_or_embed(
    render: Callable[[], str], start: str, end: str, description: str, argv: Optional[List[str]] = None
) -> int:
    """The command line of a generated table: print it, or write it into `--readme`'s section."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--readme", type=Path, help="replace the README's section with the table")
    args = parser.parse_args(argv)
    if args.readme:
        embed(args.readme, start, end, render())
    else:
        print(render())
    return 0
