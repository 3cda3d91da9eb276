"""Build SAM 2 from the package's own YAML without touching Hydra's global state.

`sam2.build_sam2` composes its config through Hydra's GlobalHydra, which `import sam2`
initialises only when nobody else has: inside converter's Hydra app it finds converter's
config instead and fails with "Cannot find primary config 'configs/sam2.1/...'". Loading
the YAML with OmegaConf and instantiating it needs no global state at all.
"""

from __future__ import annotations

from contextlib import contextmanager
from importlib import resources
from typing import Iterator, List

import torch

from registry.common import check_variant

# Each published size's config file in the sam2 package.
CONFIG_FILES = {
    "tiny": "sam2.1_hiera_t.yaml",
    "small": "sam2.1_hiera_s.yaml",
    "base_plus": "sam2.1_hiera_b+.yaml",
    "large": "sam2.1_hiera_l.yaml",
}
VARIANTS = ("test", *CONFIG_FILES)
# Same post-processing overrides `build_sam2(apply_postprocessing=True)` adds.
POSTPROCESSING = {
    "dynamic_multimask_via_stability": True,
    "dynamic_multimask_stability_delta": 0.05,
    "dynamic_multimask_stability_thresh": 0.98,
}
# `test`: the hiera-tiny YAML with five blocks (global attention inside stage 3, as published) and a 32-wide trunk, for fast tests.
TEST_TRUNK = {"embed_dim": 32, "num_heads": 1, "stages": [1, 1, 2, 1], "global_att_blocks": [3]}


@contextmanager
def _no_global_hydra_left() -> Iterator[None]:
    """`import sam2` initialises GlobalHydra when it is free; undo that if it happens here."""
    from hydra.core.global_hydra import GlobalHydra

    was_initialized = GlobalHydra.instance().is_initialized()
    try:
        yield
    finally:
        if not was_initialized and GlobalHydra.instance().is_initialized():
            GlobalHydra.instance().clear()


def build_sam2(variant: str = "tiny", image_size: int = 1024) -> torch.nn.Module:
    """`image_size` other than 1024 is for tests: the prompt encoder and feature sizes follow it."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    with _no_global_hydra_left():
        import sam2  # noqa: F401  (registers nothing we rely on; imported for its side effect to be undone)

    check_variant("SAM 2", variant, VARIANTS)
    base = "tiny" if variant == "test" else variant
    text = (resources.files("sam2") / "configs" / "sam2.1" / CONFIG_FILES[base]).read_text()
    cfg = OmegaConf.create(text)
    OmegaConf.update(cfg, "model.sam_mask_decoder_extra_args", POSTPROCESSING, force_add=True)
    if variant == "test":
        trunk = cfg.model.image_encoder.trunk
        for key, value in TEST_TRUNK.items():
            trunk[key] = value
        width = TEST_TRUNK["embed_dim"]
        cfg.model.image_encoder.neck.backbone_channel_list = [width * 8, width * 4, width * 2, width]
    cfg.model.image_size = image_size
    OmegaConf.resolve(cfg)
    return instantiate(cfg.model, _recursive_=True).eval()


def feature_sizes(model: torch.nn.Module) -> List[List[int]]:
    """Spatial sizes of the three feature levels the image predictor keeps (256, 128, 64 at 1024 px)."""
    size = model.image_size
    return [[size // 4, size // 4], [size // 8, size // 8], [size // 16, size // 16]]
