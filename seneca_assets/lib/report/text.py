"""Text for the report: escaping, numbers, times and tags, formatted for people."""

from __future__ import annotations

import html
import json
import math
from datetime import datetime

MISSING = "\u2013"
"""An en dash for a value that is not there."""
_SUFFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def _suffix(size: float) -> tuple[float, str]:
    """The thousands suffix for numbers of this size: plain up to 9,999, then k, M, G, T."""
    return next(((s, n) for s, n in _SUFFIXES if size >= (1e4 if n == "k" else s)), (1.0, ""))


def esc(value: object) -> str:
    """Any value as HTML text, escaped (quotes too, so it is safe in attributes)."""
    return html.escape(str(value), quote=True)


def _finite(value: object) -> float | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return None if math.isnan(number) else number


def number(value: object, digits: int = 3) -> str:
    """A number with about `digits` significant digits, whatever its unit: 0.0123, 45.6, 12.3k."""
    x = _finite(value)
    if x is None:
        return MISSING
    if math.isinf(x):
        return "\u221e" if x > 0 else "\u2212\u221e"
    if x == 0:
        return "0"
    if 1 <= abs(x) < 1e4:  # whole numbers below 10,000 keep all their digits
        digits = max(digits, math.floor(math.log10(abs(x))) + 1)
    x = float(f"{x:.{digits}g}")  # rounded first: 999,999 is 1M, not 1000k
    size = abs(x)
    if size >= 1e15 or size < 1e-4:
        return f"{x:.{digits - 1}e}"
    scale, suffix = _suffix(size)
    decimals = max(0, digits - 1 - math.floor(math.log10(size / scale)))
    return _trim(f"{x / scale:,.{decimals}f}") + suffix


def _trim(text: str) -> str:
    """Without trailing zeros after a decimal point."""
    return text.rstrip("0").rstrip(".") if "." in text else text


def decimals_for(step: float) -> int:
    """Decimals that tell apart values `step` apart (for axis ticks)."""
    if step <= 0 or not math.isfinite(step):
        return 0
    return max(0, -math.floor(math.log10(step) + 1e-9))


def ticks(values: list[float], step: float) -> list[str]:
    """Axis labels: the same decimals and the same k, M, ... for every tick; -0 as 0."""
    scale, suffix = _suffix(max([abs(v) for v in values] + [step]))
    decimals = decimals_for(step / scale)
    labels = []
    for value in values:
        text = f"{value / scale:.{decimals}f}"
        labels.append("0" if float(text) == 0 else text + suffix)
    return labels


def share(value: object) -> str:
    """A fraction as a percentage: 0.123 -> 12.3%."""
    x = _finite(value)
    return MISSING if x is None else f"{x:.1%}"


def signed_share(value: object) -> str:
    """A relative change: +1.23%."""
    x = _finite(value)
    return MISSING if x is None else f"{x:+.2%}"


def p_value(value: object) -> str:
    """A p-value: three decimals, or below 0.001."""
    x = _finite(value)
    if x is None:
        return MISSING
    return "< 0.001" if x < 0.001 else f"{x:.3f}"


def moment(value: datetime | None, *, hour: bool = True) -> str:
    """A UTC time: 2026-11-03 14:00 UTC (or the date alone)."""
    if value is None:
        return MISSING
    return value.strftime("%Y-%m-%d %H:%M UTC" if hour else "%Y-%m-%d")


def tag_pairs(tags: str) -> list[tuple[str, str]]:
    """The tags' JSON text as (key, value) pairs; unparsable text as one pair without a key."""
    try:
        parsed = json.loads(tags)
    except (TypeError, ValueError):
        return [("", str(tags))]
    if not isinstance(parsed, dict):
        return [("", str(tags))]
    return [(str(k), v if isinstance(v, str) else json.dumps(v)) for k, v in parsed.items()]


def tags_text(tags: str) -> str:
    """Tags as plain text, `agent=agent-3, tool=ping` (not escaped)."""
    return ", ".join(f"{k}={v}" if k else v for k, v in tag_pairs(tags))


def tags_html(tags: str) -> str:
    """Tags as small labels, escaped; `no tags` for none."""
    pairs = tag_pairs(tags)
    if not pairs:
        return '<span class="muted">no tags</span>'
    return " ".join(f'<span class="tag">{esc(f"{k}={v}" if k else v)}</span>' for k, v in pairs)
