"""YOLO11-pose (ultralytics), built from its YAML offline, with no network and no settings
written outside the run."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator

import torch

from registry.common import check_variant

VARIANTS = ("n", "s", "m", "l", "x")


@contextmanager
def _environment(values: Dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _settings_dir() -> Path:
    from converter.job.context import current_run_dir

    run_dir = current_run_dir()
    return run_dir / "ultralytics" if run_dir else Path(tempfile.mkdtemp(prefix="ultralytics-"))


def build_yolo_pose(variant: str = "n", dynamic_head: bool = True) -> torch.nn.Module:
    """`PoseModel("yolo11{variant}-pose.yaml")`: the architecture of `YOLO("yolo11n-pose.pt")`, random init.

    ultralytics reads its environment once, at first import: YOLO_OFFLINE stops its DNS
    probe, YOLO_CONFIG_DIR keeps settings.json in the run, YOLO_VERBOSE=False silences the
    settings banner and the model summary. The variables are restored afterwards.

    `dynamic_head` sets the pose head's own `dynamic` flag, as ultralytics' exporter does for
    `dynamic=True`: otherwise the head compares the input shape with the last one it saw,
    and torch.export specialises the batch to the example's ("Constraints violated (batch)").
    """
    check_variant("YOLO11", variant, VARIANTS)
    env = {"YOLO_OFFLINE": "1", "YOLO_VERBOSE": "False", "YOLO_CONFIG_DIR": str(_settings_dir())}
    with _environment(env):
        from ultralytics.nn.tasks import PoseModel

        model = PoseModel(f"yolo11{variant}-pose.yaml", verbose=False).eval()
    model.model[-1].dynamic = dynamic_head
    return model
