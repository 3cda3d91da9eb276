"""transformers' KV caches as pytree nodes, the way transformers' own export helpers register them.

Decoders and encoder-decoders return `DynamicCache` / `EncoderDecoderCache` (use_cache is on by
default), and torch.export refuses them: "Found <class 'transformers.cache_utils.DynamicCache'>
in output, which is not a known type. If this type holds tensors, you need to register a pytree
for it" (torch 2.14, transformers 5.24). transformers 5's `exporters/exporter_dynamo.py`
(`register_cache_pytrees_for_model`) registers every `Cache` subclass with a generic
flatten/unflatten of the object's attributes; this does the same for every class
`transformers.cache_utils` defines, and undoes it afterwards. `ModelOutput` needs nothing:
transformers registers each subclass when it is defined (utils/generic.py).
"""

from __future__ import annotations

import inspect
from contextlib import contextmanager
from typing import Any, Iterator, List, Mapping, Optional


def cache_classes() -> List[type]:
    """Every `Cache` class `transformers.cache_utils` defines (Cache itself too), once each."""
    from transformers import cache_utils

    found = (cls for _, cls in inspect.getmembers(cache_utils, inspect.isclass))  # aliases appear twice
    return list(
        dict.fromkeys(c for c in found if c.__module__ == cache_utils.__name__ and issubclass(c, cache_utils.Cache))
    )


def _register(cls: type) -> None:
    import torch.utils._pytree as pytree
    from transformers.exporters import exporter_dynamo

    pytree.register_pytree_node(
        cls,
        exporter_dynamo._pytree_flatten,
        exporter_dynamo._pytree_unflatten,
        serialized_type_name=exporter_dynamo._class_to_path(cls),
        flatten_with_keys_fn=exporter_dynamo._pytree_flatten_with_keys,
    )


@contextmanager
def types_registered() -> Iterator[None]:
    """Every cache class a pytree node for the block; classes registered before (by transformers or
    the caller) are left as they were."""
    import torch.utils._pytree as pytree

    added = [cls for cls in cache_classes() if cls not in pytree.SUPPORTED_NODES]
    for cls in added:
        _register(cls)
    try:
        yield
    finally:
        for cls in added:
            pytree._deregister_pytree_node(cls)  # torch 2.14's private undo of register_pytree_node


def load_fix(loader: Mapping[str, Any], message: str) -> Optional[str]:
    """A small config's special token ids past its shrunk vocabulary: nn.Embedding's "Padding_idx must
    be within num_embeddings" (ModernBERT's pad 50283, Phi-3's 32000, Whisper's 50256 with vocab_size 1000)."""
    config = loader.get("config")
    if "Padding_idx must be within num_embeddings" in message and isinstance(config, Mapping):
        return "++model.loader.config.pad_token_id=0"
    return None


def output_fix(loader: Mapping[str, Any]) -> Optional[str]:
    """`use_cache=false` on the config the loader builds the model from (`from_config(config=...)`)."""
    config = loader.get("config")
    if isinstance(config, Mapping) and "_target_" in config:
        return "+model.loader.config.use_cache=false"
    return None
