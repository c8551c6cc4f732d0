"""The app's routes, one module per page family."""

from __future__ import annotations

from upstack.web.routes import entries, ideas, review, runs, search, timeline, tree

ROUTERS = [timeline.router, entries.router, search.router, tree.router, ideas.router, runs.router, review.router]

__all__ = ["ROUTERS"]
