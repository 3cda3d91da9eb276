"""What a model takes, read from the built module: forward's signature and annotations, the
model's own config (a transformers config's vocabulary, positions, image size, mel bins), a timm
model's `pretrained_cfg`, or else its first layer. Knows no model library by import: it reads
attributes the libraries define, the way a person reading the model's code would.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

BATCH = {"name": "batch", "min": 1, "max": 8}
EXAMPLE_BATCH = 2
EXAMPLE_SEQ = 16
SEQ_CAP = 64
# Inputs a transformers forward takes by name, all optional in its signature, in calling order.
TOKEN_INPUTS = ("input_ids", "decoder_input_ids")
SIGNAL_INPUTS = ("pixel_values", "input_values", "input_features")


@dataclass
class InferredInputs:
    """`model.inputs` and `model.dynamic_shapes` as YAML holds them, with the optional parameters left out."""

    inputs: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    dynamic_shapes: Dict[str, Dict[int, Dict[str, Any]]] = field(default_factory=dict)
    optional: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)


def _config_value(config: Any, *names: str) -> Optional[Any]:
    for name in names:
        value = getattr(config, name, None)
        if value is not None:
            return value
    return None


def _sub_configs(config: Any) -> List[Any]:
    """The config and the text/vision/audio configs a multi-modal config nests (CLIP)."""
    found = [config]
    for name in ("text_config", "vision_config", "audio_config", "encoder", "decoder"):
        sub = getattr(config, name, None)
        if sub is not None and hasattr(sub, "to_dict"):
            found.append(sub)
    return found


def _first(configs: List[Any], *names: str) -> Optional[Any]:
    for config in configs:
        value = _config_value(config, *names)
        if value is not None:
            return value
    return None


def _is_tensor_list(annotation: Any) -> bool:
    text = annotation if isinstance(annotation, str) else str(annotation)
    return bool(re.search(r"(?:List|list|Sequence)\[(?:torch\.)?Tensor\]", text))


def infer_inputs(module: Any) -> InferredInputs:
    forward = inspect.signature(module.forward)
    parameters = [p for p in forward.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    config = getattr(module, "config", None)
    inferred = InferredInputs()
    if config is not None and hasattr(config, "to_dict"):
        _from_library_config(module, config, parameters, inferred)
    else:
        for parameter in parameters:
            if parameter.default is not inspect.Parameter.empty:
                inferred.optional.append(parameter.name)
                continue
            _from_layers(module, parameter, inferred)
    return inferred


def _from_library_config(
    module: Any, config: Any, parameters: List[inspect.Parameter], inferred: InferredInputs
) -> None:
    """A transformers model: its inputs by their conventional names, sized from its config."""
    configs = _sub_configs(config)
    names = [p.name for p in parameters]
    vocab = _first(configs, "vocab_size")
    positions = _first(configs, "max_position_embeddings", "n_positions", "max_target_positions")
    seq_max = max(2, min(SEQ_CAP, int(positions))) if positions else SEQ_CAP
    seq = {"name": "seq", "min": 2, "max": seq_max}
    length = min(EXAMPLE_SEQ, seq_max)
    if "input_ids" in names and vocab:
        inferred.inputs["input_ids"] = _ids(vocab, length)
        inferred.dynamic_shapes["input_ids"] = {0: BATCH, 1: seq}
        if "attention_mask" in names:
            inferred.inputs["attention_mask"] = {
                "shape": [EXAMPLE_BATCH, length],
                "dtype": "int64",
                "low": 1,
                "high": 2,
            }
            inferred.dynamic_shapes["attention_mask"] = {0: BATCH, 1: seq}
    if "decoder_input_ids" in names and getattr(config, "is_encoder_decoder", False) and vocab:
        target = {"name": "target_seq", "min": 2, "max": seq_max}
        inferred.inputs["decoder_input_ids"] = _ids(vocab, min(8, seq_max))
        inferred.dynamic_shapes["decoder_input_ids"] = {0: BATCH, 1: target}
    if "pixel_values" in names:
        channels = _first(configs, "num_channels") or 3
        size = _first(configs, "image_size") or 224
        size = size[0] if isinstance(size, (list, tuple)) else size
        inferred.inputs["pixel_values"] = _signal([EXAMPLE_BATCH, int(channels), int(size), int(size)])
        inferred.dynamic_shapes["pixel_values"] = {0: BATCH}
    if "input_features" in names:
        bins = _first(configs, "num_mel_bins") or 80
        frames = 2 * int(_first(configs, "max_source_positions") or 1500)
        inferred.inputs["input_features"] = _signal([EXAMPLE_BATCH, int(bins), frames])
        inferred.dynamic_shapes["input_features"] = {0: BATCH}
        inferred.notes.append(
            f"input_features: {frames} frames, twice max_source_positions (the encoder's fixed length)"
        )
    if "input_values" in names and not inferred.inputs:
        inferred.inputs["input_values"] = _signal([EXAMPLE_BATCH, 1600])
        inferred.dynamic_shapes["input_values"] = {0: BATCH}
    inferred.optional = [p.name for p in parameters if p.name not in inferred.inputs]


def _ids(vocab: int, length: int) -> Dict[str, Any]:
    return {"shape": [EXAMPLE_BATCH, length], "dtype": "int64", "low": 0, "high": int(vocab)}


def _signal(shape: List[int]) -> Dict[str, Any]:
    return {"shape": shape, "low": -1.0, "high": 1.0}


def _from_layers(module: Any, parameter: inspect.Parameter, inferred: InferredInputs) -> None:
    """A required parameter sized from the model: timm's pretrained_cfg, else its first layer."""
    name = parameter.name
    pretrained = getattr(module, "pretrained_cfg", None) or getattr(module, "default_cfg", None)
    size = (pretrained or {}).get("input_size") if isinstance(pretrained, dict) else None
    if _is_tensor_list(parameter.annotation):  # torchvision's detectors: forward(images: List[Tensor])
        channels, height, width = size or (_first_layer_channels(module) or 3, 224, 224)
        inferred.inputs[name] = {"shape": [channels, height, width], "count": 1}
        return
    if size:
        inferred.inputs[name] = _signal([EXAMPLE_BATCH, *size])
        inferred.dynamic_shapes[name] = {0: BATCH}
        return
    shape, dtype, high = _shape_from_first_layer(module)
    spec: Dict[str, Any] = {"shape": shape}
    if dtype == "int64":
        spec.update(dtype="int64", low=0, high=high)
    inferred.inputs[name] = spec
    inferred.dynamic_shapes[name] = {0: BATCH}


def _first_layer(module: Any) -> Optional[Any]:
    for child in module.modules():
        kind = type(child).__name__
        if kind in ("Conv1d", "Conv2d", "Conv3d", "Linear", "Embedding", "LazyLinear"):
            return child
    return None


def _first_layer_channels(module: Any) -> Optional[int]:
    layer = _first_layer(module)
    return getattr(layer, "in_channels", None)


def _shape_from_first_layer(module: Any) -> tuple:
    layer = _first_layer(module)
    kind = type(layer).__name__ if layer is not None else ""
    if kind == "Conv3d":  # torchvision's video models: (B, C, T, H, W)
        return [EXAMPLE_BATCH, layer.in_channels, 16, 112, 112], "float32", None
    if kind == "Conv1d":
        return [EXAMPLE_BATCH, layer.in_channels, 1600], "float32", None
    if kind == "Linear":
        return [EXAMPLE_BATCH, layer.in_features], "float32", None
    if kind == "Embedding":
        return [EXAMPLE_BATCH, EXAMPLE_SEQ], "int64", layer.num_embeddings
    channels = getattr(layer, "in_channels", 3)
    return [EXAMPLE_BATCH, channels, 224, 224], "float32", None
