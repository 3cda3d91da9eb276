"""converter.records.readme_section: a generated README section is replaced whole between its markers."""

from __future__ import annotations

from pathlib import Path

import pytest

from converter.records.readme_section import embed, render_or_embed, section_of

START, END = "<!-- table:start -->", "<!-- table:end -->"


def test_a_section_is_replaced_whole_and_the_rest_kept(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n{START}\nold\nrows\n{END}\nafter\n")
    embed(readme, START, END, "| new |")
    assert readme.read_text() == f"# Title\n{START}\n| new |\n{END}\nafter\n"
    assert section_of(readme.read_text(), START, END) == "| new |"


def test_a_readme_without_the_markers_is_left_alone_with_a_clear_error(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n")
    assert section_of(readme.read_text(), START, END) == ""
    with pytest.raises(SystemExit, match="has no <!-- table:start --> ... <!-- table:end --> section"):
        embed(readme, START, END, "| new |")
    assert readme.read_text() == "# Title\n"


def test_the_command_line_prints_or_embeds(tmp_path: Path, capsys) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"{START}\n{END}\n")
    assert render_or_embed(lambda: "| t |", START, END, "table", []) == 0
    assert capsys.readouterr().out == "| t |\n"
    render_or_embed(lambda: "| t |", START, END, "table", ["--readme", str(readme)])
    assert readme.read_text() == f"{START}\n| t |\n{END}\n"
