"""Declarative monkey-patches, applied with unittest.mock and always undone.

The SAM-to-TorchScript seed fixed scripting errors by patching library methods with
`mock.patch.object(...).__enter__()` and never leaving; here each patch lives only
inside the `with` block, also when the block raises.
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from typing import Any, Iterator, Mapping, Sequence
from unittest import mock

from converter.errors import ConfigError
from converter.targets import resolve


@contextmanager
def apply_patches(patches: Sequence[Mapping[str, Any]]) -> Iterator[None]:
    """Replace each `target` attribute by the object at `replacement` for the block's duration."""
    with ExitStack() as stack:
        for index, patch in enumerate(patches):
            key = f"model.patches[{index}]"
            replacement = resolve(patch["replacement"], f"{key}.replacement")
            resolve(patch["target"], f"{key}.target")
            try:
                stack.enter_context(mock.patch(patch["target"], new=replacement))
            except (AttributeError, ImportError, TypeError, ValueError) as exc:
                raise ConfigError(
                    f"{key}.target",
                    f"cannot patch '{patch['target']}': {exc}",
                    "give 'package.module.Class.attribute' of an attribute that exists",
                ) from exc
        yield
