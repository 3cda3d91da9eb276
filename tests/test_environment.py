"""converter.job.environment: the versions recorded beside every artifact, by distribution name."""

from __future__ import annotations

import platform
from importlib import metadata

from converter.job.environment import distribution_of, versions


def test_versions_name_python_torch_and_the_models_distribution() -> None:
    assert versions("torchvision") == {
        "python": platform.python_version(),
        "torch": metadata.version("torch"),
        "torchvision": metadata.version("torchvision"),
    }
    assert versions(None) == {"python": platform.python_version(), "torch": metadata.version("torch")}


def test_a_package_is_recorded_under_the_distribution_that_provides_it() -> None:
    assert distribution_of("yaml") == "PyYAML"
    assert versions("yaml")["PyYAML"] == metadata.version("PyYAML")
    assert distribution_of("no_such_package") is None
    assert "no_such_package" not in versions("no_such_package")
