"""converter.config.job_spec: one job's config in its three forms, built once."""

from __future__ import annotations

from converter.config.job_spec import JobSpec
from converter.config.schema import ConverterConfig


def _job() -> dict:
    from hydra import compose, initialize_config_dir

    from converter.config.composition import CONF_DIR, resolved_without_hydra
    from converter.config.schema import register_schema

    register_schema()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3", job_name="test"):
        return resolved_without_hydra(compose("config", ["+model=classification", "tracking.uri=http://secret:5000"]))


def test_the_dict_the_typed_sections_and_the_redacted_record_come_from_one_job() -> None:
    job = _job()
    spec = JobSpec.of(job, {"tracking.uri"})
    assert spec.job == job and spec.job is not job, "the dict is the job's, copied at the top"
    assert isinstance(spec.config, ConverterConfig)
    assert (spec.config.model.name, spec.config.export.backend) == ("classification", "torch_export")
    assert spec.config.job.timeout_s == job["job"]["timeout_s"]
    assert spec.job["tracking"]["uri"] == "http://secret:5000"
    assert spec.record["tracking"]["uri"] != "http://secret:5000", "a value from the environment stays out of records"
    assert spec.record["model"] == job["model"]


def test_without_secret_keys_the_record_is_the_job() -> None:
    job = _job()
    assert JobSpec.of(job).record == job


def test_a_job_is_typed_once_per_process_and_a_changed_job_again() -> None:
    job = _job()
    first = JobSpec.of(job, {"tracking.uri"})
    again = JobSpec.of(dict(job))
    assert again.config is first.config, "the same content: the typed config already built"
    assert again.record != first.record, "each spec redacts its own secret keys"
    changed = {**job, "seed": job["seed"] + 1}
    assert JobSpec.of(changed, {"tracking.uri"}).config.seed == job["seed"] + 1


def test_the_record_is_derived_from_the_typed_config() -> None:
    from dataclasses import asdict

    from converter.config.redact import REDACTED

    spec = JobSpec.of(_job(), {"tracking.uri"})
    assert spec.record == {**asdict(spec.config), "tracking": {**asdict(spec.config.tracking), "uri": REDACTED}}
    assert asdict(spec.config) == spec.job, "the typed config holds the whole job: config.yaml and the record agree"
