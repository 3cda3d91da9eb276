"""The little SVG converter's charts are made of: an axis of round numbers, and the document.

Writing it takes microseconds; importing matplotlib's pyplot took half a second of every job's
benchmark and of every sweep's end. The pictures are bars, ticks and labels, which need no
plotting library, and an SVG reads the same in a browser, in report.html and in MLflow's viewer.
"""

from __future__ import annotations

import html
import math
from typing import List

SVG_NAMESPACE = "http://www.w3.org/2000/svg"


def whole_number_ticks(highest: int, most: int = 6) -> List[int]:
    """0 to at least `highest` in equal whole steps, at most `most` + 1 ticks: a count axis."""
    step = max(1, math.ceil(highest / most))
    return list(range(0, step * max(1, math.ceil(highest / step)) + 1, step))


def round_ticks(highest: float, most: int = 6) -> List[float]:
    """0 to at least `highest` in steps of 1, 2 or 5 times a power of ten: a measurement axis."""
    if not highest > 0:
        return [0.0, 1.0]
    raw = highest / most
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    count = math.ceil(highest / step - 1e-9)
    return [round(i * step, 12) for i in range(count + 1)]


def text(value: object) -> str:
    """Text and attribute values, escaped."""
    return html.escape(str(value))


def document(width: int, height: int, parts: List[str], label: str, standalone: bool, css_class: str) -> str:
    """The <svg> element around `parts`. `standalone`: a file (with its namespace, as an image
    viewer needs); otherwise an element to inline in HTML."""
    namespace = f' xmlns="{SVG_NAMESPACE}"' if standalone else ""
    head = (
        f'<svg{namespace} class="{css_class}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{text(label)}" font-family="sans-serif" font-size="12">'
    )
    return "\n".join([head, f'<rect width="{width}" height="{height}" fill="#ffffff"/>', *parts, "</svg>"])
