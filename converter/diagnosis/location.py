"""Where a failure is, in the model's own code or its library's: never a torch internal frame.

A traceback of a torch.export or TorchScript failure is mostly torch's own frames; the line
that matters is quoted in the message (Dynamo's "from user code:" block, TorchScript's
`File "...", line N` with a caret) or is the deepest frame outside torch, converter and the
standard library. A crashed child leaves faulthandler's stack in its log instead.
"""

from __future__ import annotations

import linecache
import re
import sysconfig
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

Frame = Tuple[str, int]

_FILE_LINE = re.compile(r'File "([^"]+)", line (\d+)')
# Dynamo's one-line cause: "Caused by: if int(token) == self.eos:  # registry/gpt2.py:50 in forward"
_CAUSED_BY = re.compile(r"Caused by: .*?# (\S+?\.py):(\d+) in ")
_ENGINE_DIR = str(Path(__file__).resolve().parents[1])
_STDLIB = sysconfig.get_paths()["stdlib"]
_INTERNAL_PARTS = ("/torch/", "/hydra/", "/omegaconf/", "/_pytest/", "/pluggy/", "/functorch/")


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    source: str

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" + (f" ({self.source})" if self.source else "")


def is_internal(path: str) -> bool:
    """torch, converter itself, Hydra and the standard library: never the culprit's line."""
    if path.startswith("<") or path.startswith(_ENGINE_DIR + "/"):
        return True
    if path.startswith(_STDLIB) and "site-packages" not in path:
        return True
    return any(part in path for part in _INTERNAL_PARTS)


def locate(message: str, frames: Sequence[Frame] = (), log_tail: Iterable[str] = ()) -> Optional[Location]:
    """The first place in the model's or its library's code, in the order the evidence is best."""
    for candidate in (_from_user_stack(message), _from_caused_by(message), _first_quoted(message)):
        if candidate:
            return candidate
    for path, line in reversed(list(frames)):  # the deepest frame outside torch
        if not is_internal(path):
            return location_at(path, line)
    return _from_faulthandler(log_tail)


def traceback_frames(exc: BaseException) -> List[Frame]:
    """Every frame of the exception and the ones it was raised from, outermost first."""
    import traceback

    chain: List[BaseException] = []
    current: Optional[BaseException] = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    frames: List[Frame] = []
    for item in reversed(chain):  # the root cause's frames are the deepest
        frames.extend((f.filename, f.lineno or 0) for f in traceback.extract_tb(item.__traceback__))
    return frames


def _from_user_stack(message: str) -> Optional[Location]:
    for marker in ("from user code:", "User Stack (most recent call last):", "User stack:"):
        if marker in message:
            block = message.split(marker, 1)[1]
            found = [(p, int(n)) for p, n in _FILE_LINE.findall(block) if not is_internal(p)]
            if found:
                return location_at(*found[-1])
    return None


def _from_caused_by(message: str) -> Optional[Location]:
    match = _CAUSED_BY.search(message)
    return location_at(match.group(1), int(match.group(2))) if match else None


def _first_quoted(message: str) -> Optional[Location]:
    """TorchScript names the construct first ("pad_hw is not defined ...: File ..., line 170")."""
    for path, number in _FILE_LINE.findall(message):
        if not is_internal(path):
            return location_at(path, int(number))
    return None


def _from_faulthandler(lines: Iterable[str]) -> Optional[Location]:
    """faulthandler prints the most recent call first: `File "x.py", line 27 in forward`."""
    for line in lines:
        match = _FILE_LINE.search(line)
        if match and not is_internal(match.group(1)):
            return location_at(match.group(1), int(match.group(2)))
    return None


def location_at(path: str, line: int) -> Location:
    """The place, with its source line when the file is readable."""
    return Location(file=path, line=line, source=linecache.getline(path, line).strip())
