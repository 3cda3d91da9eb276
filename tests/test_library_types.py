"""converter.tensors.library_types: the engine reaches a model library's own types through
registry/library_support only, and a library without support costs nothing."""

from __future__ import annotations

from converter.tensors.library_types import load_fix, output_fix, types_registered


def test_a_library_without_support_has_no_types_and_no_fixes() -> None:
    with types_registered(["timm", None, "timm"]):
        pass
    assert output_fix("timm", {"_target_": "timm.create_model"}) is None
    assert load_fix("timm", {}, "URLError") is None
    assert (output_fix(None, {}), load_fix(None, {}, "x")) == (None, None)


def test_a_supported_librarys_fixes_come_from_its_module() -> None:
    offline = "URLError: <urlopen error [Errno -3] Temporary failure in name resolution>"
    assert load_fix("torchvision", {"_target_": "torchvision.models.segmentation.deeplabv3_resnet50"}, offline) == (
        "++model.loader.weights_backbone=null"
    )
    assert load_fix("torchvision", {"weights_backbone": None}, offline) is None, "already set: no fix to offer"
    config = {"_target_": "transformers.AutoConfig.for_model", "model_type": "gpt2"}
    assert output_fix("transformers", {"config": config}) == "+model.loader.config.use_cache=false"
    assert load_fix("transformers", {"config": config}, "Padding_idx must be within num_embeddings") == (
        "++model.loader.config.pad_token_id=0"
    )


def test_transformers_caches_are_pytree_nodes_only_inside_the_block() -> None:
    import torch.utils._pytree as pytree
    from transformers.cache_utils import DynamicCache

    with types_registered(["transformers"]):
        inside = DynamicCache in pytree.SUPPORTED_NODES
    assert inside and DynamicCache not in pytree.SUPPORTED_NODES, "the registration never leaks into the next job"
