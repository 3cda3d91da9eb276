"""Typed schema of every config group, registered in Hydra's ConfigStore.

Hydra merges each YAML onto these dataclasses, so a misspelt key or a value of
the wrong type fails at composition, before anything heavy runs. This module
imports neither torch nor any model library: `--help` and `--cfg` stay fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

from omegaconf import MISSING

SCHEMA_NAME = "converter_schema"


@dataclass
class DimConfig:
    """One dynamic dimension: inputs that name the same Dim share one `torch.export.Dim`."""

    name: str = MISSING
    min: int = 1
    max: int = 64


@dataclass
class InputConfig:
    """One named example input: a random tensor, or a value built by `factory`.

    `factory` is `{_target_: ..., **kwargs}` for structured inputs (points, prompts,
    token ids with rules). It is called as `factory(dims=..., generator=..., device=..., **kwargs)`
    where `dims` maps Dim names to sizes, so validation can ask for other sizes.
    """

    shape: Optional[List[int]] = None
    dtype: str = "float32"
    low: float = 0.0
    high: float = 1.0
    # Typed Any for the reason given at ModelConfig.wrapper; preflight checks its shape.
    factory: Any = None
    # Pass this input by keyword (forward(x, *, flag=...)) instead of by position.
    keyword: bool = False
    # A constant instead of a tensor: `value` as it is (bool, int, float, string or null).
    constant: bool = False
    value: Any = None
    # A list of `count` tensors of `shape` (detection models take a list of images).
    count: Optional[int] = None


@dataclass
class PatchConfig:
    """`target` ("package.module.Class.attr") is replaced by the object at `replacement`."""

    target: str = MISSING
    replacement: str = MISSING


@dataclass
class ToleranceConfig:
    atol: float = MISSING
    rtol: float = MISSING


@dataclass
class ModelConfig:
    name: str = MISSING
    # `_target_` plus kwargs; called to build the nn.Module (random init unless `checkpoint`).
    loader: Dict[str, Any] = MISSING
    # `_target_` plus kwargs, called with the loaded module as first argument; null: no wrapper.
    # Typed Any (checked in preflight): OmegaConf 2.3 cannot merge a command-line dict into a
    # null Optional[Dict] node ("'NoneType' object has no attribute 'get'").
    wrapper: Any = None
    patches: List[PatchConfig] = field(default_factory=list)
    inputs: Dict[str, InputConfig] = MISSING
    # input name -> dimension index -> Dim.
    dynamic_shapes: Dict[str, Dict[int, DimConfig]] = field(default_factory=dict)
    checkpoint: Optional[str] = None
    # The tolerance this model's outputs need (float noise of a deep net); validate.atol/rtol beat it.
    tolerance: Optional[ToleranceConfig] = None
    variant: Optional[str] = None
    # Submodules to trace before scripting the rest (a hybrid, for export=torchscript_script).
    traced_submodules: List[str] = field(default_factory=list)
    # Distribution whose version result.json records; defaults to the loader's top package.
    library: Optional[str] = None


@dataclass
class ExportConfig:
    backend: str = MISSING
    # torch.export: true (Dynamo), false (Python-level tracing) or "auto" (strict, then non-strict
    # where Dynamo fails; result.json's strict_mode says which). torch.jit.trace: its own strictness.
    # Typed Any so that true, false and "auto" all compose; preflight checks the value.
    strict: Any = "auto"  # as conf/export/*.yaml say, but for TorchScript (true: its own default)
    # Declare model.dynamic_shapes to the exporter. false exports static shapes while validation
    # still tries every Dim size: mvit_v1_b's "Expected input at *args[0].shape[0] to be equal to 2,
    # but got 4" (torch.export tutorial, torch 2.5; "Guard failed: x.size()[0] == 2" in 2.14), on purpose.
    dynamic: bool = True
    # Backend-specific options, checked against the backend's own option dataclass.
    options: Dict[str, Any] = field(default_factory=dict)


# Tolerances when neither validate.atol/rtol nor the model's tolerance block sets one.
# Where `make ui` serves the MLflow UI for the embedded store (report.html links and the landing page).
LOCAL_UI_URL = "http://127.0.0.1:5000"
DEFAULT_ATOL = 1e-4
DEFAULT_RTOL = 1e-4


@dataclass
class ValidateConfig:
    enabled: bool = True
    # null: the model's tolerance block, else DEFAULT_ATOL/RTOL. A value set here (command line,
    # sweep preset) beats the model's block: an explicit request is never silently loosened.
    atol: Optional[float] = None
    rtol: Optional[float] = None
    # Fresh random inputs at the example sizes, on top of the Dim min/mid/max cases.
    num_random_inputs: int = 2
    # Inputs filled with each input's `low` and `high`: they reach branches random data rarely does.
    edge_values: bool = True
    # Compute the eager reference with the patches active; by default it runs the original
    # code, so a patch that changes the numbers is caught rather than trusted.
    reference_patched: bool = False


@dataclass
class BenchmarkConfig:
    enabled: bool = True
    warmup: int = 3
    min_iterations: int = 10
    min_time_s: float = 1.0
    # Timed calls per turn. Contenders take turns (A B B A ...), each turn opening with one
    # untimed call that lets the other runtime's idle threads stop spinning (see timing.py).
    calls_per_turn: int = 3
    # Above this coefficient of variation, a contender is reported as noisy (its calls spread).
    cv_threshold: float = 0.10
    # Take more rounds, up to max_extra_rounds, while the speedup (a ratio of medians) is known to
    # worse than +- this fraction at `confidence` (0.05: +-5%); more calls narrow it, not the CV.
    speedup_precision: float = 0.05
    max_extra_rounds: int = 3
    # torch intra-op threads for the measurement (null: leave torch's default); recorded.
    threads: Optional[int] = None
    # Sizes of `batch_dim` to measure; empty: the example inputs only.
    batch_sizes: List[int] = field(default_factory=list)
    batch_dim: str = "batch"
    # null: the job's device.
    device: Optional[str] = None
    confidence: float = 0.95
    flops: bool = True
    memory: bool = True
    # Calibrate the machine's matmul peak (cached per machine and thread count).
    peak: bool = True
    # Load the artifact in a fresh process and time it.
    cold_start: bool = True


@dataclass
class TrackingConfig:
    enabled: bool = True
    # null: SQLite at <project root>/outputs/mlflow.db; http://host:port for a shared server.
    uri: Optional[str] = None
    # null: the sweep's name for a sweep, the model's name for a single run.
    experiment: Optional[str] = None
    # A sweep preset's name (nightly, matrix, bench); tags the parent run and its children.
    sweep: Optional[str] = None
    # Also upload the exported artifact itself (it can be large).
    log_artifact_file: bool = True
    # Where report.html links runs: null is the server itself, or http://127.0.0.1:5000 (make ui).
    ui_url: Optional[str] = None
    # Register every validated artifact in the Model Registry (alias latest-ok on the newest).
    register: bool = False
    # Nightly: compare with the previous sweep of the same name; regressions make the exit non-zero.
    compare_with_previous: bool = False
    latency_regression: float = 0.10
    error_drift: float = 10.0
    error_floor: float = 1.0e-5


@dataclass
class JobConfig:
    """How each job runs: in its own supervised process, bounded in time and memory, cached."""

    # Run the job in a child process (its own process group), so a segfault, a hang or a
    # runaway allocation costs that job only. false runs it in this process (for pdb).
    isolate: bool = True
    # Wall seconds before the child is killed (status `timeout`); tiny presets set less.
    timeout_s: float = 3600.0
    # Resident memory of the child and all its descendants, sampled; over it the child's
    # process group is killed (status `oom`). null: no cap.
    max_memory_mb: Optional[int] = None
    # Seconds between two samples of the child's memory (a spike shorter than this can pass).
    poll_interval_s: float = 0.1
    # Reuse an earlier `ok` result (or a deterministic export failure) whose job key matches.
    cache: bool = True
    # Where the cache's index lives (relative to the working directory, like Hydra's outputs/).
    cache_dir: str = "outputs/cache"


@dataclass
class DiagnosisConfig:
    """What converter does with a failed job's diagnosis (converter/diagnosis/fix_verification.py)."""

    # Run a failed job again with its fix_overrides applied (a follow-up job), and follow each
    # follow-up's own fix on top, so the fix a report shows is one that was seen to work.
    verify_fix: bool = True
    max_fix_attempts: int = 3


