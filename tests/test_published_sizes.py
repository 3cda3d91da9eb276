"""The published variants build offline with the published architectures (parameter counts)."""

import pytest

# Exact counts; the comments give the published (rounded) figures they agree with.
PUBLISHED = [
    ("registry.sam.build.build_sam", {"variant": "vit_b"}, 93_735_472),  # SAM ViT-B: 93.7M
    ("registry.sam2.build.build_sam2", {"variant": "tiny"}, 38_962_498),  # SAM 2.1 Hiera-T: 38.9M
    ("registry.yolo.build_yolo_pose", {"variant": "n"}, 2_908_507),  # YOLO11n-pose: 2.9M
    ("registry.mvit.build_mvit", {"variant": "v1_b"}, 36_610_672),  # torchvision mvit_v1_b: 36,610,672
    # torchvision deeplabv3_resnet101: 60,996,202 with the aux head; 2,365,205 of those are the aux head
    ("registry.deeplab.build_deeplabv3", {"variant": "resnet101"}, 58_630_997),
    ("registry.gpt2.build_gpt2", {"variant": "small"}, 124_439_808),  # gpt2: 124M
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("target", "kwargs", "parameters"), PUBLISHED, ids=[p[0].rsplit(".", 1)[-1] for p in PUBLISHED]
)
def test_published_variant_has_the_published_size(target: str, kwargs: dict, parameters: int) -> None:
    from hydra.utils import get_method

    model = get_method(target)(**kwargs)
    assert sum(p.numel() for p in model.parameters()) == parameters


BUILDERS = {
    "registry.sam.build": ("build_sam", "SAM"),
    "registry.sam2.build": ("build_sam2", "SAM 2"),
    "registry.yolo": ("build_yolo_pose", "YOLO11"),
    "registry.mvit": ("build_mvit", "MViT"),
    "registry.deeplab": ("build_deeplabv3", "DeepLabV3"),
    "registry.gpt2": ("build_gpt2", "GPT-2"),
    "registry.blip": ("build_blip", "BLIP"),
}


@pytest.mark.parametrize("module_name", sorted(BUILDERS))
def test_every_builder_names_its_variants_one_way_and_refuses_others(module_name: str) -> None:
    import importlib

    module = importlib.import_module(module_name)
    builder, model = BUILDERS[module_name]
    with pytest.raises(ValueError) as info:
        getattr(module, builder)(variant="huge")
    assert str(info.value) == f"unknown {model} variant 'huge': use one of {', '.join(module.VARIANTS)}"
