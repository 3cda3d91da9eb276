"""converter.config.backend_options: every backend's options and defaults, stated once."""

from __future__ import annotations

import pytest

from converter.config.backend_options import BACKEND_OPTIONS, CoreMLOptions, OnnxOptions, option_defaults
from converter.errors import ConfigError
from converter.exporters import BACKENDS, build_options, get_exporter


def test_every_backend_has_its_options_here_and_its_exporter_builds_them() -> None:
    assert set(BACKEND_OPTIONS) == set(BACKENDS)
    for name, options in BACKEND_OPTIONS.items():
        assert get_exporter(name).Options is options, name


def test_defaults_are_the_fields_before_their_checks() -> None:
    assert option_defaults(OnnxOptions) == {
        "opset": 18,
        "optimize": True,
        "graph_optimization_level": "all",
        "intra_op_threads": None,
    }
    assert option_defaults(CoreMLOptions)["inputs"] is None, "null, so an override may set a mapping"
    assert CoreMLOptions().inputs == {}, "the dataclass's own check makes it a mapping"


def test_a_value_its_check_refuses_names_the_option() -> None:
    with pytest.raises(ConfigError) as caught:
        build_options(get_exporter("onnx"), {"graph_optimization_level": "fastest"})
    assert caught.value.key == "export.options"
    assert "graph_optimization_level 'fastest' is not an ONNX Runtime level" in caught.value.problem
