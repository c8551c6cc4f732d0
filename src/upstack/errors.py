"""The one family of errors a person may see, each with a one-line message."""

from __future__ import annotations

__all__ = ["UpstackError", "clipped", "NotFound", "Ambiguous", "BadInput", "BadSetting", "NewerVersion", "Forbidden",
           "Unauthorized", "TooManyAttempts", "Refused", "OverQuota"]


class UpstackError(Exception):
    """An error caused by input or state a person can fix; printed as one line, exit 1.

    ``http_status`` is what the web answers it with (a page or JSON saying the line).
    """

    exit_code = 1
    http_status = 400

    def __init__(self, message: object = "", *rest: object) -> None:
        super().__init__(clipped(str(message)), *rest)


LONGEST = 400  # characters of a message's line: it echoes what was typed or sent, which may be anything


def clipped(message: str) -> str:
    """A message with each of its lines kept to about ``LONGEST`` characters: a line's start and its end
    (which often says what to do), with how much was left out between them.

    >>> shown = clipped("no entry with id '" + "a" * 1000 + "'")
    >>> len(shown), "…(639 characters)…" in shown
    (398, True)
    """
    return "\n".join(line if len(line) <= LONGEST else f"{line[:300]}…({len(line) - 380:,} characters)…{line[-80:]}"
                     for line in message.split("\n"))


class NotFound(UpstackError):
    http_status = 404


class Ambiguous(UpstackError):
    """An id prefix that more than one thing has (HTTP 409)."""

    http_status = 409


class BadInput(UpstackError):
    pass


class BadSetting(BadInput):
    """A setting's value is not what it must be (upstack.settings); the message names the setting
    and where the value came from: its environment variable, the config file, or an argument."""

    def __init__(self, message: str, *, setting: str, source: str) -> None:
        super().__init__(message)
        self.setting = setting
        self.source = source


class NewerVersion(UpstackError):
    pass


class Forbidden(UpstackError):
    """Signed in, but this user's role does not allow it (HTTP 403)."""

    http_status = 403


class Unauthorized(UpstackError):
    """Not signed in, or the credentials are wrong (HTTP 401)."""

    http_status = 401


class TooManyAttempts(UpstackError):
    """Too many failed sign-ins in a short time (HTTP 429)."""

    http_status = 429


class OverQuota(UpstackError):
    """More than a team server lets one member store or send (HTTP 413)."""

    http_status = 413


class Refused(UpstackError):
    """A server refused a request as malformed or not allowed (an HTTP 4xx answer): sending it
    again would not help. ``reason`` is the server's own words."""

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message
