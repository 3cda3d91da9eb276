"""A model library's own output types (transformers' KV caches), behind one small hook.

The engine never imports a model library. `registry/library_support/` holds one module per
library that has types of its own, each with two functions:

- `types_registered()`: a context manager during which the library's output objects are
  pytree nodes, so torch.export (and the targets built on its program) carries them and
  validation compares their tensors; the registration is undone on exit, so it never leaks
  into the next job run in the same process.
- `output_fix(loader)`: the override that keeps such objects out of the output, given the
  job's `model.loader` mapping (None when the loader gives no handle for it).
- `load_fix(loader, message)`: the override that fixes the library's refusal to build the model
  from these loader arguments (None when it knows no fix).
"""

from __future__ import annotations

import importlib
from contextlib import ExitStack, contextmanager
from typing import Any, Iterator, Mapping, Optional, Sequence

SUPPORT_PACKAGE = "registry.library_support"


def _support(library: str) -> Optional[Any]:
    try:
        return importlib.import_module(f"{SUPPORT_PACKAGE}.{library}")
    except ModuleNotFoundError as exc:
        if exc.name in (f"{SUPPORT_PACKAGE}.{library}", SUPPORT_PACKAGE):
            return None  # the library has no types of its own to support
        raise


@contextmanager
def types_registered(libraries: Sequence[Optional[str]]) -> Iterator[None]:
    """The named libraries' output types registered for the block (nothing for libraries without support)."""
    with ExitStack() as stack:
        for library in dict.fromkeys(filter(None, libraries)):
            support = _support(library)
            if support is not None:
                stack.enter_context(support.types_registered())
        yield


def output_fix(library: Optional[str], loader: Mapping[str, Any]) -> Optional[str]:
    """The library's override that drops its objects from the output, if it has one for this loader."""
    support = _support(library) if library else None
    return support.output_fix(loader) if support is not None else None


def load_fix(library: Optional[str], loader: Mapping[str, Any], message: str) -> Optional[str]:
    """The library's override for a model it refused to build from these loader arguments, if it knows one."""
    support = _support(library) if library else None
    return support.load_fix(loader, message) if support is not None else None
