"""Build SAM offline with random init: published sizes through the library's own registry,
and a `test` variant of the same classes for tests (narrow two-block encoder, 256 px)."""

from __future__ import annotations

from functools import partial

import torch

from registry.common import check_variant

VARIANTS = ("test", "vit_b", "vit_l", "vit_h")


def build_sam(variant: str = "vit_b", test_image_size: int = 256) -> torch.nn.Module:
    from segment_anything import sam_model_registry

    check_variant("SAM", variant, VARIANTS)
    if variant == "test":
        return _build_test(test_image_size)
    return sam_model_registry[variant](checkpoint=None)


def _build_test(image_size: int) -> torch.nn.Module:
    """The published builder's structure with a 64-wide, 2-block encoder; the prompt encoder
    and mask decoder keep their real widths. At 256 px the 16x16 token grid is not a
    multiple of the 14-token window, so the padding path the scripting patch touches runs."""
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

    patch, prompt_dim = 16, 256
    grid = image_size // patch
    return Sam(
        image_encoder=ImageEncoderViT(
            depth=2,
            embed_dim=64,
            img_size=image_size,
            mlp_ratio=4,
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
            num_heads=2,
            patch_size=patch,
            qkv_bias=True,
            use_rel_pos=True,
            global_attn_indexes=[1],
            window_size=14,
            out_chans=prompt_dim,
        ),
        prompt_encoder=PromptEncoder(
            embed_dim=prompt_dim,
            image_embedding_size=(grid, grid),
            input_image_size=(image_size, image_size),
            mask_in_chans=16,
        ),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=3,
            transformer=TwoWayTransformer(depth=2, embedding_dim=prompt_dim, mlp_dim=256, num_heads=8),
            transformer_dim=prompt_dim,
            iou_head_depth=3,
            iou_head_hidden_dim=256,
        ),
        pixel_mean=[123.675, 116.28, 103.53],
        pixel_std=[58.395, 57.12, 57.375],
    )
