"""Sizes and ages as people write them ("2G", "30d") and read them ("1.5 GB").

Apart from the cache so that reading the settings file (`digest normalize` does)
does not import the clip cache and everything it stands on.
"""

from __future__ import annotations

import re

from digest.lazy_patterns import lazy_re

_SIZE = lazy_re(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", re.I)
_AGE = lazy_re(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", re.I)


def parse_size(text: str) -> int:
    """'2G', '500M', '750k', '1.5GB', '1024' (bytes) -> bytes (binary units)."""
    match = _SIZE.fullmatch(text)
    if not match:
        raise ValueError(f"{text!r} is not a size such as 500M or 2G")
    power = " kmgt".index(match.group(2).lower() or " ")
    return int(float(match.group(1)) * 1024**power)


def parse_age(text: str) -> float:
    """'30d', '12h', '2w', '90m', '45s' -> seconds."""
    match = _AGE.fullmatch(text)
    if not match:
        raise ValueError(f"{text!r} is not an age such as 30d or 12h")
    unit = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[match.group(2).lower()]
    return float(match.group(1)) * unit


def format_size(size: int) -> str:
    """Bytes for people: 1.5 GB, 320 MB, 12 kB."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"
