"""How many SMS a text costs: GSM 03.38 (7-bit) when every character fits, UCS-2 otherwise.

A single GSM-7 SMS carries 160 characters (153 per part once split, the rest is the concatenation
header); the extension table's characters (``^{}\\[~]|€``) take two septets. A UCS-2 SMS carries 70
characters (67 per part); characters outside the Basic Multilingual Plane (emoji) take two units.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = "^{}\\[~]|€\f"
_BASIC = frozenset(GSM7_BASIC)
_EXTENDED = frozenset(GSM7_EXTENDED)


@dataclass(frozen=True)
class SmsSegments:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    per_segment: int  # capacity of one part at this length (160/153 or 70/67)
    remaining: int  # units left in the last part


def sms_segments(text: str) -> SmsSegments:
    """The encoding, length and number of parts ``text`` is sent as (0 parts for an empty text)."""
    if all(char in _BASIC or char in _EXTENDED for char in text):
        units = sum(2 if char in _EXTENDED else 1 for char in text)
        encoding, single, multi = "GSM-7", 160, 153
    else:
        units = sum(2 if ord(char) > 0xFFFF else 1 for char in text)
        encoding, single, multi = "UCS-2", 70, 67
    if units == 0:
        return SmsSegments(encoding, 0, 0, single, single)
    per_segment = single if units <= single else multi
    segments = -(-units // per_segment)
    return SmsSegments(encoding, units, segments, per_segment, segments * per_segment - units)