@dataclass
class SecurityConfig:
    """Import prefixes a config may name in `_target_`s and patches, beyond the built-in ones
    (registry, torchvision.models, the model libraries the registry uses). Only the command
    line can extend it (security.allowed_prefixes=[my_models]): a model YAML cannot widen it."""

    allowed_prefixes: List[str] = field(default_factory=list)


@dataclass
class ConverterConfig:
    model: Optional[ModelConfig] = None
    export: ExportConfig = field(default_factory=ExportConfig)
    validate: ValidateConfig = field(default_factory=ValidateConfig)
    benchmark: BenchmarkConfig = field(default_factory=BenchmarkConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    job: JobConfig = field(default_factory=JobConfig)
    diagnosis: DiagnosisConfig = field(default_factory=DiagnosisConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    device: str = "cpu"
    seed: int = 0


def register_schema() -> None:
    """Make the schema available to `conf/config.yaml`'s defaults list."""
    from hydra.core.config_store import ConfigStore

    from converter.config.backend_options import register_option_defaults

    ConfigStore.instance().store(name=SCHEMA_NAME, node=ConverterConfig)
    register_option_defaults()


def job_config(job: Mapping[str, Any]) -> ConverterConfig:
    """The resolved job (plain dicts: what config.yaml and result.json hold) as the schema's
    dataclasses, built once per job so each stage takes the typed section it needs."""
    from omegaconf import OmegaConf

    merged = OmegaConf.merge(OmegaConf.structured(ConverterConfig), {k: v for k, v in job.items() if k != "hydra"})
    config: ConverterConfig = OmegaConf.to_object(merged)
    if config.model is not None:
        # OmegaConf 2.3.1's merge leaves a dict two containers deep untyped (Dict[str, Dict[int, DimConfig]]
        # comes back as dicts of dicts); the job's dict holds every field, so the dataclass takes it whole.
        config.model.dynamic_shapes = {
            name: {int(index): dim if isinstance(dim, DimConfig) else DimConfig(**dim) for index, dim in per.items()}
            for name, per in config.model.dynamic_shapes.items()
        }
    return config
