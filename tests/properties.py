"""The decoding property shared by the hypothesis tests and the fuzz targets."""

from __future__ import annotations

import math
import struct
from typing import Any


def decodes_exactly_or_rejects(codec: Any, error_type: type[Exception], body: bytes) -> None:
    """Decoding arbitrary bytes either returns a value whose encoding is exactly the bytes it
    consumed, or raises ``error_type`` (XdrError); any other exception escapes as a failure."""
    try:
        value, end = codec.decode_from(body)
    except error_type:
        return
    again = codec.encode(value)
    if again != body[:end] and not _differ_only_in_nans(again, body[:end]):
        raise AssertionError(f"{codec.name}: decoded {body[:end].hex()} re-encodes as {again.hex()}")


def _differ_only_in_nans(a: bytes, b: bytes) -> bool:
    """A float NaN keeps being NaN through Python's float, but not always its payload bits."""
    if len(a) != len(b):
        return False
    for i in range(0, len(a), 4):
        if a[i : i + 4] != b[i : i + 4] and not (_nan_at(a, i) and _nan_at(b, i)):
            return False
    return True


def _nan_at(data: bytes, i: int) -> bool:
    """Whether the 4-byte word at ``i`` is, or is part of, an encoded float or double NaN."""
    if math.isnan(struct.unpack_from(">f", data, i)[0]):
        return True
    return any(0 <= s <= len(data) - 8 and math.isnan(struct.unpack_from(">d", data, s)[0]) for s in (i - 4, i))
