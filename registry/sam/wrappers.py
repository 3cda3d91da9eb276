"""Modules that expose one SAM path with tensor inputs and tensor outputs."""

from __future__ import annotations

from typing import Tuple

import torch
from torch import nn


class ImageEncoder(nn.Module):
    """Preprocessed image (B, 3, 1024, 1024) -> image embeddings (B, 256, 64, 64)."""

    def __init__(self, sam: nn.Module) -> None:
        super().__init__()
        self.image_encoder = sam.image_encoder

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.image_encoder(image)


class PromptDecoder(nn.Module):
    """Image embeddings + point prompts (+ an optional low-res mask) -> masks and IoU scores.

    The shape of segment_anything's own `utils/onnx.py` SamOnnxModel without its resizing
    post-processing: prompts are embedded with arithmetic masks instead of boolean indexing,
    so the number of points can be a dynamic dimension. `has_mask_input` (0 or 1) says
    whether `mask_input` is used, which keeps the optional input without control flow.
    """

    def __init__(self, sam: nn.Module, multimask_output: bool = True) -> None:
        super().__init__()
        self.prompt_encoder = sam.prompt_encoder
        self.mask_decoder = sam.mask_decoder
        self.image_size = float(sam.image_encoder.img_size)
        self.multimask_output = multimask_output

    def _embed_points(self, coords: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        coords = (coords + 0.5) / self.image_size
        embedding = self.prompt_encoder.pe_layer._pe_encoding(coords)
        labels = labels.unsqueeze(-1).expand_as(embedding)
        embedding = embedding * (labels != -1)
        embedding = embedding + self.prompt_encoder.not_a_point_embed.weight * (labels == -1)
        for i, point_embedding in enumerate(self.prompt_encoder.point_embeddings):
            embedding = embedding + point_embedding.weight * (labels == i)
        return embedding

    def forward(
        self,
        image_embeddings: torch.Tensor,
        point_coords: torch.Tensor,
        point_labels: torch.Tensor,
        mask_input: torch.Tensor,
        has_mask_input: torch.Tensor,
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        sparse = self._embed_points(point_coords, point_labels.to(point_coords.dtype))
        use_mask = has_mask_input.to(mask_input.dtype).reshape(-1, 1, 1, 1)
        dense = use_mask * self.prompt_encoder.mask_downscaling(mask_input)
        dense = dense + (1 - use_mask) * self.prompt_encoder.no_mask_embed.weight.reshape(1, -1, 1, 1)
        masks, scores = self.mask_decoder.predict_masks(
            image_embeddings=image_embeddings,
            image_pe=self.prompt_encoder.get_dense_pe(),
            sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=dense,
        )
        if self.multimask_output:
            return masks[:, 1:], scores[:, 1:]
        return masks[:, :1], scores[:, :1]


class Predictor(nn.Module):
    """Image + point prompts -> masks and IoU scores through SAM's own modules (`Sam.forward`'s
    encoder, prompt encoder and mask decoder, without its Python-list batching); scripting it
    needs registry/patches/segment_anything."""

    def __init__(self, sam: nn.Module, multimask_output: bool = True) -> None:
        super().__init__()
        self.image_encoder = sam.image_encoder
        self.prompt_encoder = sam.prompt_encoder
        self.mask_decoder = sam.mask_decoder
        self.multimask_output = multimask_output

    def forward(
        self, image: torch.Tensor, point_coords: torch.Tensor, point_labels: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        embeddings = self.image_encoder(image)
        sparse, dense = self.prompt_encoder(points=(point_coords, point_labels), boxes=None, masks=None)
        return self.mask_decoder(
            image_embeddings=embeddings,
            image_pe=self.prompt_encoder.get_dense_pe(),
            sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=dense,
            multimask_output=self.multimask_output,
        )
