"""converter.diagnosis.category_table: README's table of failure categories comes from the code
(tests/test_diagnosis.py checks README.md shows it as rendered)."""

from __future__ import annotations

from converter.diagnosis.categories import CATEGORIES
from converter.diagnosis.category_table import DESCRIPTIONS, render


def test_every_category_has_one_row_in_the_diagnosis_order() -> None:
    header, rule, *rows = render().splitlines()
    assert (header, rule) == ("| category | what it recognises | fix_overrides |", "|---|---|---|")
    assert [row.split("`")[1] for row in rows] == list(CATEGORIES)
    what, fix = DESCRIPTIONS["strict_tracing"]
    assert f"| `strict_tracing` | {what} | {fix} |" in rows
