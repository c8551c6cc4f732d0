"""File names that came from someone else (an upload, a pushed record, an import): made safe to show and to
write, wherever they are used."""

from __future__ import annotations

import unicodedata

__all__ = ["attachment_name"]

_LONGEST = 120
_BYTES = 200


def attachment_name(filename: object) -> str:
    """The last part of a file name, with no folder, no leading dot and nothing a shell, a terminal
    or a browser would trip on; "file" if nothing is left.

    >>> attachment_name("../../etc/passwd")
    'passwd'
    >>> attachment_name("C:\\\\Users\\\\me\\\\loss curve.png")
    'loss curve.png'
    """
    text = unicodedata.normalize("NFC", str(filename))
    base = text.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".")
    cleaned = "".join(c if c.isalnum() or c in "._- " else "_" for c in base)[:_LONGEST].strip()
    while len(cleaned.encode("utf-8")) > _BYTES:  # file systems count bytes: 3 per CJK character
        cleaned = cleaned[:-1].rstrip()
    return cleaned or "file"
