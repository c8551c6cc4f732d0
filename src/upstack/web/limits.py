"""How many requests one member of a team server may have running at once.

The server runs handlers on a few threads (``create_app``'s ``threads``, 4 by default):
one member firing slow requests in parallel would hold all of them, and everyone else's
pages would wait. Each signed-in member holds at most ``user_requests`` (a setting, 2 by
default) requests at once; one more is answered at once with a 429 that says so, and
costs the server nothing but the sign-in. Requests by nobody in particular (the sign-in
page, static files) are not counted: they do little work. A member's file downloads
(``GET /a/ID``: the figures of a page, which a browser fetches six at a time) have a lane of
their own, ``FILE_REQUESTS`` wide, so a run page with many figures never refuses its own images.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

__all__ = ["UserSlots", "FILE_REQUESTS", "lane"]

FILE_REQUESTS = 6  # what a browser fetches at once from one server


def lane(request: Request) -> str:
    """Which of a member's lanes a request runs in: "files" (a download), or "" (everything else)."""
    return "files" if request.method in ("GET", "HEAD") and request.url.path.startswith("/a/") else ""


class UserSlots:
    """Running requests per member. Taken and given back on the event loop's one thread only
    (in the sign-in middleware), so no lock is needed: nothing awaits between a check and its count.

    Signing in costs a database look-up on a handler thread: a flood of requests that will be
    refused would queue everyone's sign-ins behind its own. So a credential (session or API token)
    that signed in is remembered with its member, and a request with it while that member is at
    the limit is refused before signing in. This only ever refuses sooner, never lets anyone in.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._held: dict[tuple[str, str], int] = {}  # (member, lane) -> requests running
        self._members: dict[str, str] = {}  # credential -> member, for credentials that signed in

    def remember(self, credential: str, user_id: str) -> None:
        if len(self._members) >= 100_000:  # bounded: only credentials that signed in are kept
            self._members.clear()
        self._members[credential] = user_id

    def _limit(self, lane: str) -> int:
        return FILE_REQUESTS if lane == "files" else self.limit

    def full(self, credential: str, lane: str = "") -> bool:
        """Whether ``credential`` signed in before as a member who has their lane's limit running."""
        user_id = self._members.get(credential)
        return user_id is not None and self._held.get((user_id, lane), 0) >= self._limit(lane)

    def take(self, user_id: str, lane: str = "") -> bool:
        """One more running request for ``user_id``; False (nothing taken) if they have the limit."""
        held = self._held.get((user_id, lane), 0)
        if held >= self._limit(lane):
            return False
        self._held[(user_id, lane)] = held + 1
        return True

    def give_back(self, user_id: str, lane: str = "") -> None:
        held = self._held.get((user_id, lane), 0) - 1
        if held > 0:
            self._held[(user_id, lane)] = held
        else:
            self._held.pop((user_id, lane), None)

    def running(self, user_id: str, lane: str = "") -> int:
        return self._held.get((user_id, lane), 0)

    def refusal(self, request: Request) -> Response:
        """The 429: one line, and when to try again (a second: the limit is on running requests)."""
        message = (f"you have {self.limit} requests running on this server already, the most one member may "
                   "have at once (setting user_requests); try again when one has finished")
        headers = {"Retry-After": "1"}
        if request.url.path.endswith(".json") or "application/json" in request.headers.get("accept", "") \
                or request.headers.get("authorization"):
            return JSONResponse({"error": message}, status_code=429, headers=headers)
        return PlainTextResponse(f"upstack: {message}\n", status_code=429, headers=headers)
