"""One job's config in the three forms its stages need, built once per process from the resolved
config: the plain dict (config.yaml for the child, the cache key), the typed sections every stage
takes, and the redacted record (result.json, MLflow) without values that came from the environment.

The launching process meets each job twice, in the preflight's checks (config_checks.check_job)
and in Hydra's task; both type it through `typed_config`, which types a job the first time and
hands back the same typed config after, so a job is typed once per process."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import AbstractSet, Any, Dict, Mapping

from converter.config.redact import redacted
from converter.config.schema import ConverterConfig, job_config


@dataclass(frozen=True)
class JobSpec:
    job: Dict[str, Any]
    config: ConverterConfig
    record: Dict[str, Any]

    @classmethod
    def of(cls, job: Mapping[str, Any], secret_keys: AbstractSet[str] = frozenset()) -> JobSpec:
        """`secret_keys`: dotted keys whose values came from ${oc.env:...} (redact.env_derived_keys)."""
        plain = dict(job)
        config = typed_config(plain)
        # The record from the typed config: what every stage ran with, whatever the dict held.
        return cls(plain, config, redacted(asdict(config), set(secret_keys)))


# Typed configs this process built, by the job's content; a sweep holds tens of jobs, so all are kept.
_TYPED: Dict[str, ConverterConfig] = {}


def typed_config(job: Mapping[str, Any]) -> ConverterConfig:
    """The job as the schema's dataclasses, typed once per process and shared: stages read it and
    never change it."""
    key = json.dumps(job, sort_keys=True, default=repr)
    config = _TYPED.get(key)
    if config is None:
        config = _TYPED[key] = job_config(job)
    return config
