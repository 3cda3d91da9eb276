"""The README's guarantee table is the one the tests' marks generate, and each row names a real test."""

from pathlib import Path

from tests.guarantees import collect, readme_section, section

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_fault_row_is_proved_by_at_least_one_test() -> None:
    rows = collect()
    assert len(rows) >= 15
    assert all(tests for _, _, tests in rows)


def test_the_readme_table_is_generated_not_hand_edited() -> None:
    assert readme_section(README) == section(), "README.md is stale: run `make readme`"
