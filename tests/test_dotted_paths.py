"""converter.config.dotted_paths: a dotted path in a config resolves, or the error names the key."""

from __future__ import annotations

import pytest

from converter.config.dotted_paths import resolve, top_package
from converter.errors import ConfigError


def test_a_dotted_path_resolves_to_its_object() -> None:
    import os.path

    assert resolve("os.path.join", "model.loader._target_") is os.path.join
    assert top_package("registry.common.SelectOutput") == "registry"


@pytest.mark.parametrize(
    "path, problem",
    [
        ("", "expected a dotted import path, got ''"),
        ("os.path.no_such_name", "'os.path.no_such_name' does not resolve"),
        ("no_such_package.thing", "'no_such_package.thing' does not resolve"),
    ],
)
def test_a_path_that_does_not_resolve_names_the_key(path: str, problem: str) -> None:
    with pytest.raises(ConfigError) as raised:
        resolve(path, "model.wrapper._target_")
    assert raised.value.key == "model.wrapper._target_"
    assert raised.value.problem.startswith(problem)
