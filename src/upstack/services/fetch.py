"""One fetch of an address a person gave (a feed to import opportunities from), kept on a short leash.

http and https only, also after a redirect (never file:, ftp:, data:); a few redirects at most; the
whole fetch bounded by ``timeout`` (each wait on the network, and the download as a whole, so a server
that drips a byte at a time cannot hold it); at most ``max_bytes`` read, so a huge or endless answer is
refused rather than read into memory. Every failure is a ``BadInput`` of one line naming the address.
"""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request
from typing import IO, Any
from urllib.parse import urlsplit

from upstack.errors import BadInput

__all__ = ["fetch", "USER_AGENT", "MAX_REDIRECTS"]

USER_AGENT = "upstack (a research log, fetching a feed its user asked for)"
MAX_REDIRECTS = 5
_WEB = ("http", "https")
_CHUNK = 64 * 1024
_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"


class _Redirects(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: Any, newurl: str) -> urllib.request.Request | None:
        if urlsplit(newurl).scheme not in _WEB:
            fp.close()
            raise BadInput(f"{req.full_url} redirects to {newurl!r}: only http and https addresses are fetched")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener() -> urllib.request.OpenerDirector:
    # Built by hand: build_opener would add the file:, ftp: and data: handlers this must never use.
    opener = urllib.request.OpenerDirector()
    for handler in (urllib.request.ProxyHandler(), urllib.request.HTTPHandler(), urllib.request.HTTPSHandler(),
                    _Redirects(), urllib.request.HTTPDefaultErrorHandler(), urllib.request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    return opener


def fetch(url: str, *, timeout: float = 10.0, max_bytes: int = 5_000_000) -> bytes:
    """The body ``url`` answers with: one GET, following at most ``MAX_REDIRECTS`` redirects.

    >>> fetch("file:///etc/passwd")
    Traceback (most recent call last):
    ...
    upstack.errors.BadInput: 'file:///etc/passwd' is not a web address: only http:// and https:// addresses are fetched
    """
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in _WEB:
        raise BadInput(f"{url!r} is not a web address: only http:// and https:// addresses are fetched")
    if not parts.hostname:
        raise BadInput(f"{url!r} names no host")
    request = urllib.request.Request(url.strip(), headers={"User-Agent": USER_AGENT, "Accept": _ACCEPT})
    deadline = time.monotonic() + timeout
    try:
        with _opener().open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise BadInput(f"{url} is larger than {_size(max_bytes)} ({_size(int(length))})")
            return _read(url, response, deadline, timeout, max_bytes)
    except urllib.error.HTTPError as exc:
        exc.close()
        if 300 <= exc.code < 400:
            where = str(exc.filename or "")
            if where and urlsplit(where).scheme not in _WEB:
                raise BadInput(f"{url} redirects to {where!r}: only http and https addresses are fetched") from None
            raise BadInput(f"{url} redirects more than {MAX_REDIRECTS} times (or in a loop)") from None
        raise BadInput(f"{url} answered HTTP {exc.code} {exc.reason}".rstrip()) from None
    except TimeoutError:
        raise BadInput(f"{url} did not answer within {timeout:g} s") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise BadInput(f"{url} did not answer within {timeout:g} s") from None
        raise BadInput(f"could not fetch {url}: {_one_line(exc.reason)}") from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise BadInput(f"could not fetch {url}: {_one_line(exc)}") from None


def _read(url: str, response: Any, deadline: float, timeout: float, max_bytes: int) -> bytes:
    """At most ``max_bytes`` (one more byte says there was more), by ``deadline``."""
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read1(_CHUNK):  # read1: one wait on the socket, so the deadline is checked often
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise BadInput(f"{url} is larger than {_size(max_bytes)}")
        if time.monotonic() > deadline:
            raise TimeoutError
    return b"".join(chunks)


def _size(count: int) -> str:
    for unit, scale in (("MB", 1_000_000), ("kB", 1_000)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count:,} bytes"


def _one_line(reason: object) -> str:
    text = str(reason).strip() or type(reason).__name__
    return text.splitlines()[0]
