"""The one family of errors a person may see, each with a one-line message."""

from __future__ import annotations

__all__ = ["UpstackError", "NotFound", "Ambiguous", "BadInput", "NewerVersion"]


class UpstackError(Exception):
    """An error caused by input or state a person can fix; printed as one line, exit 1."""

    exit_code = 1


class NotFound(UpstackError):
    pass


class Ambiguous(UpstackError):
    pass


class BadInput(UpstackError):
    pass


class NewerVersion(UpstackError):
    pass
