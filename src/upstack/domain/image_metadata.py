"""A picture's bytes without what the camera or the editor wrote about it (EXIF, XMP, text chunks):
where and when it was taken, the device, the author's name. The pixels are left as they were, so
nothing is decoded or encoded again (no image library needed).

JPEG: the APP1..APP13 and APP15 segments and comments go (APP0, JFIF, and APP14, Adobe's colour
transform, stay: the picture needs them). PNG: eXIf, tEXt, zTXt, iTXt and tIME chunks go. WebP: its
EXIF and XMP chunks go, and the header's flags say so. Any other format is returned as it is.
"""

from __future__ import annotations

import struct

__all__ = ["strip_metadata"]

_PNG = b"\x89PNG\r\n\x1a\n"
_PNG_DROPPED = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}


def _jpeg(data: bytes) -> bytes:
    out = bytearray(data[:2])
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return data  # not a segment where one should be: leave the file alone rather than break it
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA:  # start of scan: the picture itself, to the end
            out += data[pos:]
            return bytes(out)
        if 0xD0 <= marker <= 0xD9 or marker == 0x01:  # markers with no length
            out += data[pos:pos + 2]
            pos += 2
            continue
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        segment = data[pos:pos + 2 + length]
        if not ((0xE1 <= marker <= 0xEF and marker != 0xEE) or marker == 0xFE):
            out += segment
        pos += 2 + length
    return bytes(out)


def _png(data: bytes) -> bytes:
    out = bytearray(_PNG)
    pos = len(_PNG)
    while pos + 12 <= len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        kind = data[pos + 4:pos + 8]
        chunk = data[pos:pos + 12 + length]
        if kind not in _PNG_DROPPED:
            out += chunk
        pos += 12 + length
        if kind == b"IEND":
            break
    return bytes(out)


def _webp(data: bytes) -> bytes:
    chunks = bytearray()
    pos = 12
    while pos + 8 <= len(data):
        kind = data[pos:pos + 4]
        size = struct.unpack("<I", data[pos + 4:pos + 8])[0]
        chunk = bytearray(data[pos:pos + 8 + size + (size & 1)])
        if kind == b"VP8X" and len(chunk) > 8:
            chunk[8] &= ~(0x08 | 0x04) & 0xFF  # no EXIF, no XMP
        if kind not in (b"EXIF", b"XMP "):
            chunks += chunk
        pos += 8 + size + (size & 1)
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WEBP" + bytes(chunks)


def strip_metadata(data: bytes) -> bytes:
    """``data`` (a picture's file) without its metadata; a format not known here is returned as it is."""
    if data[:3] == b"\xff\xd8\xff":
        return _jpeg(data)
    if data[:8] == _PNG:
        return _png(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    return data
