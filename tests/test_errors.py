"""converter.errors: one paragraph per config error, failures kept whole and summarised in one line."""

from __future__ import annotations

import pytest

from converter.errors import ConfigError, ConfigErrors, Failure, first_line, one_line, raise_all


def test_a_config_error_is_one_paragraph_naming_the_key_and_the_fix() -> None:
    error = ConfigError("validate.atol", "-1 is out of range.", "give 0 or more")
    assert str(error) == "Config error at 'validate.atol': -1 is out of range. Fix: give 0 or more"


def test_independent_errors_are_raised_together_and_one_alone() -> None:
    a, b = ConfigError("a", "bad a", "fix a"), ConfigError("b", "bad b", "fix b")
    raise_all([])
    with pytest.raises(ConfigError) as one:
        raise_all([a])
    assert one.value is a
    with pytest.raises(ConfigErrors) as both:
        raise_all([a, b])
    assert both.value.key == "a" and both.value.paragraph() == f"{a.paragraph()}\n{b.paragraph()}"


def test_a_one_line_reason_drops_colour_codes_and_blank_lines() -> None:
    assert first_line("\n\n  \x1b[1;31mError:\x1b[0m bad op  \nsecond") == "Error: bad op"
    assert first_line("") == ""
    assert one_line(ValueError("\nno\nmore")) == "ValueError: no"


def test_a_failure_keeps_the_exception_and_summarises_it() -> None:
    try:
        raise RuntimeError("x" * 5000)
    except RuntimeError as exc:
        failure = Failure.from_exception("export", exc)
    assert (failure.stage, failure.type, len(failure.message)) == ("export", "builtins.RuntimeError", 4000)
    assert "raise RuntimeError" in failure.traceback
    assert failure.summary(width=30) == "export: RuntimeError: xxxxxxxx"
    assert len(failure.summary(width=None)) == len("export: RuntimeError: ") + 4000


def test_a_failure_reads_back_from_its_record_and_refuses_unknown_keys() -> None:
    failure = Failure("load", "E", "m", "tb", category="c", fix={"verified": "passed"})
    assert Failure.from_dict(dict(failure.__dict__)) == failure
    assert Failure.from_dict({"stage": "s", "type": "t", "message": "m"}).traceback == ""
    with pytest.raises(ValueError, match="failure has keys this version of converter does not define: colour"):
        Failure.from_dict({**failure.__dict__, "colour": "red"})
