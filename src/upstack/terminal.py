"""Text made safe for a terminal: no escape sequences, no control characters.

A leaf module (no click, no store) so that capture can clean what it prints as well;
the CLI prints through upstack.cli.output, which uses it on every line.
"""

from __future__ import annotations

import re

__all__ = ["terminal_text"]

# Whole escape sequences go first, so that no parameter text of one is left on the screen:
# CSI (colours, cursor moves), OSC/DCS/SOS/PM/APC strings (window title, hyperlinks) up to their
# terminator or the line's end, other two-character escapes; then their 8-bit (C1) forms.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b[\]PX^_][^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?")
# Then any control character left: C0 except newline and tab (a carriage return could overwrite
# what a line showed), DEL and C1.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_text(text: str) -> str:
    """``text`` without terminal control sequences; Unicode, newlines and tabs stay.

    >>> terminal_text("a\\x1b]0;pwned\\x07b\\tc")
    'ab\\tc'
    """
    return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text))
