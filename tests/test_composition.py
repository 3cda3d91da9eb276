"""converter.config.composition: Hydra's composition, with what goes wrong turned into one
ConfigError naming the key and the fix (the CLI's exit-2 paragraph, tests/test_config_errors.py)."""

from __future__ import annotations

import pytest

from converter.config.composition import CONF_DIR, CONFIG_NAME, compose_checked, resolved_without_hydra
from converter.config.schema import register_schema
from converter.errors import ConfigError


@pytest.fixture
def compose():
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    register_schema()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3", job_name="test"):
        yield lambda *overrides, hydra=False: compose_checked(hydra_compose, CONFIG_NAME, list(overrides), hydra=hydra)


def test_a_job_composes_and_loses_hydras_node_when_resolved(compose) -> None:
    cfg = compose("+model=classification", "export=onnx", hydra=True)
    job = resolved_without_hydra(cfg)
    assert "hydra" in cfg and "hydra" not in job
    assert (job["model"]["name"], job["export"]["backend"]) == ("classification", "onnx")
    assert isinstance(job["model"], dict), "plain dicts, not OmegaConf nodes"


def test_an_unknown_model_lists_the_ones_there_are(compose) -> None:
    with pytest.raises(ConfigError) as caught:
        compose("+model=resnet19")
    error = caught.value
    assert (error.key, error.problem) == ("model", "there is no model config named 'resnet19'")
    assert "resnet18" in error.fix and "classification" in error.fix


def test_a_misspelt_key_says_what_the_section_accepts(compose) -> None:
    with pytest.raises(ConfigError) as caught:
        compose("+model=classification", "export.stritc=false")
    assert caught.value.key == "export.stritc"
    assert "ExportConfig accepts backend, strict, dynamic, options" in caught.value.fix


def test_a_value_of_the_wrong_type_names_the_key(compose) -> None:
    with pytest.raises(ConfigError) as caught:
        compose("+model=classification", "export.dynamic=maybe")
    assert caught.value.key == "export.dynamic"
    assert caught.value.fix == "give a value of the type the schema expects (see converter/config/schema.py)"


def test_an_override_the_grammar_refuses_is_named_whole(compose) -> None:
    with pytest.raises(ConfigError) as caught:
        compose("+model=classification", "model.checkpoint=~/weights.pt")
    assert caught.value.key == "model.checkpoint"
    assert caught.value.problem.startswith("cannot parse the override 'model.checkpoint=~/weights.pt'")
    assert "key='~/file.pt'" in caught.value.fix


def test_a_misspelt_backend_option_lists_the_backends_options(compose) -> None:
    with pytest.raises(ConfigError) as caught:
        compose("+model=classification", "export=onnx", "export.options.opsett=17")
    assert caught.value.key == "export.options.opsett"
    assert (
        caught.value.fix
        == "use one of this backend's options: opset, optimize, graph_optimization_level, intra_op_threads"
    )


def test_backend_options_and_their_defaults_come_from_their_dataclass(compose) -> None:
    from converter.config.backend_options import BACKEND_OPTIONS, option_defaults

    for backend, options in BACKEND_OPTIONS.items():
        job = resolved_without_hydra(compose("+model=classification", f"export={backend}"))
        assert job["export"]["options"] == option_defaults(options), backend
    onnx = resolved_without_hydra(compose("+model=classification", "export=onnx", "export.options.opset=17"))
    assert onnx["export"]["options"]["opset"] == 17


def test_no_export_yaml_states_an_option_default_of_its_own() -> None:
    import yaml

    for path in sorted((CONF_DIR / "export").glob("*.yaml")):
        config = yaml.safe_load(path.read_text())
        assert "options" not in config, f"{path.name}: defaults belong to converter/config/backend_options.py"
        assert f"/export_options/{path.stem}@options" in config["defaults"], path.name
