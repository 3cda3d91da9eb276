"""Declarative monkey-patches, applied with unittest.mock and always undone.

Scripting segment-anything by hand is usually done by patching library methods with
`mock.patch.object(...).__enter__()` and never leaving; here each patch lives only
inside the `with` block, also when the block raises.
"""

from __future__ import annotations

import types
from contextlib import ExitStack, contextmanager
from typing import Any, Iterator, Sequence
from unittest import mock

from converter.config.dotted_paths import resolve
from converter.config.schema import PatchConfig
from converter.errors import ConfigError


@contextmanager
def apply_patches(patches: Sequence[PatchConfig]) -> Iterator[None]:
    """Replace each `target` attribute by the object at `replacement` for the block's duration."""
    with ExitStack() as stack:
        for index, patch in enumerate(patches):
            key = f"model.patches[{index}]"
            replacement = resolve(patch.replacement, f"{key}.replacement")
            resolve(patch.target, f"{key}.target")
            replacement = named_like(replacement, patch.target.rsplit(".", 1)[-1])
            try:
                stack.enter_context(mock.patch(patch.target, new=replacement))
            except (AttributeError, ImportError, TypeError, ValueError) as exc:
                raise ConfigError(
                    f"{key}.target",
                    f"cannot patch '{patch.target}': {exc}",
                    "give 'package.module.Class.attribute' of an attribute that exists",
                ) from exc
        yield


def named_like(replacement: Any, attribute: str) -> Any:
    """A copy of a replacement function renamed to the attribute it replaces.

    TorchScript compiles a method called through `self.name(...)` under the function's own
    `__name__`; a replacement `pe_encoding` patched in as `_pe_encoding` and called from two
    places gets compiled twice and fails with "Can't redefine method". Non-functions pass through.
    """
    if not isinstance(replacement, types.FunctionType) or replacement.__name__ == attribute:
        return replacement
    clone = types.FunctionType(
        replacement.__code__, replacement.__globals__, attribute, replacement.__defaults__, replacement.__closure__
    )
    clone.__kwdefaults__ = replacement.__kwdefaults__
    clone.__annotations__ = dict(replacement.__annotations__)
    clone.__doc__ = replacement.__doc__
    clone.__module__ = replacement.__module__
    clone.__qualname__ = (
        replacement.__qualname__.rsplit(".", 1)[0] + "." + attribute if "." in replacement.__qualname__ else attribute
    )
    return clone
