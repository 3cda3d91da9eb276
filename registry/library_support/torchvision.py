"""torchvision: no types of its own to register; one load failure it knows the fix of.

Segmentation and detection builders download ImageNet backbone weights unless told not to,
even with `weights=None` (torchvision 0.29 `deeplabv3_resnet50(weights=None)` ->
`weights_backbone=ResNet50_Weights.IMAGENET1K_V1`): offline that is a URLError at load.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any, ContextManager, Mapping, Optional


def types_registered() -> ContextManager[None]:
    return nullcontext()


def load_fix(loader: Mapping[str, Any], message: str) -> Optional[str]:
    offline = "URLError" in message or "Temporary failure in name resolution" in message
    if offline and "weights_backbone" not in loader:
        return "++model.loader.weights_backbone=null"
    return None


def output_fix(loader: Mapping[str, Any]) -> Optional[str]:
    return None
