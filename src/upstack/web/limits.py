"""What one member of a team server may ask of it: requests at once, and seconds of work.

The server runs handlers on a few threads (``create_app``'s ``threads``, 4 by default):
one member firing slow requests in parallel would hold all of them, and everyone else's
pages would wait. So each signed-in member holds at most ``user_requests`` (a setting, 2 by
default) requests at once; one more is answered with a 429 that says so, and costs the
server nothing but the sign-in. Requests by nobody in particular (the sign-in
page, static files) are not counted: they do little work. What a page fetches once it is
loaded (``GET /a/ID``, its figures, and ``/runs/ID/series.json``, its charts' points: a browser
fetches six at a time) has a lane of its own, ``FILE_REQUESTS`` wide, so a run page with many
figures and charts never refuses its own.

Two requests at once are still two of a small server's cores, kept busy back to back by
someone who sends the costliest searches the limits allow. So each member also has a share
of the server's time: their requests may take ``user_seconds`` (a setting, 2 by default) of
work in any ``WINDOW`` seconds. It is a token bucket: it holds ``user_seconds`` and refills at
``user_seconds / WINDOW`` a second, so a burst of clicks never waits, and a member who used up
their share is answered 429 with the seconds until it refills (``Retry-After``), which
``upstack sync`` and live runs wait out. A person reading pages uses a few percent of it.
Every 429 is answered ``REFUSAL_PAUSE`` after its request came (web/auth.py): a client asking
again the moment it is refused, from many threads, would otherwise keep the server busy doing
nothing but refusing it (bench/bench_attack.py, SQLite, a share of a tenth: other members' pages
were 1.7-2.0x slower under 16 threads of refused requests, 0.9-1.2x with the pause).

A request's work is counted from when it starts working for a member to when it is answered
(``web.app.charged``, through ``workspace`` or directly), in the server's own time as processor
sharing sees it: while N requests run, each gets 1/N of the server, so a second of them running
together counts as 1/N second of each one's work (``_Clock``). A request slowed down by someone
else's is not charged for their work, or one member's attack would use up everyone's share.
One core, not the machine's: Python runs one thread at a time (the GIL), and much of a page's
work is Python; where two really run at once (SQLite releases the GIL) each is undercharged,
never a bystander overcharged.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

__all__ = ["UserSlots", "FILE_REQUESTS", "WINDOW", "REFUSAL_PAUSE", "lane"]

FILE_REQUESTS = 6  # what a browser fetches at once from one server
WINDOW = 10.0  # seconds over which a member's share of the server's time is counted
REFUSAL_PAUSE = 1.0  # seconds a 429 is held back (web/auth.py): a client asking again at once asks once a second


def lane(request: Request) -> str:
    """Which of a member's lanes a request runs in: "files" (what a page fetches once it is loaded: a
    figure, a chart's points), or "" (everything else)."""
    path = request.url.path
    fetched = path.startswith("/a/") or (path.startswith("/runs/") and path.endswith("/series.json"))
    return "files" if request.method in ("GET", "HEAD") and fetched else ""


class _Clock:
    """Seconds of work one request gets while others run beside it: time advances at
    ``min(1, cores / running)`` of the wall clock. Called under the owner's lock."""

    def __init__(self, cores: int, wall: Callable[[], float] = time.monotonic) -> None:
        self.cores = max(1, cores)
        self.running = 0
        self._wall = wall
        self._work = 0.0  # seconds of one request's work since the clock started
        self._at = wall()

    def now(self) -> float:
        at = self._wall()
        self._work += (at - self._at) * min(1.0, self.cores / self.running) if self.running else 0.0
        self._at = at
        return self._work


