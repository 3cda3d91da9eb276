"""One model YAML per fleet member, written as a user writes it from the README alone.

transformers: small `AutoConfig.for_model` configs (random init), inputs named as forward's
parameters, integer ranges [low, high) with `high` the vocabulary size. timm: the smallest
variant of each family by name, at its own `pretrained_cfg` input size. torchvision: every
model `torchvision.models.list_models()` names, detection models with a list of images.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List

BATCH = {"name": "batch", "min": 1, "max": 8}
# torchvision runs at full size: validation at batch 4, not 8, keeps vit_h_14 and regnet_y_128gf in minutes.
FULL_SIZE_BATCH = {"name": "batch", "min": 1, "max": 4}
SEQ = {"name": "seq", "min": 2, "max": 64}
VOCAB = 1000


@dataclass
class FleetModel:
    """A fleet member: its library, YAML name, and the `model:` mapping the YAML holds."""

    library: str
    name: str
    model: Dict[str, Any]
    # Overrides the fleet passes besides (the tolerance a deep random net needs, say).
    overrides: List[str] = field(default_factory=list)


def _text(batch: int = 2, seq: int = 16, mask: bool = True, vocab: int = VOCAB, types: bool = False) -> Dict[str, Any]:
    inputs: Dict[str, Any] = {"input_ids": {"shape": [batch, seq], "dtype": "int64", "low": 0, "high": vocab}}
    if mask:
        inputs["attention_mask"] = {"shape": [batch, seq], "dtype": "int64", "low": 1, "high": 2}
    if types:
        inputs["token_type_ids"] = {"shape": [batch, seq], "dtype": "int64", "low": 0, "high": 2}
    dims = {name: {0: BATCH, 1: SEQ} for name in inputs}
    return {"inputs": inputs, "dynamic_shapes": dims}


def _image(name: str = "pixel_values", size: int = 32, channels: int = 3, batch: int = 2) -> Dict[str, Any]:
    return {
        "inputs": {name: {"shape": [batch, channels, size, size], "low": -1.0, "high": 1.0}},
        "dynamic_shapes": {name: {0: BATCH}},
    }


def _hf(model_type: str, auto: str, config: Dict[str, Any], io: Dict[str, Any], name: str = "") -> FleetModel:
    loader = {
        "_target_": f"transformers.{auto}.from_config",
        "config": {"_target_": "transformers.AutoConfig.for_model", "model_type": model_type, **config},
    }
    label = name or model_type.replace("-", "_")
    return FleetModel("transformers", f"hf_{label}", {"name": f"hf_{label}", "loader": loader, **io})


_BERTISH = {
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 128,
    "vocab_size": VOCAB,
    "max_position_embeddings": 128,
}
_LLAMAISH = {
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "intermediate_size": 128,
    "vocab_size": VOCAB,
    "max_position_embeddings": 128,
}
_ENCODER_DECODER = {
    "d_model": 64,
    "encoder_layers": 2,
    "decoder_layers": 2,
    "encoder_attention_heads": 2,
    "decoder_attention_heads": 2,
    "encoder_ffn_dim": 128,
    "decoder_ffn_dim": 128,
    "vocab_size": VOCAB,
}
_VIT = {
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 128,
    "image_size": 32,
    "patch_size": 8,
}


def transformers_fleet() -> List[FleetModel]:
    text = _text()
    causal = _text()
    return [
        _hf("bert", "AutoModel", _BERTISH, _text(types=True)),
        _hf("roberta", "AutoModel", {**_BERTISH, "max_position_embeddings": 130}, text),
        _hf(
            "distilbert",
            "AutoModel",
            {
                "dim": 64,
                "n_layers": 2,
                "n_heads": 2,
                "hidden_dim": 128,
                "vocab_size": VOCAB,
                "max_position_embeddings": 128,
            },
            text,
        ),
        _hf("albert", "AutoModel", {**_BERTISH, "embedding_size": 32}, text),
        _hf("electra", "AutoModel", {**_BERTISH, "embedding_size": 32}, text),
        _hf("deberta-v2", "AutoModel", _BERTISH, text),
        _hf("xlm-roberta", "AutoModel", {**_BERTISH, "max_position_embeddings": 130}, text),
        _hf("mpnet", "AutoModel", {**_BERTISH, "max_position_embeddings": 130}, text),
        _hf("modernbert", "AutoModel", {**_BERTISH, "global_attn_every_n_layers": 2, "local_attention": 16}, text),
        _hf(
            "gpt2",
            "AutoModelForCausalLM",
            {"n_embd": 64, "n_layer": 2, "n_head": 2, "vocab_size": VOCAB, "n_positions": 128},
            causal,
        ),
        _hf("gpt_neox", "AutoModelForCausalLM", {**_BERTISH}, causal),
        _hf("llama", "AutoModel", _LLAMAISH, causal),
        _hf("mistral", "AutoModelForCausalLM", _LLAMAISH, causal),
        _hf("qwen2", "AutoModelForCausalLM", _LLAMAISH, causal),
        _hf("qwen3", "AutoModelForCausalLM", {**_LLAMAISH, "head_dim": 16}, causal),
        _hf("gemma", "AutoModelForCausalLM", {**_LLAMAISH, "head_dim": 16}, causal),
        _hf("phi3", "AutoModelForCausalLM", {**_LLAMAISH, "num_key_value_heads": 4}, causal),
        _hf(
            "opt",
            "AutoModelForCausalLM",
            {
                "hidden_size": 64,
                "num_hidden_layers": 2,
                "num_attention_heads": 2,
                "ffn_dim": 128,
                "word_embed_proj_dim": 64,
                "vocab_size": VOCAB,
                "max_position_embeddings": 128,
            },
            causal,
        ),
        _hf(
            "bloom", "AutoModelForCausalLM", {"hidden_size": 64, "n_layer": 2, "n_head": 2, "vocab_size": VOCAB}, causal
        ),
        _hf(
            "falcon",
            "AutoModelForCausalLM",
            {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "vocab_size": VOCAB},
            causal,
        ),
        _hf("llama", "AutoModelForCausalLM", _LLAMAISH, causal, name="llama_causal_lm"),
        _hf(
            "t5",
            "AutoModel",
            {"d_model": 64, "d_ff": 128, "d_kv": 16, "num_layers": 2, "num_heads": 2, "vocab_size": VOCAB},
            _seq2seq(),
        ),
        _hf("bart", "AutoModel", {**_ENCODER_DECODER, "max_position_embeddings": 128}, _seq2seq()),
        _hf(
            "whisper",
            "AutoModel",
            {**_ENCODER_DECODER, "num_mel_bins": 80, "max_source_positions": 50, "max_target_positions": 64},
            _whisper(),
        ),
        _hf("vit", "AutoModel", _VIT, _image()),
        _hf("deit", "AutoModel", _VIT, _image()),
        _hf("beit", "AutoModel", {**_VIT, "vocab_size": 64}, _image()),
        _hf("dinov2", "AutoModel", _VIT, _image()),
        _hf(
            "swin",
            "AutoModel",
            {
                "image_size": 32,
                "patch_size": 4,
                "embed_dim": 16,
                "depths": [1, 1],
                "num_heads": [1, 2],
                "window_size": 4,
            },
            _image(),
        ),
        _hf("convnext", "AutoModel", {"hidden_sizes": [16, 32], "depths": [1, 1], "num_stages": 2}, _image()),
        _hf("resnet", "AutoModel", {"hidden_sizes": [16, 32], "depths": [1, 1], "embedding_size": 16}, _image()),
        _hf(
            "mobilevit",
            "AutoModel",
            {"image_size": 64, "hidden_sizes": [32, 48, 64], "neck_hidden_sizes": [8, 8, 16, 16, 32, 48, 64]},
            _image(size=64),
        ),
        _hf(
            "segformer",
            "AutoModel",
            {
                "num_encoder_blocks": 2,
                "depths": [1, 1],
                "sr_ratios": [2, 1],
                "hidden_sizes": [16, 32],
                "num_attention_heads": [1, 2],
                "patch_sizes": [7, 3],
                "strides": [4, 2],
                "mlp_ratios": [2, 2],
            },
            _image(size=64),
        ),
        _hf(
            "vit",
            "AutoModelForImageClassification",
            {**_VIT, "num_labels": 10},
            _image(),
            name="vit_for_image_classification",
        ),
        _hf(
            "wav2vec2",
            "AutoModel",
            {
                "hidden_size": 64,
                "num_hidden_layers": 2,
                "num_attention_heads": 2,
                "intermediate_size": 128,
                "conv_dim": [32, 32],
                "conv_stride": [5, 2],
                "conv_kernel": [10, 3],
                "num_conv_pos_embeddings": 16,
                "num_conv_pos_embedding_groups": 4,
            },
            _audio(),
        ),
        _hf(
            "clip",
            "AutoModel",
            {
                "text_config": {**_BERTISH, "max_position_embeddings": 64},
                "vision_config": {**_VIT},
                "projection_dim": 32,
            },
            _clip(),
        ),
    ]


def _seq2seq() -> Dict[str, Any]:
    io = _text()
    io["inputs"]["decoder_input_ids"] = {"shape": [2, 8], "dtype": "int64", "low": 0, "high": VOCAB}
    io["dynamic_shapes"]["decoder_input_ids"] = {0: BATCH, 1: {"name": "target_seq", "min": 2, "max": 64}}
    return io


def _whisper() -> Dict[str, Any]:
    # Whisper's encoder takes exactly 2 x max_source_positions mel frames.
    return {
        "inputs": {
            "input_features": {"shape": [2, 80, 100], "low": -1.0, "high": 1.0},
            "decoder_input_ids": {"shape": [2, 8], "dtype": "int64", "low": 0, "high": VOCAB},
        },
        "dynamic_shapes": {
            "input_features": {0: BATCH},
            "decoder_input_ids": {0: BATCH, 1: {"name": "target_seq", "min": 2, "max": 64}},
        },
    }


def _audio() -> Dict[str, Any]:
    return {
        "inputs": {"input_values": {"shape": [2, 800], "low": -1.0, "high": 1.0}},
        "dynamic_shapes": {"input_values": {0: BATCH}},
    }


def _clip() -> Dict[str, Any]:
    io = _text()
    io["inputs"]["pixel_values"] = {"shape": [2, 3, 32, 32], "low": -1.0, "high": 1.0}
    io["dynamic_shapes"]["pixel_values"] = {0: BATCH}
    return io


# The smallest variant of each timm family (timm 1.0.31), by name as `timm.create_model` takes it.
TIMM_FAMILIES = [
    "resnet10t",
    "resnetv2_18",
    "regnetx_002",
    "regnety_002",
    "efficientnet_b0",
    "efficientnet_lite0",
    "mobilenetv2_050",
    "mobilenetv3_small_050",
    "mobilenetv4_conv_small_035",
    "mobilevit_xxs",
    "mobilevitv2_050",
    "mobileone_s0",
    "ghostnet_050",
    "ghostnetv2_100",
    "lcnet_050",
    "tinynet_e",
    "mnasnet_050",
    "fbnetc_100",
    "hardcorenas_a",
    "densenet121",
    "dla34",
    "dpn48b",
    "vgg11",
    "repvgg_a0",
    "repghostnet_050",
    "cspresnet50",
    "darknet17",
    "convnext_atto",
    "convnextv2_atto",
    "efficientformer_l1",
    "efficientformerv2_s0",
    "fastvit_t8",
    "edgenext_xx_small",
    "levit_128s",
    "vit_tiny_patch16_224",
    "deit_tiny_patch16_224",
    "swin_tiny_patch4_window7_224",
    "cait_xxs24_224",
    "coat_tiny",
    "convit_tiny",
    "pit_ti_224",
    "xcit_nano_12_p16_224",
    "poolformer_s12",
    "mixer_s32_224",
    "resmlp_12_224",
    "gcvit_xxtiny",
    "maxvit_nano_rw_256",
    "nf_resnet26",
    "hrnet_w18_small",
    "res2net50_14w_8s",
    "resnest14d",
    "selecsls42",
    "rexnet_100",
    "hgnetv2_b0",
    "ese_vovnet19b_dw",
    "gernet_s",
    "efficientvit_b0",
    "tiny_vit_5m_224",
    "pvt_v2_b0",
    "starnet_s050",
    "inception_next_atto",
    "mambaout_femto",
    "fasternet_t0",
    "repvit_m0_9",
    "visformer_tiny",
    "eva02_tiny_patch14_224",
]


def timm_fleet() -> List[FleetModel]:
    import timm

    fleet = []
    for name in TIMM_FAMILIES:
        channels, height, width = timm.get_pretrained_cfg(name).input_size
        model = {
            "name": f"timm_{name}",
            "loader": {"_target_": "timm.create_model", "model_name": name, "pretrained": False},
            "inputs": {"x": {"shape": [2, channels, height, width], "low": -1.0, "high": 1.0}},
            "dynamic_shapes": {"x": {0: BATCH}},
        }
        fleet.append(FleetModel("timm", f"timm_{name}", model))
    return fleet


def torchvision_fleet() -> List[FleetModel]:
    from torchvision import models

    fleet = []
    kinds = {
        "detection": models.list_models(module=models.detection),
        "segmentation": models.list_models(module=models.segmentation),
        "video": models.list_models(module=models.video),
        "optical_flow": models.list_models(module=models.optical_flow),
        "quantization": models.list_models(module=models.quantization),
    }
    kind_of = {name: kind for kind, names in kinds.items() for name in names}
    for name in models.list_models():
        kind = kind_of.get(name, "classification")
        module = "torchvision.models" + ("" if kind == "classification" else f".{kind}")
        target_name = name.removeprefix("quantized_") if kind == "quantization" else name
        loader: Dict[str, Any] = {"_target_": f"{module}.{target_name}", "weights": None}
        if kind == "detection":
            loader["weights_backbone"] = None
        if kind == "quantization":
            loader["quantize"] = False
        model = {"name": f"tv_{name}", "loader": loader, **_torchvision_io(name, kind)}
        fleet.append(FleetModel("torchvision", f"tv_{name}", model))
    return fleet


def _torchvision_io(name: str, kind: str) -> Dict[str, Any]:
    if kind == "detection":  # forward(images: List[Tensor]): a list, as the model is called
        size = 320 if "320" in name else 300 if "ssd300" in name else 224
        return {"inputs": {"images": {"shape": [3, size, size], "count": 1}}}
    if kind == "video":
        size = 224 if name.startswith(("mvit", "s3d")) else 112
        frames = 16 if name.startswith(("mvit", "s3d")) else 8  # S3D's temporal kernels need 16 frames at 224
        return {"inputs": {"x": {"shape": [2, 3, frames, size, size]}}, "dynamic_shapes": {"x": {0: FULL_SIZE_BATCH}}}
    if kind == "optical_flow":
        image = {"shape": [2, 3, 128, 128]}
        return {
            "inputs": {"image1": image, "image2": image, "num_flow_updates": {"constant": True, "value": 2}},
            "dynamic_shapes": {"image1": {0: FULL_SIZE_BATCH}, "image2": {0: FULL_SIZE_BATCH}},
        }
    size = 299 if "inception" in name else 224
    return {"inputs": {"x": {"shape": [2, 3, size, size]}}, "dynamic_shapes": {"x": {0: FULL_SIZE_BATCH}}}
