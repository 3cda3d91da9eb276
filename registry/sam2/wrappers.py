"""SAM 2's image path split at the image embedding, each half an nn.Module."""

from __future__ import annotations

from typing import Tuple

import torch
from torch import nn

from registry.sam2.build import feature_sizes


class ImageEncoder(nn.Module):
    """Image (B, 3, 1024, 1024) -> (image_embed, high_res_feat_0, high_res_feat_1), as
    `SAM2ImagePredictor.set_image` computes them."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.sizes = feature_sizes(model)

    def forward(self, image: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        backbone_out = self.model.forward_image(image)
        _, vision_feats, _, _ = self.model._prepare_backbone_features(backbone_out)
        if self.model.directly_add_no_mem_embed:
            vision_feats[-1] = vision_feats[-1] + self.model.no_mem_embed
        batch = image.shape[0]
        feats = [
            feat.permute(1, 2, 0).reshape(batch, -1, size[0], size[1])
            for feat, size in zip(vision_feats, self.sizes, strict=True)
        ]
        return feats[2], feats[0], feats[1]


class PromptPredictor(nn.Module):
    """`SAM2ImagePredictor._predict` as an nn.Module taking the image features as inputs.

    The torch.export challenges tutorial's ExportHelper (anijain2305/sam2,
    sam2/sam2_image_predictor.py lines 293-311) exported the bound method with the features of one image
    baked into the graph as constants; here they are inputs, so one artifact serves any
    image. Point coordinates are in the 1024-px input frame (what `_predict` expects).
    """

    def __init__(self, model: nn.Module, multimask_output: bool = True, image_size: int = 1024) -> None:
        super().__init__()
        from sam2.sam2_image_predictor import SAM2ImagePredictor

        self.model = model
        self.multimask_output = multimask_output
        self.orig_hw = (image_size, image_size)
        # A plain attribute (not a submodule): it only holds a reference to `model`.
        self.__dict__["predictor"] = SAM2ImagePredictor(model)

    def forward(
        self,
        image_embed: torch.Tensor,
        high_res_feat_0: torch.Tensor,
        high_res_feat_1: torch.Tensor,
        point_coords: torch.Tensor,
        point_labels: torch.Tensor,
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        predictor = self.predictor
        predictor._features = {"image_embed": image_embed, "high_res_feats": [high_res_feat_0, high_res_feat_1]}
        predictor._orig_hw = [self.orig_hw]
        predictor._is_image_set = True
        try:
            return predictor._predict(
                point_coords,
                point_labels.to(point_coords.dtype),
                boxes=None,
                mask_input=None,
                multimask_output=self.multimask_output,
                return_logits=True,
            )
        finally:
            predictor.reset_predictor()