class UserSlots:
    """Running requests and seconds of work, per member.

    Requests are taken and given back on the event loop's one thread only (in the sign-in
    middleware), so their counts need no lock: nothing awaits between a check and its count.
    Seconds are charged from the handler threads, under ``_lock``.

    Signing in costs a database look-up on a handler thread: a flood of requests that will be
    refused would queue everyone's sign-ins behind its own. So a credential (session or API token)
    that signed in is remembered with its member, and a request with it while that member is at
    a limit is refused before signing in. This only ever refuses sooner, never lets anyone in.
    """

    def __init__(self, limit: int, seconds: float = 5.0, cores: int = 1) -> None:
        self.limit = limit
        self.seconds = seconds
        self._clock = _Clock(cores)
        self._held: dict[tuple[str, str], int] = {}  # (member, lane) -> requests running
        self._members: dict[str, str] = {}  # credential -> member, for credentials that signed in
        self._left: dict[str, tuple[float, float]] = {}  # member -> (seconds left, when counted)
        self._lock = threading.Lock()

    def remember(self, credential: str, user_id: str) -> None:
        if len(self._members) >= 100_000:  # bounded: only credentials that signed in are kept
            self._members.clear()
        self._members[credential] = user_id

    def _limit(self, lane: str) -> int:
        return FILE_REQUESTS if lane == "files" else self.limit

    # -- seconds of work ------------------------------------------------------------------------
    def _seconds_left(self, user_id: str, now: float) -> float:
        left, counted = self._left.get(user_id, (self.seconds, now))
        return min(self.seconds, left + (now - counted) * self.seconds / WINDOW)

    def working(self) -> float:
        """A request begins its work (from any thread): the mark to give ``worked``."""
        with self._lock:
            mark = self._clock.now()
            self._clock.running += 1
            return mark

    def worked(self, mark: float, user_id: str | None) -> None:
        """The request begun at ``mark`` is done; its work is charged to ``user_id`` (None: nobody's)."""
        with self._lock:
            seconds = self._clock.now() - mark
            self._clock.running -= 1
        if user_id is not None:
            self.charge(user_id, seconds)

    def charge(self, user_id: str, seconds: float) -> None:
        """``seconds`` of work done for ``user_id`` (from any thread)."""
        with self._lock:
            now = time.monotonic()
            left = self._seconds_left(user_id, now) - seconds
            if left >= self.seconds:
                self._left.pop(user_id, None)  # a full share is the default: nothing to keep
            else:
                self._left[user_id] = (left, now)

    def wait(self, user_id: str) -> float:
        """Seconds until ``user_id`` has some of their share back (0: they have some now)."""
        with self._lock:
            left = self._seconds_left(user_id, time.monotonic())
        return 0.0 if left > 0 else -left * WINDOW / self.seconds + 0.001

    # -- requests at once -----------------------------------------------------------------------
    def full(self, credential: str, lane: str = "") -> bool:
        """Whether ``credential`` signed in before as a member at a limit: their lane's requests
        running, or their share of the server's time used up."""
        user_id = self._members.get(credential)
        return user_id is not None and (self._held.get((user_id, lane), 0) >= self._limit(lane)
                                        or self.wait(user_id) > 0)

    def take(self, user_id: str, lane: str = "") -> bool:
        """One more running request for ``user_id``; False (nothing taken) if they are at a limit."""
        held = self._held.get((user_id, lane), 0)
        if held >= self._limit(lane) or self.wait(user_id) > 0:
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

    def refusal(self, request: Request, credential: str) -> Response:
        """The 429 for a signed-in ``credential``: one line, and when to try again (``Retry-After``)."""
        user_id = self._members.get(credential)
        wait = self.wait(user_id) if user_id else 0.0
        if wait > 0:
            message = (f"your requests have taken {self.seconds:g} seconds of this server's work in the last "
                       f"{WINDOW:g}, the most one member may (setting user_seconds); try again in "
                       f"{math.ceil(wait)} s")
        else:
            message = (f"you have {self.limit} requests running on this server already, the most one member may "
                       "have at once (setting user_requests); try again when one has finished")
        headers = {"Retry-After": str(max(1, math.ceil(wait)))}
        if request.url.path.endswith(".json") or "application/json" in request.headers.get("accept", "") \
                or request.headers.get("authorization"):
            return JSONResponse({"error": message}, status_code=429, headers=headers)
        return PlainTextResponse(f"upstack: {message}\n", status_code=429, headers=headers)
