"""One job's config in the three forms its stages need, built once per process from the resolved
config: the plain dict (config.yaml for the child, the cache key), the typed sections every stage
takes, and the redacted record (result.json, MLflow) without values that came from the environment."""

from __future__ import annotations

from dataclasses import dataclass
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
        return cls(plain, job_config(plain), redacted(plain, set(secret_keys)))
