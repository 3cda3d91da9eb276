"""Values read from the environment are replaced in records, also when they reach a key indirectly."""

from __future__ import annotations

from omegaconf import OmegaConf

from converter.config.redact import REDACTED, env_derived_keys, redacted


def test_direct_and_indirect_environment_values_are_found_and_replaced(monkeypatch) -> None:
    monkeypatch.setenv("CONVERTER_TEST_HOST", "user:pass@mlflow.internal")
    monkeypatch.delenv("CONVERTER_TEST_UNSET", raising=False)
    cfg = OmegaConf.create(
        {
            "tracking": {"uri": "http://${oc.env:CONVERTER_TEST_HOST}", "experiment": "plain"},
            "copy": "${tracking.uri}",
            "unset": "${oc.env:CONVERTER_TEST_UNSET,null}",
            "items": ["a", "${oc.env:CONVERTER_TEST_HOST}"],
        }
    )
    keys = env_derived_keys(cfg)
    assert keys == {"tracking.uri", "copy", "items[1]"}, "an unset variable's default is no secret"
    plain = OmegaConf.to_container(cfg, resolve=True)
    record = redacted(plain, keys)
    assert record == {
        "tracking": {"uri": REDACTED, "experiment": "plain"},
        "copy": REDACTED,
        "unset": None,
        "items": ["a", REDACTED],
    }
    assert OmegaConf.to_container(cfg, resolve=True)["tracking"]["uri"] == "http://user:pass@mlflow.internal"
